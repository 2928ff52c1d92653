// Services through twilio-node: create, fetch, list, remove, and a user in
// a new service with a custom role created through services(sid).roles.

import {
  SID,
  assert,
  defaultRoles,
  expectDate,
  expectHTTP,
  expectRestError,
  expectURL,
  plain,
  run,
  setup,
  sorted,
  step,
} from "./lib.mjs";

const { env, v1 } = setup();

function checkService(s, friendlyName, what) {
  assert.match(s.sid, SID.service, `${what}: sid`);
  assert.equal(s.accountSid, env.accountSid, `${what}: accountSid`);
  assert.equal(s.friendlyName, friendlyName, `${what}: friendlyName`);
  expectDate(s.dateCreated, `${what}: dateCreated`);
  expectDate(s.dateUpdated, `${what}: dateUpdated`);
  const self = `/v1/Services/${s.sid}`;
  expectURL(env, s.url, self, `${what}: url`);
  const links = {
    conversations: "Conversations",
    users: "Users",
    roles: "Roles",
    bindings: "Bindings",
    configuration: "Configuration",
    participant_conversations: "ParticipantConversations",
    conversation_with_participants: "ConversationWithParticipants",
  };
  assert.deepEqual(sorted(Object.keys(s.links)), sorted(Object.keys(links)), `${what}: links keys`);
  for (const [k, tail] of Object.entries(links)) {
    expectURL(env, s.links[k], `${self}/${tail}`, `${what}: links.${k}`);
  }
}

function notFound(path) {
  return { status: 404, code: 20404, message: `The requested resource ${path} was not found` };
}

