// Configuration through twilio-node: the account configuration
// (client.conversations.v1.configuration()), a service's configuration
// (services(sid).configuration()) and both webhook configurations.

import {
  assert,
  defaultRoles,
  expectHTTP,
  expectRestError,
  expectURL,
  run,
  setup,
  step,
} from "./lib.mjs";

const { env, v1 } = setup();

function checkAccountConfig(c, want, what) {
  assert.deepEqual(
    {
      accountSid: c.accountSid,
      defaultChatServiceSid: c.defaultChatServiceSid,
      defaultMessagingServiceSid: c.defaultMessagingServiceSid,
      defaultInactiveTimer: c.defaultInactiveTimer,
      defaultClosedTimer: c.defaultClosedTimer,
    },
    { accountSid: env.accountSid, ...want },
    `${what}: fields`,
  );
  expectURL(env, c.url, "/v1/Configuration", `${what}: url`);
  assert.deepEqual(Object.keys(c.links).sort(), ["service", "webhooks"], `${what}: links keys`);
  expectURL(env, c.links.service, `/v1/Services/${want.defaultChatServiceSid}/Configuration`,
    `${what}: links.service`);
  expectURL(env, c.links.webhooks, "/v1/Configuration/Webhooks", `${what}: links.webhooks`);
}

function checkServiceConfig(c, sid, want, what) {
  assert.deepEqual(
    {
      chatServiceSid: c.chatServiceSid,
      defaultChatServiceRoleSid: c.defaultChatServiceRoleSid,
      defaultConversationRoleSid: c.defaultConversationRoleSid,
      defaultConversationCreatorRoleSid: c.defaultConversationCreatorRoleSid,
      reachabilityEnabled: c.reachabilityEnabled,
    },
    { chatServiceSid: sid, ...want },
    `${what}: fields`,
  );
  const self = `/v1/Services/${sid}/Configuration`;
  expectURL(env, c.url, self, `${what}: url`);
  assert.deepEqual(Object.keys(c.links).sort(), ["notifications", "webhooks"], `${what}: links keys`);
  expectURL(env, c.links.notifications, `${self}/Notifications`, `${what}: links.notifications`);
  expectURL(env, c.links.webhooks, `${self}/Webhooks`, `${what}: links.webhooks`);
}

