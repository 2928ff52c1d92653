// Roles through twilio-node: client.conversations.v1.roles (the default
// service) and client.conversations.v1.services(sid).roles.

import {
  SID,
  assert,
  expectDate,
  expectHTTP,
  expectRestError,
  expectURL,
  forEachScope,
  plain,
  run,
  setup,
  sorted,
  step,
} from "./lib.mjs";

const { env, v1 } = setup();

function checkRole(s, r, want, what) {
  assert.match(r.sid, SID.role, `${what}: sid`);
  assert.deepEqual(
    {
      accountSid: r.accountSid,
      chatServiceSid: r.chatServiceSid,
      friendlyName: r.friendlyName,
      type: r.type,
      permissions: sorted(r.permissions),
    },
    {
      accountSid: env.accountSid,
      chatServiceSid: s.serviceSid,
      friendlyName: want.friendlyName,
      type: want.type,
      permissions: sorted(want.permissions),
    },
    `${what}: fields`,
  );
  expectDate(r.dateCreated, `${what}: dateCreated`);
  expectDate(r.dateUpdated, `${what}: dateUpdated`);
  expectURL(env, r.url, `${s.prefix}/Roles/${r.sid}`, `${what}: url`);
}

function notFound(s, key) {
  return {
    status: 404,
    code: 20404,
    message: `The requested resource ${s.prefix.replace(/^\/v1/, "")}/Roles/${key} was not found`,
  };
}

const PERMISSION_NOT_FOUND = { status: 400, code: 50104, message: "Permission not found" };

async function suite(s) {
  let defaults;
  await step(`${s.label}: the four default roles`, async () => {
    defaults = await s.roles.list();
    assert.deepEqual(
      sorted(defaults.map((r) => `${r.friendlyName}/${r.type}`)),
      ["channel admin/conversation", "channel user/conversation", "service admin/service", "service user/service"],
    );
    for (const r of defaults) checkRole(s, r, r, `default role ${r.friendlyName}`);
  });

  let svcRole, convRole;
  await step(`${s.label}: create and fetch`, async () => {
    const svcWant = {
      friendlyName: "sdk moderator",
      type: "service",
      permissions: ["editAnyUserInfo", "deleteAnyMessage", "createConversation"],
    };
    svcRole = await s.roles.create({
      friendlyName: svcWant.friendlyName,
      type: svcWant.type,
      permission: svcWant.permissions,
    });
    checkRole(s, svcRole, svcWant, "create service role");
    const convWant = {
      friendlyName: "sdk talker",
      type: "conversation",
      permissions: ["sendMessage", "sendMediaMessage", "leaveConversation", "deleteOwnMessage"],
    };
    convRole = expectHTTP(await s.roles.createWithHttpInfo({
      friendlyName: convWant.friendlyName,
      type: convWant.type,
      permission: convWant.permissions,
    }), 201, "create conversation role");
    checkRole(s, convRole, convWant, "create conversation role");
    assert.deepEqual(plain(await s.roles(svcRole.sid).fetch()), plain(svcRole), "fetch service role");
    assert.deepEqual(plain(await s.roles(convRole.sid).fetch()), plain(convRole), "fetch conversation role");
  });

  await step(`${s.label}: update replaces the permissions`, async () => {
    const got = expectHTTP(await s.roles(svcRole.sid).updateWithHttpInfo({ permission: ["editOwnUserInfo"] }),
      200, "update");
    checkRole(s, got, { friendlyName: "sdk moderator", type: "service", permissions: ["editOwnUserInfo"] },
      "update");
    assert.deepEqual(got.dateCreated, svcRole.dateCreated, "dateCreated unchanged");
    assert.ok(got.dateUpdated >= svcRole.dateUpdated, "dateUpdated went back");
    assert.deepEqual(plain(await s.roles(svcRole.sid).fetch()), plain(got), "fetch after update");
    svcRole = got;
    const two = await s.roles(svcRole.sid).update({ permission: ["joinConversation", "addParticipant"] });
    assert.deepEqual(sorted(two.permissions), ["addParticipant", "joinConversation"]);
    svcRole = two;
  });

  await step(`${s.label}: list in creation order, across pages`, async () => {
    const want = [...defaults, svcRole, convRole].map(plain);
    assert.deepEqual((await s.roles.list()).map(plain), want, "list()");
    assert.deepEqual((await s.roles.list({ pageSize: 2 })).map(plain), want, "list({pageSize: 2})");
    const seen = [];
    await s.roles.each({ pageSize: 4 }, (r) => seen.push(plain(r)));
    assert.deepEqual(seen, want, "each({pageSize: 4})");
    const p = await s.roles.page({ pageSize: 4 });
    assert.equal(p._payload.meta.key, "roles");
    assert.ok(p.nextPageUrl.startsWith(`${env.url}${s.prefix}/Roles?PageSize=4&Page=1&PageToken=`),
      `meta.next_page_url: ${p.nextPageUrl}`);
  });

  await step(`${s.label}: unknown permission is 400 50104`, async () => {
    await expectRestError(
      s.roles.create({ friendlyName: "bad", type: "service", permission: ["sendMessage", "flyToTheMoon"] }),
      PERMISSION_NOT_FOUND, "create with an unknown permission");
    await expectRestError(s.roles(svcRole.sid).update({ permission: ["flyToTheMoon"] }),
      PERMISSION_NOT_FOUND, "update with an unknown permission");
    // sendMessage is a conversation permission, not a service one.
    await expectRestError(
      s.roles.create({ friendlyName: "bad", type: "service", permission: ["sendMessage"] }),
      PERMISSION_NOT_FOUND, "service role with a conversation-only permission");
    assert.deepEqual(plain(await s.roles(svcRole.sid).fetch()), plain(svcRole), "nothing changed");
    assert.equal((await s.roles.list()).length, defaults.length + 2, "nothing created");
  });

  await step(`${s.label}: remove`, async () => {
    expectHTTP(await s.roles(convRole.sid).removeWithHttpInfo(), 204, "remove");
    await expectRestError(s.roles(convRole.sid).fetch(), notFound(s, convRole.sid), "fetch removed");
    await expectRestError(s.roles(convRole.sid).remove(), notFound(s, convRole.sid), "remove twice");
    assert.equal(await s.roles(svcRole.sid).remove(), true);
    assert.deepEqual((await s.roles.list()).map(plain), defaults.map(plain), "back to the defaults");
  });
}

run("roles", async () => {
  const dflt = env.defaultServiceSid;
  const svc = await forEachScope(v1, env, "roles", suite);

  await step("roles stay in their service", async () => {
    const r = await v1.services(svc.sid).roles.create({
      friendlyName: "elsewhere",
      type: "conversation",
      permission: ["sendMessage"],
    });
    await expectRestError(v1.roles(r.sid).fetch(),
      { status: 404, code: 20404, message: `The requested resource /Roles/${r.sid} was not found` },
      "another service's role via /v1/Roles");
    assert.equal(await v1.services(svc.sid).remove(), true);
  });
});