run("services", async () => {
  let dflt;
  await step("the default service is listed alone", async () => {
    const list = await v1.services.list();
    assert.deepEqual(list.map((s) => s.sid), [env.defaultServiceSid]);
    dflt = list[0];
    checkService(dflt, dflt.friendlyName, "default service");
    assert.equal(typeof dflt.friendlyName, "string");
  });

  let svc;
  await step("create and fetch", async () => {
    svc = expectHTTP(await v1.services.createWithHttpInfo({ friendlyName: "SDK test & co — ünïcode" }),
      201, "create");
    checkService(svc, "SDK test & co — ünïcode", "create");
    assert.deepEqual(plain(expectHTTP(await v1.services(svc.sid).fetchWithHttpInfo(), 200, "fetch")),
      plain(svc), "fetch");
  });

  await step("a new service has the default roles and configuration", async () => {
    const { roles, byName, cfg } = await defaultRoles(v1, svc.sid);
    assert.deepEqual(
      sorted(roles.map((r) => `${r.friendlyName}/${r.type}`)),
      ["channel admin/conversation", "channel user/conversation", "service admin/service", "service user/service"],
      "default roles",
    );
    for (const r of roles) {
      assert.equal(r.chatServiceSid, svc.sid, `${r.friendlyName}: chatServiceSid`);
      expectURL(env, r.url, `/v1/Services/${svc.sid}/Roles/${r.sid}`, `${r.friendlyName}: url`);
    }
    assert.deepEqual(
      {
        chatServiceSid: cfg.chatServiceSid,
        defaultChatServiceRoleSid: cfg.defaultChatServiceRoleSid,
        defaultConversationRoleSid: cfg.defaultConversationRoleSid,
        defaultConversationCreatorRoleSid: cfg.defaultConversationCreatorRoleSid,
        reachabilityEnabled: cfg.reachabilityEnabled,
      },
      {
        chatServiceSid: svc.sid,
        defaultChatServiceRoleSid: byName["service user"].sid,
        defaultConversationRoleSid: byName["channel user"].sid,
        defaultConversationCreatorRoleSid: byName["channel admin"].sid,
        reachabilityEnabled: false,
      },
      "configuration",
    );
  });

  let role, user, plainUser;
  await step("a user in the new service with a custom service role", async () => {
    role = await v1.services(svc.sid).roles.create({
      friendlyName: "moderator",
      type: "service",
      permission: ["deleteAnyMessage", "editAnyMessage", "removeParticipant"],
    });
    assert.match(role.sid, SID.role);
    assert.equal(role.chatServiceSid, svc.sid);
    assert.equal(role.type, "service");
    assert.deepEqual(sorted(role.permissions), ["deleteAnyMessage", "editAnyMessage", "removeParticipant"]);
    expectURL(env, role.url, `/v1/Services/${svc.sid}/Roles/${role.sid}`, "role url");

    user = await v1.services(svc.sid).users.create({
      identity: "mod@example.com",
      friendlyName: "Mod",
      roleSid: role.sid,
    });
    assert.match(user.sid, SID.user);
    assert.deepEqual(
      [user.chatServiceSid, user.roleSid, user.identity, user.friendlyName, user.attributes],
      [svc.sid, role.sid, "mod@example.com", "Mod", "{}"],
    );
    expectURL(env, user.url, `/v1/Services/${svc.sid}/Users/${user.sid}`, "user url");
    expectURL(env, user.links.user_conversations,
      `/v1/Services/${svc.sid}/Users/${user.sid}/Conversations`, "user links.user_conversations");
    assert.deepEqual(plain(await v1.services(svc.sid).users("mod@example.com").fetch()), plain(user));

    const { cfg } = await defaultRoles(v1, svc.sid);
    plainUser = await v1.services(svc.sid).users.create({ identity: "member@example.com" });
    assert.equal(plainUser.roleSid, cfg.defaultChatServiceRoleSid, "default role");

    // The new service's users are not the default service's.
    await expectRestError(v1.users("mod@example.com").fetch(),
      notFound("/Users/mod@example.com"), "new service's user via /v1/Users");
    assert.deepEqual(await v1.users.list(), [], "default service has no users");
    // A role of the new service cannot be given in the default service.
    await expectRestError(v1.users.create({ identity: "x@example.com", roleSid: role.sid }),
      { status: 400, code: 50100, message: "Role not found" }, "another service's role");
  });

  let more;
  await step("list in creation order, across pages", async () => {
    more = [];
    for (let i = 0; i < 3; i++) more.push(await v1.services.create({ friendlyName: `extra ${i}` }));
    const want = [dflt, svc, ...more].map(plain);
    assert.deepEqual((await v1.services.list()).map(plain), want, "list()");
    assert.deepEqual((await v1.services.list({ pageSize: 2 })).map(plain), want, "list({pageSize: 2})");
    const seen = [];
    await v1.services.each({ pageSize: 1 }, (s) => seen.push(plain(s)));
    assert.deepEqual(seen, want, "each({pageSize: 1})");
    const p = await v1.services.page({ pageSize: 2 });
    assert.equal(p._payload.meta.key, "services");
    assert.ok(p.nextPageUrl.startsWith(`${env.url}/v1/Services?PageSize=2&Page=1&PageToken=`),
      `meta.next_page_url: ${p.nextPageUrl}`);
  });

  await step("remove takes the service's users and roles with it", async () => {
    expectHTTP(await v1.services(svc.sid).removeWithHttpInfo(), 204, "remove");
    await expectRestError(v1.services(svc.sid).fetch(), notFound(`/Services/${svc.sid}`), "fetch removed");
    await expectRestError(v1.services(svc.sid).users(user.sid).fetch(),
      notFound(`/Services/${svc.sid}/Users/${user.sid}`), "user of removed service");
    await expectRestError(v1.services(svc.sid).roles(role.sid).fetch(),
      notFound(`/Services/${svc.sid}/Roles/${role.sid}`), "role of removed service");
    await expectRestError(v1.services(svc.sid).users.list(),
      notFound(`/Services/${svc.sid}/Users`), "users of removed service");
    await expectRestError(v1.services(svc.sid).configuration().fetch(),
      notFound(`/Services/${svc.sid}/Configuration`), "configuration of removed service");
    await expectRestError(v1.services(svc.sid).remove(), notFound(`/Services/${svc.sid}`), "remove twice");
    for (const s of more) assert.equal(await v1.services(s.sid).remove(), true);
    assert.deepEqual((await v1.services.list()).map(plain), [plain(dflt)], "only the default remains");
  });
});