run("configuration", async () => {
  const dflt = env.defaultServiceSid;
  const acct = v1.configuration();
  const initial = {
    defaultChatServiceSid: dflt,
    defaultMessagingServiceSid: null,
    defaultInactiveTimer: null,
    defaultClosedTimer: null,
  };

  await step("account configuration: fetch", async () => {
    checkAccountConfig(expectHTTP(await acct.fetchWithHttpInfo(), 200, "fetch"), initial, "fetch");
  });

  let other, otherUser;
  await step("account configuration: switch the default chat service and back", async () => {
    other = await v1.services.create({ friendlyName: "sdktest other default" });
    const sw = expectHTTP(await acct.updateWithHttpInfo({ defaultChatServiceSid: other.sid }), 200, "update");
    checkAccountConfig(sw, { ...initial, defaultChatServiceSid: other.sid }, "update");
    checkAccountConfig(await acct.fetch(), { ...initial, defaultChatServiceSid: other.sid }, "fetch after update");

    // Shortened URLs now act on the other service.
    otherUser = await v1.users.create({ identity: "switch@example.com" });
    assert.equal(otherUser.chatServiceSid, other.sid, "user created via /v1/Users after the switch");
    expectURL(env, otherUser.url, `/v1/Users/${otherUser.sid}`, "user url");
    const roles = await v1.roles.list();
    assert.ok(roles.length > 0 && roles.every((r) => r.chatServiceSid === other.sid),
      "/v1/Roles lists the other service's roles");
    assert.equal((await v1.services(other.sid).users("switch@example.com").fetch()).sid, otherUser.sid);
    await expectRestError(v1.services(dflt).users("switch@example.com").fetch(),
      { status: 404, code: 20404 }, "the user is not in the old default");

    const back = await acct.update({ defaultChatServiceSid: dflt });
    checkAccountConfig(back, initial, "switch back");
    await expectRestError(v1.users("switch@example.com").fetch(),
      { status: 404, code: 20404, message: "The requested resource /Users/switch@example.com was not found" },
      "the other service's user via /v1/Users after switching back");
    assert.deepEqual(await v1.users.list(), [], "default service users after switching back");
  });

  await step("account configuration: timers", async () => {
    const got = await acct.update({ defaultInactiveTimer: "PT10M", defaultClosedTimer: "P1D" });
    const want = { ...initial, defaultInactiveTimer: "PT10M", defaultClosedTimer: "P1D" };
    checkAccountConfig(got, want, "update timers");
    checkAccountConfig(await acct.fetch(), want, "fetch timers");
  });

  for (const [label, sid] of [["default service", dflt], ["other service", null]]) {
    const svcSid = sid ?? other.sid;
    const cfgCtx = v1.services(svcSid).configuration();
    await step(`${label} configuration: defaults, reachability, default roles`, async () => {
      const { byName } = await defaultRoles(v1, svcSid);
      const initialCfg = {
        defaultChatServiceRoleSid: byName["service user"].sid,
        defaultConversationRoleSid: byName["channel user"].sid,
        defaultConversationCreatorRoleSid: byName["channel admin"].sid,
        reachabilityEnabled: false,
      };
      checkServiceConfig(expectHTTP(await cfgCtx.fetchWithHttpInfo(), 200, "fetch"), svcSid, initialCfg, "fetch");

      let want = { ...initialCfg, reachabilityEnabled: true };
      checkServiceConfig(await cfgCtx.update({ reachabilityEnabled: true }), svcSid, want, "reachability on");
      checkServiceConfig(await cfgCtx.fetch(), svcSid, want, "fetch reachability on");
      // A user that was never online: still null with reachability on.
      const u = await v1.services(svcSid).users.create({ identity: "reach@example.com" });
      const fetched = await v1.services(svcSid).users(u.sid).fetch();
      assert.deepEqual([fetched.isOnline, fetched.isNotifiable], [null, null], "never-online user");

      const userRole = await v1.services(svcSid).roles.create({
        friendlyName: "sdk default user",
        type: "service",
        permission: ["editOwnUserInfo"],
      });
      const convRole = await v1.services(svcSid).roles.create({
        friendlyName: "sdk default member",
        type: "conversation",
        permission: ["sendMessage"],
      });
      const creatorRole = await v1.services(svcSid).roles.create({
        friendlyName: "sdk default creator",
        type: "conversation",
        permission: ["sendMessage", "editConversationName"],
      });
      want = {
        defaultChatServiceRoleSid: userRole.sid,
        defaultConversationRoleSid: convRole.sid,
        defaultConversationCreatorRoleSid: creatorRole.sid,
        reachabilityEnabled: false,
      };
      const upd = await cfgCtx.update({
        defaultChatServiceRoleSid: userRole.sid,
        defaultConversationRoleSid: convRole.sid,
        defaultConversationCreatorRoleSid: creatorRole.sid,
        reachabilityEnabled: false,
      });
      checkServiceConfig(upd, svcSid, want, "update default roles");
      checkServiceConfig(await cfgCtx.fetch(), svcSid, want, "fetch default roles");
      const nu = await v1.services(svcSid).users.create({ identity: "new-default@example.com" });
      assert.equal(nu.roleSid, userRole.sid, "a new user gets the new default role");

      // Back to the initial configuration.
      checkServiceConfig(await cfgCtx.update({
        defaultChatServiceRoleSid: initialCfg.defaultChatServiceRoleSid,
        defaultConversationRoleSid: initialCfg.defaultConversationRoleSid,
        defaultConversationCreatorRoleSid: initialCfg.defaultConversationCreatorRoleSid,
      }), svcSid, initialCfg, "reset");
      for (const x of [u, nu]) assert.equal(await v1.services(svcSid).users(x.sid).remove(), true);
    });

    await step(`${label} webhooks: fetch and update`, async () => {
      const hooks = v1.services(svcSid).configuration.webhooks();
      const check = (w, want, what) => {
        assert.deepEqual(
          {
            accountSid: w.accountSid,
            chatServiceSid: w.chatServiceSid,
            preWebhookUrl: w.preWebhookUrl,
            postWebhookUrl: w.postWebhookUrl,
            filters: w.filters,
            method: w.method,
          },
          { accountSid: env.accountSid, chatServiceSid: svcSid, ...want },
          `${what}: fields`,
        );
        expectURL(env, w.url, `/v1/Services/${svcSid}/Configuration/Webhooks`, `${what}: url`);
      };
      const unset = { preWebhookUrl: null, postWebhookUrl: null, filters: null, method: null };
      check(await hooks.fetch(), unset, "fetch before any update");
      let want = {
        preWebhookUrl: "https://hooks.example.com/pre?svc=1",
        postWebhookUrl: "https://hooks.example.com/post",
        filters: ["onUserAdded", "onUserUpdated", "onUserUpdate"],
        method: "POST",
      };
      check(expectHTTP(await hooks.updateWithHttpInfo(want), 200, "update"), want, "update all");
      check(expectHTTP(await hooks.fetchWithHttpInfo(), 200, "fetch"), want, "fetch after update");
      want = { ...want, method: "GET" };
      check(await hooks.update({ method: "GET" }), want, "update method only");
      want = { ...want, filters: ["onUserAdded"] };
      check(await hooks.update({ filters: ["onUserAdded"] }), want, "update filters only");
      check(await hooks.fetch(), want, "fetch after partial updates");
    });
  }

  await step("account webhooks: fetch and update", async () => {
    const hooks = v1.configuration.webhooks();
    const check = (w, want, what) => {
      assert.deepEqual(
        {
          accountSid: w.accountSid,
          method: w.method,
          filters: w.filters,
          preWebhookUrl: w.preWebhookUrl,
          postWebhookUrl: w.postWebhookUrl,
          target: w.target,
        },
        { accountSid: env.accountSid, ...want },
        `${what}: fields`,
      );
      expectURL(env, w.url, "/v1/Configuration/Webhooks", `${what}: url`);
    };
    const unset = { method: null, filters: null, preWebhookUrl: null, postWebhookUrl: null, target: null };
    check(await hooks.fetch(), unset, "fetch before any update");
    let want = {
      method: "POST",
      filters: ["onUserAdded", "onUserUpdated"],
      preWebhookUrl: "https://hooks.example.com/account/pre",
      postWebhookUrl: "https://hooks.example.com/account/post",
      target: "webhook",
    };
    check(await hooks.update(want), want, "update all");
    check(await hooks.fetch(), want, "fetch after update");
    want = { ...want, method: "GET" };
    check(await hooks.update({ method: "GET" }), want, "update method only");
    want = { ...want, postWebhookUrl: "http://127.0.0.1:9/post" };
    check(await hooks.update({ postWebhookUrl: want.postWebhookUrl }), want, "update post URL only");
    check(await hooks.fetch(), want, "fetch after partial updates");
  });

  await step("unknown service configuration is 404", async () => {
    const ghost = "IS" + "0".repeat(32);
    await expectRestError(v1.services(ghost).configuration().fetch(),
      { status: 404, code: 20404, message: `The requested resource /Services/${ghost}/Configuration was not found` },
      "fetch");
    await expectRestError(v1.services(ghost).configuration.webhooks().fetch(),
      { status: 404, code: 20404 }, "fetch webhooks");
    // The default chat service is back where it started.
    assert.equal((await acct.fetch()).defaultChatServiceSid, dflt);
  });
});
