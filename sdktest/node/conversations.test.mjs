// Conversations, Participants, ConversationWithParticipants,
// UserConversations and ParticipantConversations through twilio-node, in
// every scope: the shortened v1.* on the default service,
// v1.services(default).*, and a service of its own.

import { assert, expectRestError, expectURL, plain, run, setup, step } from "./lib.mjs";

const { env, v1 } = setup();

const CONV = /^CH[0-9a-f]{32}$/;
const PART = /^MB[0-9a-f]{32}$/;

async function suite(s) {
  const cfg = await v1.services(s.serviceSid).configuration().fetch();
  let conv, alice, sms;

  await step(`${s.label}: create and fetch a conversation by SID and unique name`, async () => {
    conv = await s.api.conversations.create({
      friendlyName: "Support",
      uniqueName: "support",
      attributes: '{"topic":"billing"}',
      "timers.closed": "PT1H",
      xTwilioWebhookEnabled: "true",
    });
    assert.match(conv.sid, CONV);
    assert.deepEqual(
      {
        accountSid: conv.accountSid,
        chatServiceSid: conv.chatServiceSid,
        messagingServiceSid: conv.messagingServiceSid,
        friendlyName: conv.friendlyName,
        uniqueName: conv.uniqueName,
        attributes: conv.attributes,
        state: conv.state,
        bindings: conv.bindings,
      },
      {
        accountSid: env.accountSid,
        chatServiceSid: s.serviceSid,
        messagingServiceSid: null,
        friendlyName: "Support",
        uniqueName: "support",
        attributes: '{"topic":"billing"}',
        state: "active",
        bindings: {},
      },
    );
    assert.deepEqual(Object.keys(conv.timers), ["date_closed"], "only the closed timer is set");
    assert.equal(new Date(conv.timers.date_closed) - conv.dateUpdated, 3600 * 1000, "date_closed is an hour on");
    expectURL(env, conv.url, `${s.prefix}/Conversations/${conv.sid}`, "url");
    expectURL(env, conv.links.participants, `${s.prefix}/Conversations/${conv.sid}/Participants`, "links.participants");
    assert.deepEqual(plain(await s.api.conversations("support").fetch()), plain(conv), "fetch by unique name");
    assert.deepEqual(plain(await s.api.conversations(conv.sid).fetch()), plain(conv), "fetch by SID");
    await expectRestError(s.api.conversations.create({ uniqueName: "support" }),
      { status: 409, code: 50353, message: "Conversation with provided unique name already exists" }, "duplicate unique name");
    await expectRestError(s.api.conversations.create({ state: "closed" }),
      { status: 400, code: 50384, message: "Initial state can't be 'closed'" }, "create closed");
  });

  await step(`${s.label}: update a conversation`, async () => {
    const upd = await s.api.conversations("support").update({ friendlyName: "Support (VIP)", state: "inactive" });
    assert.equal(upd.friendlyName, "Support (VIP)");
    assert.equal(upd.state, "inactive");
    await expectRestError(s.api.conversations("support").update({ "timers.inactive": "PT10S" }),
      { status: 400, code: 50375 }, "inactive timer below its minimum");
  });

  await step(`${s.label}: participants, chat and SMS`, async () => {
    alice = await s.api.conversations("support").participants.create({ identity: "alice", attributes: '{"vip":true}' });
    assert.match(alice.sid, PART);
    assert.deepEqual(
      [alice.identity, alice.roleSid, alice.messagingBinding, alice.attributes, alice.conversationSid, alice.lastReadMessageIndex],
      ["alice", cfg.defaultConversationRoleSid, null, '{"vip":true}', conv.sid, null],
    );
    expectURL(env, alice.url, `${s.prefix}/Conversations/${conv.sid}/Participants/${alice.sid}`, "participant url");
    sms = await s.api.conversations(conv.sid).participants.create({
      "messagingBinding.address": "+15551230001",
      "messagingBinding.proxyAddress": "+15559870001",
    });
    assert.deepEqual(sms.messagingBinding, { type: "sms", address: "+15551230001", proxy_address: "+15559870001" });
    assert.equal(sms.roleSid, null);
    assert.equal((await s.api.conversations(conv.sid).fetch()).state, "active", "adding woke the conversation");
    const user = await s.api.users("alice").fetch();
    assert.equal(user.roleSid, cfg.defaultChatServiceRoleSid, "the new user has the service's default role");
    await expectRestError(s.api.conversations(conv.sid).participants.create({ identity: "alice" }),
      { status: 409, code: 50433, message: "Participant already exists" }, "same identity twice");
    const other = await s.api.conversations.create({});
    await expectRestError(s.api.conversations(other.sid).participants.create({
      "messagingBinding.address": "+15551230001",
      "messagingBinding.proxyAddress": "+15559870001",
    }), {
      status: 409,
      code: 50416,
      message: `A binding for this participant and proxy address already exists in Conversation ${conv.sid}`,
    }, "pair held elsewhere");
    await s.api.conversations(other.sid).remove();
    await expectRestError(s.api.conversations(conv.sid).participants.create({}),
      { status: 400, code: 50204, message: "Identity not provided" }, "neither identity nor address");
  });

  await step(`${s.label}: fetch, update and list participants`, async () => {
    assert.deepEqual(plain(await s.api.conversations("support").participants("alice").fetch()), plain(alice));
    const upd = await s.api.conversations(conv.sid).participants(alice.sid).update({
      lastReadMessageIndex: 2,
      lastReadTimestamp: "2026-01-01T00:00:00Z",
    });
    assert.equal(upd.lastReadMessageIndex, 2);
    assert.equal(upd.lastReadTimestamp, "2026-01-01T00:00:00Z");
    const list = await s.api.conversations(conv.sid).participants.list({ pageSize: 1 });
    assert.deepEqual(list.map((p) => p.sid), [alice.sid, sms.sid]);
  });

  await step(`${s.label}: user conversations`, async () => {
    const ucs = await s.api.users("alice").userConversations.list();
    assert.equal(ucs.length, 1);
    assert.deepEqual(
      [ucs[0].conversationSid, ucs[0].participantSid, ucs[0].notificationLevel, ucs[0].lastReadMessageIndex,
        ucs[0].unreadMessagesCount, ucs[0].uniqueName, ucs[0].conversationState],
      [conv.sid, alice.sid, "default", 2, 0, "support", "active"],
    );
    const uc = await s.api.users("alice").userConversations("support").update({ notificationLevel: "muted" });
    assert.equal(uc.notificationLevel, "muted");
    assert.equal((await s.api.users(alice.identity).userConversations(conv.sid).fetch()).notificationLevel, "muted");
  });

  await step(`${s.label}: participant conversations`, async () => {
    const byIdentity = await s.api.participantConversations.list({ identity: "alice" });
    assert.deepEqual(byIdentity.map((p) => [p.conversationSid, p.participantSid]), [[conv.sid, alice.sid]]);
    const byAddress = await s.api.participantConversations.list({ address: "+15551230001" });
    assert.deepEqual(byAddress.map((p) => p.participantSid), [sms.sid]);
    assert.equal(byAddress[0].participantMessagingBinding.proxy_address, "+15559870001");
    await expectRestError(s.api.participantConversations.list({ identity: "alice", address: "+15551230001" }),
      { status: 400, code: 50451 }, "both identity and address");
  });

  let team;
  await step(`${s.label}: conversation with participants`, async () => {
    team = await s.api.conversationWithParticipants.create({
      friendlyName: "Team",
      participant: ['{"identity":"alice"}', '{"messaging_binding":{"address":"+15551230002"}}'],
    });
    assert.equal(team.state, "active");
    assert.equal(team.friendlyName, "Team");
    const parts = await s.api.conversations(team.sid).participants.list();
    assert.deepEqual(parts.map((p) => p.identity), ["alice", null]);
    await expectRestError(s.api.conversationWithParticipants.create({ participant: ["[]"] }),
      { status: 400, code: 50424 }, "participant not a JSON object");
  });

  await step(`${s.label}: lists, close, leave and delete`, async () => {
    const all = await s.api.conversations.list({ pageSize: 1 });
    assert.deepEqual(all.map((c) => c.sid), [conv.sid, team.sid]);
    await s.api.conversations(team.sid).update({ state: "closed" });
    const closed = await s.api.conversations.list({ state: "closed" });
    assert.deepEqual(closed.map((c) => c.sid), [team.sid]);
    await expectRestError(s.api.conversations(team.sid).update({ friendlyName: "x" }),
      { status: 400, code: 50377, message: "Can't update conversation as it's in final closed state" }, "closed is final");
    assert.equal(await s.api.users("alice").userConversations(conv.sid).remove(), true);
    await expectRestError(s.api.conversations(conv.sid).participants("alice").fetch(), { status: 404, code: 20404 }, "left");
    assert.equal(await s.api.conversations(conv.sid).participants(sms.sid).remove(), true);
    for (const c of [conv, team]) assert.equal(await s.api.conversations(c.sid).remove(), true);
    assert.deepEqual(await s.api.conversations.list(), []);
    await s.api.users("alice").remove();
  });
}

run("conversations", async () => {
  const dflt = env.defaultServiceSid;
  await suite({ label: "v1", api: v1, serviceSid: dflt, prefix: "/v1" });
  await suite({ label: "v1.services(default)", api: v1.services(dflt), serviceSid: dflt, prefix: `/v1/Services/${dflt}` });
  const own = await v1.services.create({ friendlyName: "sdktest conversations" });
  await suite({ label: "v1.services(new)", api: v1.services(own.sid), serviceSid: own.sid, prefix: `/v1/Services/${own.sid}` });
});
