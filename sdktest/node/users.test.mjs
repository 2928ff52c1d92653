// Users through twilio-node: client.conversations.v1.users (the default
// service, shortened URLs) and client.conversations.v1.services(sid).users,
// both on the default service and on a service of its own.

import {
  SID,
  assert,
  defaultRoles,
  expectDate,
  expectHTTP,
  expectRestError,
  expectURL,
  forEachScope,
  plain,
  run,
  setup,
  step,
} from "./lib.mjs";

const { env, v1 } = setup();

const ATTRS = '{"team":"red & blue","note":"a+b=c?d","emoji":"é✓","n":1}';
const PAGE_USERS = 120;

// checkUser asserts every field of a user as twilio-node sees it.
function checkUser(s, u, want, what) {
  assert.match(u.sid, SID.user, `${what}: sid`);
  assert.deepEqual(
    {
      accountSid: u.accountSid,
      chatServiceSid: u.chatServiceSid,
      roleSid: u.roleSid,
      identity: u.identity,
      friendlyName: u.friendlyName,
      attributes: u.attributes,
      isOnline: u.isOnline,
      isNotifiable: u.isNotifiable,
    },
    {
      accountSid: env.accountSid,
      chatServiceSid: s.serviceSid,
      roleSid: want.roleSid,
      identity: want.identity,
      friendlyName: want.friendlyName,
      attributes: want.attributes,
      isOnline: null,
      isNotifiable: null,
    },
    `${what}: fields`,
  );
  expectDate(u.dateCreated, `${what}: dateCreated`);
  expectDate(u.dateUpdated, `${what}: dateUpdated`);
  assert.ok(u.dateUpdated >= u.dateCreated, `${what}: dateUpdated before dateCreated`);
  expectURL(env, u.url, `${s.prefix}/Users/${u.sid}`, `${what}: url`);
  assert.deepEqual(Object.keys(u.links), ["user_conversations"], `${what}: links keys`);
  expectURL(env, u.links.user_conversations, `${s.prefix}/Users/${u.sid}/Conversations`,
    `${what}: links.user_conversations`);
}

// notFound is the 404 for a user addressed as key under the scope.
function notFound(s, key) {
  return {
    status: 404,
    code: 20404,
    message: `The requested resource ${s.prefix.replace(/^\/v1/, "")}/Users/${key} was not found`,
  };
}

// suite runs the whole user lifecycle on one scope. It starts and ends with
// the service holding no users.
async function suite(s) {
  const { byName, cfg } = await defaultRoles(v1, s.serviceSid);
  const adminRole = byName["service admin"];
  assert.ok(adminRole, `${s.label}: service has a "service admin" role`);
  const userRole = cfg.defaultChatServiceRoleSid;
  const conversationRole = byName["channel user"];
  assert.ok(conversationRole, `${s.label}: service has a "channel user" role`);
  const customRole = await v1.services(s.serviceSid).roles.create({
    friendlyName: "sdk user editor",
    type: "service",
    permission: ["editOwnUserInfo", "editAnyUserInfo"],
  });
  const foreignService = await v1.services.create({ friendlyName: `${s.label} foreign` });
  const foreignRole = (await defaultRoles(v1, foreignService.sid)).byName["service user"];

  await step(`${s.label}: starts empty`, async () => {
    assert.deepEqual((await s.users.list()).map(plain), []);
  });

  let alice, space, plus;
  await step(`${s.label}: create with every field`, async () => {
    alice = await s.users.create({
      identity: "alice@example.com",
      friendlyName: "Alice Example",
      attributes: ATTRS,
      roleSid: adminRole.sid,
      xTwilioWebhookEnabled: "true",
    });
    checkUser(s, alice, {
      identity: "alice@example.com",
      friendlyName: "Alice Example",
      attributes: ATTRS,
      roleSid: adminRole.sid,
    }, "create alice");
  });

  await step(`${s.label}: create with identity only (defaults)`, async () => {
    space = await s.users.create({ identity: "bob smith" });
    checkUser(s, space, {
      identity: "bob smith",
      friendlyName: null,
      attributes: "{}",
      roleSid: userRole,
    }, "create 'bob smith'");
    plus = await s.users.create({ identity: "carol+tag@example.com", friendlyName: "Carol Ö" });
    checkUser(s, plus, {
      identity: "carol+tag@example.com",
      friendlyName: "Carol Ö",
      attributes: "{}",
      roleSid: userRole,
    }, "create 'carol+tag@example.com'");
  });

  await step(`${s.label}: fetch by SID and by identity`, async () => {
    for (const [u, key] of [
      [alice, alice.sid],
      [alice, "alice@example.com"],
      [space, space.sid],
      [space, "bob smith"],
      [plus, plus.sid],
      [plus, "carol+tag@example.com"],
    ]) {
      const got = await s.users(key).fetch();
      assert.deepEqual(plain(got), plain(u), `fetch ${JSON.stringify(key)}`);
    }
    // "+" in a path is a plus, not a space.
    await expectRestError(s.users("carol tag@example.com").fetch(),
      { status: 404, code: 20404 }, "fetch 'carol tag@example.com'");
    await expectRestError(s.users("nobody@example.com").fetch(),
      notFound(s, "nobody@example.com"), "fetch unknown identity");
  });

  await step(`${s.label}: list shows is_online/is_notifiable null`, async () => {
    const got = await s.users.list();
    assert.deepEqual(got.map(plain), [alice, space, plus].map(plain));
  });

  await step(`${s.label}: update each field`, async () => {
    let prev = alice;
    const want = {
      identity: "alice@example.com",
      friendlyName: "Alice Example",
      attributes: ATTRS,
      roleSid: adminRole.sid,
    };
    const updates = [
      [alice.sid, { friendlyName: "Alice Renamed" }],
      ["alice@example.com", { attributes: '{"team":"blue"}', xTwilioWebhookEnabled: "true" }],
      [alice.sid, { roleSid: customRole.sid }],
      ["alice@example.com", { attributes: "" }], // resets to {}
      [alice.sid, { friendlyName: "Alice Again", attributes: "[1,2]", roleSid: userRole }],
      [alice.sid, {}], // nothing: unchanged
    ];
    for (const [key, params] of updates) {
      const what = `update ${key} ${JSON.stringify(params)}`;
      const got = await s.users(key).update(params);
      if ("friendlyName" in params) want.friendlyName = params.friendlyName;
      if ("attributes" in params) want.attributes = params.attributes === "" ? "{}" : params.attributes;
      if ("roleSid" in params) want.roleSid = params.roleSid;
      checkUser(s, got, want, what);
      assert.equal(got.sid, alice.sid, `${what}: sid`);
      assert.deepEqual(got.dateCreated, alice.dateCreated, `${what}: dateCreated unchanged`);
      assert.ok(got.dateUpdated >= prev.dateUpdated, `${what}: dateUpdated went back`);
      assert.deepEqual(plain(await s.users(alice.sid).fetch()), plain(got), `${what}: fetch after`);
      prev = got;
    }
    alice = prev;
  });

  await step(`${s.label}: duplicate identity is 409 50201`, async () => {
    await expectRestError(s.users.create({ identity: "alice@example.com" }),
      { status: 409, code: 50201, message: "User already exists" }, "duplicate identity");
    // Identity is case-sensitive: a different case is another user.
    const upper = await s.users.create({ identity: "Alice@example.com" });
    assert.notEqual(upper.sid, alice.sid);
    assert.equal(await s.users(upper.sid).remove(), true);
  });

  await step(`${s.label}: invalid attributes are 400 50304`, async () => {
    const bad = { status: 400, code: 50304, message: "Attributes not valid JSON" };
    await expectRestError(s.users.create({ identity: "dave@example.com", attributes: "{nope" }),
      bad, "create with invalid attributes");
    await expectRestError(s.users(alice.sid).update({ attributes: "{\"a\":" }),
      bad, "update with invalid attributes");
    await expectRestError(s.users("dave@example.com").fetch(),
      notFound(s, "dave@example.com"), "the rejected create wrote nothing");
    assert.deepEqual(plain(await s.users(alice.sid).fetch()), plain(alice),
      "the rejected update changed nothing");
  });

  await step(`${s.label}: role errors`, async () => {
    await expectRestError(s.users.create({ identity: "erin@example.com", roleSid: conversationRole.sid }),
      { status: 400, code: 50105, message: "Invalid role type" }, "conversation role on a user");
    await expectRestError(s.users(alice.sid).update({ roleSid: foreignRole.sid }),
      { status: 400, code: 50100, message: "Role not found" }, "role of another service");
  });

  await step(`${s.label}: delete by SID and by identity`, async () => {
    assert.equal(await s.users(alice.sid).remove({ xTwilioWebhookEnabled: "true" }), true);
    await expectRestError(s.users(alice.sid).fetch(), notFound(s, alice.sid), "fetch deleted by SID");
    await expectRestError(s.users("alice@example.com").fetch(),
      notFound(s, "alice@example.com"), "fetch deleted by identity");
    await expectRestError(s.users(alice.sid).remove(), notFound(s, alice.sid), "delete twice");
    assert.equal(await s.users("bob smith").remove(), true);
    await expectRestError(s.users(space.sid).fetch(), notFound(s, space.sid), "fetch 'bob smith' deleted");
    assert.equal(await s.users(plus.sid).remove(), true);
    // The identity is free again, for a new user with a new SID.
    const again = await s.users.create({ identity: "alice@example.com" });
    assert.notEqual(again.sid, alice.sid);
    assert.equal(await s.users(again.sid).remove(), true);
    assert.deepEqual((await s.users.list()).map(plain), []);
  });

  await step(`${s.label}: HTTP statuses 201, 200, 200, 204`, async () => {
    const u = expectHTTP(await s.users.createWithHttpInfo({ identity: "status@example.com" }), 201, "create");
    assert.equal(u.identity, "status@example.com");
    expectHTTP(await s.users(u.sid).fetchWithHttpInfo(), 200, "fetch");
    const upd = expectHTTP(await s.users(u.sid).updateWithHttpInfo({ friendlyName: "S" }), 200, "update");
    assert.equal(upd.friendlyName, "S");
    expectHTTP(await s.users(u.sid).removeWithHttpInfo({ xTwilioWebhookEnabled: "true" }), 204, "remove");
  });

  await step(`${s.label}: list ${PAGE_USERS} users across pages`, async () => {
    const created = [];
    for (let i = 0; i < PAGE_USERS; i++) {
      created.push(await s.users.create({ identity: `page.${String(i).padStart(3, "0")}` }));
    }
    const want = created.map(plain);

    const listed = await s.users.list({ pageSize: 50 });
    assert.deepEqual(listed.map((u) => u.identity), want.map((u) => u.identity),
      "list({pageSize: 50}) identities in creation order");
    assert.deepEqual(listed.map(plain), want, "list({pageSize: 50}) records");

    const seen = [];
    await s.users.each({ pageSize: 50 }, (u) => seen.push(plain(u)));
    assert.deepEqual(seen, want, "each({pageSize: 50})");

    assert.deepEqual((await s.users.list()).map(plain), want, "list() with the default page size");
    assert.deepEqual((await s.users.list({ limit: 70 })).map(plain), want.slice(0, 70),
      "list({limit: 70}) (sends PageSize=70, above the maximum of 50)");

    // Page by page, with the raw meta.
    const path = `${s.prefix}/Users`;
    const p0 = await s.users.page({ pageSize: 50 });
    assert.deepEqual(p0.instances.map(plain), want.slice(0, 50), "page 0");
    const m0 = p0._payload.meta;
    assert.deepEqual(
      { page: m0.page, page_size: m0.page_size, key: m0.key, previous_page_url: m0.previous_page_url },
      { page: 0, page_size: 50, key: "users", previous_page_url: null },
      "page 0 meta",
    );
    expectURL(env, m0.first_page_url, `${path}?PageSize=50&Page=0`, "page 0 meta.first_page_url");
    expectURL(env, m0.url, `${path}?PageSize=50&Page=0`, "page 0 meta.url");
    assert.ok(m0.next_page_url.startsWith(`${env.url}${path}?PageSize=50&Page=1&PageToken=`),
      `page 0 meta.next_page_url: ${m0.next_page_url}`);
    const p1 = await p0.nextPage();
    assert.deepEqual(p1.instances.map(plain), want.slice(50, 100), "page 1");
    assert.equal(p1._payload.meta.page, 1, "page 1 meta.page");
    assert.equal(p1._payload.meta.url, m0.next_page_url, "page 1 meta.url is the URL requested");
    assert.ok(p1.previousPageUrl, "page 1 has a previous page");
    const p2 = await p1.nextPage();
    assert.deepEqual(p2.instances.map(plain), want.slice(100), "page 2");
    assert.equal(p2._payload.meta.next_page_url, null, "page 2 meta.next_page_url");
    assert.equal(p2.nextPage(), undefined, "no page after the last");
    const back = await p1.previousPage();
    assert.deepEqual(back.instances.map(plain), want.slice(0, 50), "previous of page 1");

    for (const u of created) assert.equal(await s.users(u.sid).remove(), true);
    assert.deepEqual((await s.users.list({ pageSize: 50 })).map(plain), []);
  });

  await v1.services(s.serviceSid).roles(customRole.sid).remove();
  await v1.services(foreignService.sid).remove();
}

run("users", async () => {
  const dflt = env.defaultServiceSid;
  const svc = await forEachScope(v1, env, "users", suite);

  await step("both addressings reach the same user", async () => {
    const u = await v1.users.create({ identity: "shared@example.com", friendlyName: "Shared" });
    const viaService = await v1.services(dflt).users("shared@example.com").fetch();
    assert.equal(viaService.sid, u.sid);
    assert.equal(viaService.friendlyName, "Shared");
    expectURL(env, viaService.url, `/v1/Services/${dflt}/Users/${u.sid}`, "url via service");
    expectURL(env, u.url, `/v1/Users/${u.sid}`, "url via shortened path");
    // Users of another service are not reachable through the shortened URL.
    const other = await v1.services(svc.sid).users.create({ identity: "shared@example.com" });
    assert.notEqual(other.sid, u.sid, "same identity in two services: two users");
    await expectRestError(v1.users(other.sid).fetch(),
      { status: 404, code: 20404, message: `The requested resource /Users/${other.sid} was not found` },
      "another service's user via /v1/Users");
    assert.equal(await v1.users(u.sid).remove(), true);
    await v1.services(svc.sid).remove();
  });
});
