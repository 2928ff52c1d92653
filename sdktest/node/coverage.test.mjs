// Coverage of Twilio's Conversations v1 spec through twilio-node.
//
// The aim: each of the 103 operations of internal/spec/twilio_conversations_v1.json
// (one operationId per path and method) is called through twilio-node by
// some suite in this directory; plain fetch calls do not count.
//
// Audit. Every suite was run (go test ./sdktest -run TestNode) with
// twilio-node's RequestClient.request wrapped through node --import, logging
// the method and path of each request it sent; each path was matched against
// the spec's paths. Result: all 103 operations were already called, each by
// the suites in the last column of the table below (most calls first). The
// service-scoped twins (/v1/Services/{ChatServiceSid}/…) are covered by the
// same suites as their /v1/… forms, because conversations, messages,
// webhooks, users and roles run once per scope: v1.*,
// v1.services(default).* and v1.services(new).*.
//
// So this file adds no operation that was missing. For the operations marked
// "here", it adds:
//   - the service-scoped operations on a service of their own, with each
//     record twilio-node returns compared whole: every field, dates included
//     (set with DateCreated/DateUpdated where the API takes them). The other
//     suites check only some fields. This covers roles, users,
//     conversations, participants (chat and SMS), messages (chat, system and
//     SMS authors), delivery receipts, conversation webhooks (webhook,
//     trigger, studio), ConversationWithParticipants, user conversations and
//     participant conversations, with their deletes and 404s. Receipts are
//     made through parley's injection control, POST
//     /parley/v1/Services/IS…/Conversations/CH…/Messages/IM…/Receipts
//     (ParticipantSid of an SMS participant, Status, ErrorCode), in plain
//     HTTP;
//   - twins: on the default service, each kind of record, read (and some
//     written or deleted) through /v1/…, equals the same record read through
//     /v1/Services/IS…. Only the URLs differ, plus chat_service_sid where
//     the account-level shape lacks it (participants, messages, receipts,
//     conversation webhooks);
//   - a guard: the table must name exactly the spec's 103 operations and only
//     suites that exist. The operations this script calls through
//     twilio-node, recorded at run time, must be exactly those marked "here".
//     The last column is what the audit found and is not checked again at
//     run time: after a suite changes, redo the audit.
//
//   operation (spec operationId)               this  other suites that call it through twilio-node
//   FetchConfiguration                         -     configuration
//   UpdateConfiguration                        -     configuration
//   ListConfigurationAddress                   -     push-addresses
//   CreateConfigurationAddress                 -     push-addresses
//   FetchConfigurationAddress                  -     push-addresses
//   UpdateConfigurationAddress                 -     push-addresses
//   DeleteConfigurationAddress                 -     push-addresses
//   FetchConfigurationWebhook                  -     configuration
//   UpdateConfigurationWebhook                 -     configuration
//   CreateConversation                         -     conversations, messages, webhooks
//   ListConversation                           here  conversations
//   UpdateConversation                         -     conversations
//   DeleteConversation                         here  conversations, messages, push-addresses, webhooks
//   FetchConversation                          here  conversations, push-addresses
//   CreateConversationMessage                  -     messages
//   ListConversationMessage                    here  messages
//   UpdateConversationMessage                  here  messages
//   DeleteConversationMessage                  here  messages
//   FetchConversationMessage                   here  messages
//   FetchConversationMessageReceipt            here  messages
//   ListConversationMessageReceipt             here  messages
//   CreateConversationParticipant              here  conversations, messages
//   ListConversationParticipant                here  conversations
//   UpdateConversationParticipant              -     conversations
//   DeleteConversationParticipant              here  conversations, messages
//   FetchConversationParticipant               here  conversations
//   ListConversationScopedWebhook              here  webhooks
//   CreateConversationScopedWebhook            -     webhooks
//   FetchConversationScopedWebhook             here  webhooks
//   UpdateConversationScopedWebhook            -     webhooks
//   DeleteConversationScopedWebhook            here  webhooks
//   CreateConversationWithParticipants         here  conversations
//   CreateCredential                           -     push-addresses
//   ListCredential                             -     push-addresses
//   UpdateCredential                           -     push-addresses
//   DeleteCredential                           -     push-addresses
//   FetchCredential                            -     push-addresses
//   ListParticipantConversation                here  conversations
//   CreateRole                                 -     roles, errors
//   ListRole                                   here  roles, configuration, errors
//   UpdateRole                                 -     roles
//   DeleteRole                                 here  roles
//   FetchRole                                  here  roles, errors
//   CreateService                              here  services, users, configuration, conversations, messages, push-addresses, roles
//   ListService                                -     services, errors
//   DeleteService                              here  services, users, push-addresses, roles
//   FetchService                               -     services, errors
//   DeleteServiceBinding                       -     push-addresses
//   FetchServiceBinding                        -     push-addresses
//   ListServiceBinding                         -     push-addresses
//   FetchServiceConfiguration                  here  configuration, users, conversations, services
//   UpdateServiceConfiguration                 -     configuration, push-addresses
//   CreateServiceConversation                  here  conversations, messages, webhooks
//   ListServiceConversation                    here  conversations, push-addresses
//   UpdateServiceConversation                  here  conversations
//   DeleteServiceConversation                  here  conversations, messages, webhooks
//   FetchServiceConversation                   here  conversations, push-addresses
//   CreateServiceConversationMessage           here  messages
//   ListServiceConversationMessage             here  messages, push-addresses
//   UpdateServiceConversationMessage           here  messages
//   DeleteServiceConversationMessage           here  messages
//   FetchServiceConversationMessage            here  messages
//   FetchServiceConversationMessageReceipt     here  messages
//   ListServiceConversationMessageReceipt      here  messages
//   CreateServiceConversationParticipant       here  conversations, messages
//   ListServiceConversationParticipant         here  conversations, push-addresses
//   UpdateServiceConversationParticipant       here  conversations
//   DeleteServiceConversationParticipant       here  conversations, messages
//   FetchServiceConversationParticipant        here  conversations
//   CreateServiceConversationScopedWebhook     here  webhooks
//   ListServiceConversationScopedWebhook       here  webhooks
//   UpdateServiceConversationScopedWebhook     here  webhooks
//   DeleteServiceConversationScopedWebhook     here  webhooks
//   FetchServiceConversationScopedWebhook      here  webhooks
//   CreateServiceConversationWithParticipants  here  conversations
//   UpdateServiceNotification                  -     push-addresses
//   FetchServiceNotification                   -     push-addresses
//   ListServiceParticipantConversation         here  conversations
//   CreateServiceRole                          here  roles, configuration, users, services
//   ListServiceRole                            here  roles, users, configuration, services, errors
//   UpdateServiceRole                          here  roles
//   DeleteServiceRole                          here  roles, users
//   FetchServiceRole                           here  roles, services
//   CreateServiceUser                          here  users, configuration, push-addresses, services, errors
//   ListServiceUser                            here  users, errors, services
//   UpdateServiceUser                          here  users
//   DeleteServiceUser                          here  users, configuration, push-addresses, conversations, messages
//   FetchServiceUser                           here  users, push-addresses, configuration, conversations, services
//   UpdateServiceUserConversation              here  conversations, messages
//   DeleteServiceUserConversation              here  conversations
//   FetchServiceUserConversation               here  conversations, messages
//   ListServiceUserConversation                here  conversations
//   UpdateServiceWebhookConfiguration          -     configuration
//   FetchServiceWebhookConfiguration           -     configuration
//   CreateUser                                 here  users, errors, configuration, services
//   ListUser                                   here  users, errors, configuration, services
//   UpdateUser                                 -     users, errors
//   DeleteUser                                 here  users, errors, conversations, messages
//   FetchUser                                  -     users, configuration, conversations, errors, services
//   UpdateUserConversation                     here  conversations, messages
//   DeleteUserConversation                     here  conversations
//   FetchUserConversation                      -     conversations, messages
//   ListUserConversation                       here  conversations

import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { assert, expectDate, expectRestError, plain, run, setup, step } from "./lib.mjs";

const { client, env, v1 } = setup();

// ---- Which operation each SDK request is

const SPEC = new URL("../../internal/spec/twilio_conversations_v1.json", import.meta.url);
const OPERATIONS = (() => {
  const ops = [];
  for (const [path, item] of Object.entries(JSON.parse(readFileSync(SPEC, "utf8")).paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!op || !op.operationId) continue;
      const rx = new RegExp("^" + path.replace(/\{[^}]+\}/g, "[^/]+") + "$");
      ops.push({ id: op.operationId, method: method.toUpperCase(), path, rx, literal: path.replace(/\{[^}]+\}/g, "").length });
    }
  }
  return ops;
})();

// operationOf names the spec operation of a request. Should two spec paths
// ever match one request (none do today), the one with more literal text
// wins, as a router would pick it.
function operationOf(method, path) {
  const hits = OPERATIONS.filter((o) => o.method === method && o.rx.test(path));
  hits.sort((a, b) => b.literal - a.literal);
  return hits.length > 0 ? hits[0].id : `(not in the spec: ${method} ${path})`;
}

// Every request twilio-node makes for this script goes through the
// client's RequestClient; plain fetch calls (parley's controls) do not.
const called = new Set();
{
  const hc = client.httpClient;
  const send = hc.request.bind(hc);
  hc.request = async (opts) => {
    const res = await send(opts);
    called.add(operationOf(String(opts.method).toUpperCase(), new URL(opts.uri).pathname));
    return res;
  };
}

// The audit table of this file's header: operation → the suites that call
// it, and whether this file does.
function auditTable() {
  const src = readFileSync(fileURLToPath(import.meta.url), "utf8");
  const rows = new Map();
  for (const line of src.split("\n")) {
    if (!line.startsWith("//")) break;
    const m = line.match(/^\/\/ {3}([A-Z][A-Za-z]+) +(here|-) +([a-z][a-z, -]*)$/);
    if (m) rows.set(m[1], { here: m[2] === "here", suites: m[3].split(", ") });
  }
  return rows;
}

// ---- Exact comparison

// NOW in a wanted record stands for a date the server chose: a Date, whole
// seconds, near now.
const NOW = Symbol("a server-chosen date");

// exact compares every field of an SDK instance with want.
function exact(got, want, what) {
  const g = plain(got);
  const w = { ...want };
  for (const [k, v] of Object.entries(w)) {
    if (v === NOW) {
      expectDate(g[k], `${what}: ${k}`);
      w[k] = g[k];
    }
  }
  assert.deepEqual(g, w, what);
  return g;
}

const date = (s) => new Date(s);
const T = {
  conv: date("2025-03-01T10:00:00Z"),
  convEdit: date("2025-03-01T10:01:00Z"),
  part: date("2025-03-01T10:02:00Z"),
  partEdit: date("2025-03-01T10:03:00Z"),
  msg0: date("2025-03-01T10:04:00Z"),
  msg1: date("2025-03-01T10:05:00Z"),
  msgEdit: date("2025-03-01T10:06:00Z"),
  team: date("2025-03-02T09:00:00Z"),
};

const SID = (prefix) => new RegExp(`^${prefix}[0-9a-f]{32}$`);
const ghost = (prefix) => prefix + "0".repeat(32);
const notFound = (path) => ({ status: 404, code: 20404, message: `The requested resource ${path} was not found` });

// ---- Wanted records, as twilio-node's service-scoped instances show them

function W(svc) {
  const base = `${env.url}/v1/Services/${svc}`;
  const convURL = (c) => `${base}/Conversations/${c}`;
  return {
    base,
    role: (sid, friendlyName, type, permissions, dateCreated, dateUpdated) => ({
      sid, accountSid: env.accountSid, chatServiceSid: svc, friendlyName, type, permissions,
      dateCreated, dateUpdated, url: `${base}/Roles/${sid}`,
    }),
    user: (sid, identity, roleSid, friendlyName, attributes, dateCreated, dateUpdated) => ({
      sid, accountSid: env.accountSid, chatServiceSid: svc, roleSid, identity, friendlyName, attributes,
      isOnline: null, isNotifiable: null, dateCreated, dateUpdated, url: `${base}/Users/${sid}`,
      links: { user_conversations: `${base}/Users/${sid}/Conversations` },
    }),
    conversation: (sid, friendlyName, uniqueName, attributes, dateCreated, dateUpdated) => ({
      accountSid: env.accountSid, chatServiceSid: svc, messagingServiceSid: null, sid, friendlyName, uniqueName,
      attributes, state: "active", dateCreated, dateUpdated, timers: {}, url: convURL(sid),
      links: {
        participants: `${convURL(sid)}/Participants`,
        messages: `${convURL(sid)}/Messages`,
        webhooks: `${convURL(sid)}/Webhooks`,
        export: `${convURL(sid)}/Export`,
      },
      bindings: {},
    }),
    participant: (conv, sid, identity, messagingBinding, roleSid, attributes, dateCreated, dateUpdated, read = {}) => ({
      accountSid: env.accountSid, chatServiceSid: svc, conversationSid: conv, sid, identity, attributes,
      messagingBinding, roleSid, dateCreated, dateUpdated, url: `${convURL(conv)}/Participants/${sid}`,
      lastReadMessageIndex: read.index ?? null, lastReadTimestamp: read.timestamp ?? null,
    }),
    message: (conv, sid, index, author, participantSid, body, attributes, dateCreated, dateUpdated, delivery = null) => ({
      accountSid: env.accountSid, chatServiceSid: svc, conversationSid: conv, sid, index, author, body, media: null,
      attributes, participantSid, dateCreated, dateUpdated, delivery, url: `${convURL(conv)}/Messages/${sid}`,
      links: {
        delivery_receipts: `${convURL(conv)}/Messages/${sid}/Receipts`,
        channel_metadata: `${convURL(conv)}/Messages/${sid}/ChannelMetadata`,
      },
      contentSid: null,
    }),
    receipt: (conv, msg, sid, participantSid, status, errorCode, dateCreated, dateUpdated) => ({
      accountSid: env.accountSid, chatServiceSid: svc, conversationSid: conv, messageSid: msg, sid,
      channelMessageSid: "SM" + msg.slice(2, 18) + participantSid.slice(2, 18), participantSid, status, errorCode,
      dateCreated, dateUpdated, url: `${convURL(conv)}/Messages/${msg}/Receipts/${sid}`,
    }),
    webhook: (conv, sid, target, configuration, dateCreated, dateUpdated) => ({
      sid, accountSid: env.accountSid, chatServiceSid: svc, conversationSid: conv, target,
      url: `${convURL(conv)}/Webhooks/${sid}`, configuration, dateCreated, dateUpdated,
    }),
    // A user's view of a conversation: the conversation's name, state,
    // attributes and dates, the participant's read horizon and level.
    userConversation: (c, user, part, { lastRead = null, unread = null, level = "default" } = {}) => ({
      accountSid: env.accountSid, chatServiceSid: svc, conversationSid: c.sid, unreadMessagesCount: unread,
      lastReadMessageIndex: lastRead, participantSid: part, userSid: user, friendlyName: c.friendlyName,
      conversationState: c.state, timers: c.timers, attributes: c.attributes, dateCreated: c.dateCreated,
      dateUpdated: c.dateUpdated, createdBy: "system", notificationLevel: level, uniqueName: c.uniqueName,
      url: `${base}/Users/${user}/Conversations/${c.sid}`,
      links: { participant: `${convURL(c.sid)}/Participants/${part}`, conversation: convURL(c.sid) },
    }),
    participantConversation: (c, part, userSid, identity, binding) => ({
      accountSid: env.accountSid, chatServiceSid: svc, participantSid: part, participantUserSid: userSid,
      participantIdentity: identity, participantMessagingBinding: binding, conversationSid: c.sid,
      conversationUniqueName: c.uniqueName, conversationFriendlyName: c.friendlyName,
      conversationAttributes: c.attributes, conversationDateCreated: c.dateCreated,
      conversationDateUpdated: c.dateUpdated, conversationCreatedBy: "system", conversationState: c.state,
      conversationTimers: c.timers,
      links: { participant: `${convURL(c.sid)}/Participants/${part}`, conversation: convURL(c.sid) },
    }),
  };
}

// ---- parley's receipt injection control (plain HTTP, as a test calls it)

async function injectReceipt(svc, conv, msg, form) {
  const res = await fetch(`${env.url}/parley/v1/Services/${svc}/Conversations/${conv}/Messages/${msg}/Receipts`, {
    method: "POST",
    headers: {
      Authorization: "Basic " + Buffer.from(`${env.accountSid}:${env.authToken}`).toString("base64"),
      "Content-Type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams(form),
  });
  const body = await res.json();
  assert.equal(res.status, 201, `receipt injection ${JSON.stringify(form)}: ${JSON.stringify(body)}`);
  return body;
}

// ---- The service-scoped operations on a service of their own

async function serviceScoped() {
  const svc = await v1.services.create({ friendlyName: "sdktest coverage" });
  const IS = svc.sid;
  const api = v1.services(IS);
  const w = W(IS);
  const cfg = await api.configuration().fetch();
  const defaults = (await api.roles.list()).map(plain);
  const s = {}; // what the steps make

  await step("service roles: create, fetch, update, list", async () => {
    const r = await api.roles.create({
      friendlyName: "coverage member",
      type: "conversation",
      permission: ["sendMessage", "leaveConversation", "sendMessage"],
    });
    assert.match(r.sid, SID("RL"));
    const made = exact(r, w.role(r.sid, "coverage member", "conversation", ["sendMessage", "leaveConversation"], NOW, NOW),
      "create (repeats dropped, first-seen order)");
    assert.equal(made.dateUpdated.getTime(), made.dateCreated.getTime(), "create: date_updated = date_created");
    assert.deepEqual(plain(await api.roles(r.sid).fetch()), made, "fetch");
    const u = exact(await api.roles(r.sid).update({ permission: ["sendMediaMessage", "sendMessage"] }),
      w.role(r.sid, "coverage member", "conversation", ["sendMediaMessage", "sendMessage"], made.dateCreated, NOW),
      "update replaces the permissions");
    assert.ok(u.dateUpdated >= made.dateUpdated, "update: date_updated moves on");
    assert.deepEqual((await api.roles.list({ pageSize: 3 })).map(plain), [...defaults, u], "list");
    await expectRestError(api.roles(ghost("RL")).fetch(), notFound(`/Services/${IS}/Roles/${ghost("RL")}`), "unknown role");
    s.role = u;
  });

  await step("service users: create, fetch by identity, update, list", async () => {
    const u = await api.users.create({ identity: "ana", friendlyName: "Ana", attributes: '{"tier":1}' });
    assert.match(u.sid, SID("US"));
    const made = exact(u, w.user(u.sid, "ana", cfg.defaultChatServiceRoleSid, "Ana", '{"tier":1}', NOW, NOW), "create");
    assert.deepEqual(plain(await api.users("ana").fetch()), made, "fetch by identity");
    const upd = exact(await api.users(u.sid).update({ friendlyName: "Ana B.", attributes: '{"tier":2}' }),
      w.user(u.sid, "ana", cfg.defaultChatServiceRoleSid, "Ana B.", '{"tier":2}', made.dateCreated, NOW), "update");
    assert.deepEqual((await api.users.list()).map(plain), [upd], "list");
    s.ana = upd;
  });

  await step("service conversations: create, fetch by unique name, update, list", async () => {
    const c = await api.conversations.create({
      friendlyName: "Coverage",
      uniqueName: "cov",
      attributes: '{"topic":"audit"}',
      dateCreated: T.conv,
      dateUpdated: T.conv,
    });
    assert.match(c.sid, SID("CH"));
    const made = exact(c, w.conversation(c.sid, "Coverage", "cov", '{"topic":"audit"}', T.conv, T.conv), "create");
    assert.deepEqual(plain(await api.conversations("cov").fetch()), made, "fetch by unique name");
    s.conv = exact(await api.conversations(c.sid).update({
      friendlyName: "Coverage 2",
      attributes: '{"topic":"done"}',
      dateUpdated: T.convEdit,
    }), w.conversation(c.sid, "Coverage 2", "cov", '{"topic":"done"}', T.conv, T.convEdit), "update");
    assert.deepEqual((await api.conversations.list()).map(plain), [s.conv], "list");
    await expectRestError(api.conversations(ghost("CH")).fetch(),
      notFound(`/Services/${IS}/Conversations/${ghost("CH")}`), "unknown conversation");
  });

  await step("service participants: chat and SMS, fetch, update, list", async () => {
    const conv = s.conv.sid;
    const parts = api.conversations(conv).participants;
    const ana = await parts.create({
      identity: "ana", attributes: '{"seat":1}', roleSid: s.role.sid, dateCreated: T.part, dateUpdated: T.part,
    });
    assert.match(ana.sid, SID("MB"));
    exact(ana, w.participant(conv, ana.sid, "ana", null, s.role.sid, '{"seat":1}', T.part, T.part), "create chat");
    const sms = {};
    for (const [k, address] of [["sms", "+15550100001"], ["sms2", "+15550100002"]]) {
      const p = await parts.create({
        "messagingBinding.address": address,
        "messagingBinding.proxyAddress": "+15550100999",
        dateCreated: T.part,
        dateUpdated: T.part,
      });
      sms[k] = exact(p, w.participant(conv, p.sid, null, { type: "sms", address, proxy_address: "+15550100999" },
        null, "{}", T.part, T.part), `create ${k}`);
    }
    assert.deepEqual(plain(await api.conversations("cov").participants("ana").fetch()), plain(ana), "fetch by identity");
    assert.deepEqual(plain(await parts(sms.sms.sid).fetch()), sms.sms, "fetch by SID");
    const upd = exact(await parts(ana.sid).update({
      attributes: '{"seat":2}',
      roleSid: cfg.defaultConversationRoleSid,
      lastReadTimestamp: "2025-03-01T10:07:00Z",
      dateUpdated: T.partEdit,
    }), w.participant(conv, ana.sid, "ana", null, cfg.defaultConversationRoleSid, '{"seat":2}', T.part, T.partEdit,
      { timestamp: "2025-03-01T10:07:00Z" }), "update");
    assert.deepEqual((await parts.list({ pageSize: 1 })).map(plain), [upd, sms.sms, sms.sms2], "list");
    await expectRestError(parts(ghost("MB")).fetch(),
      notFound(`/Services/${IS}/Conversations/${conv}/Participants/${ghost("MB")}`), "unknown participant");
    Object.assign(s, { anaPart: upd, sms: sms.sms, sms2: sms.sms2 });
  });

  await step("service messages: chat, system and SMS authors, fetch, update, list, delete", async () => {
    const conv = s.conv.sid;
    const msgs = api.conversations(conv).messages;
    const m0 = await msgs.create({
      author: "ana", body: "hello", attributes: '{"n":0}', dateCreated: T.msg0, dateUpdated: T.msg0,
    });
    assert.match(m0.sid, SID("IM"));
    const want0 = w.message(conv, m0.sid, 0, "ana", s.anaPart.sid, "hello", '{"n":0}', T.msg0, T.msg0);
    exact(m0, want0, "create, chat author");
    const m1 = await msgs.create({ body: "note", dateCreated: T.msg1 });
    exact(m1, w.message(conv, m1.sid, 1, "system", null, "note", "{}", T.msg1, T.msg1),
      "create, system author (date_updated = date_created)");
    const m2 = await msgs.create({ author: "+15550100001", body: "from a phone" });
    const got2 = exact(m2, w.message(conv, m2.sid, 2, "+15550100001", s.sms.sid, "from a phone", "{}", NOW, NOW),
      "create, the SMS participant's address as author");
    assert.equal(got2.dateUpdated.getTime(), got2.dateCreated.getTime(), "date_updated = date_created");
    assert.deepEqual(plain(await api.conversations("cov").messages(m0.sid).fetch()), want0, "fetch");
    const want1 = w.message(conv, m1.sid, 1, "system", null, "note, edited", '{"edited":true}', T.msg1, T.msgEdit);
    exact(await msgs(m1.sid).update({ body: "note, edited", attributes: '{"edited":true}', dateUpdated: T.msgEdit }),
      want1, "update");
    assert.deepEqual((await msgs.list({ pageSize: 2 })).map(plain), [want0, want1, got2], "list");
    assert.deepEqual((await msgs.list({ order: "desc" })).map(plain), [got2, want1, want0], "list desc");
    assert.equal(await msgs(m2.sid).remove(), true, "delete");
    const gone = `/Services/${IS}/Conversations/${conv}/Messages/${m2.sid}`;
    await expectRestError(msgs(m2.sid).fetch(), notFound(gone), "fetch deleted");
    await expectRestError(msgs(m2.sid).remove(), notFound(gone), "delete twice");
    Object.assign(s, { m0: want0, m1: want1 });
  });

  await step("service receipts: injected statuses, list, fetch, the message's delivery", async () => {
    const conv = s.conv.sid;
    const msg = (sid) => api.conversations(conv).messages(sid);
    // m0: sent, then delivered: one receipt, its SID and date_created kept.
    const first = await injectReceipt(IS, conv, s.m0.sid, { ParticipantSid: s.sms.sid, Status: "sent" });
    assert.match(first.sid, SID("DY"));
    const again = await injectReceipt(IS, conv, s.m0.sid, { ParticipantSid: s.sms.sid, Status: "delivered" });
    assert.deepEqual([again.sid, again.date_created, again.status], [first.sid, first.date_created, "delivered"],
      "a later status updates the participant's receipt");
    const r0 = await msg(s.m0.sid).deliveryReceipts.list();
    assert.equal(r0.length, 1);
    const got0 = exact(r0[0], w.receipt(conv, s.m0.sid, first.sid, s.sms.sid, "delivered", null, NOW, NOW), "list m0");
    assert.equal(got0.dateCreated.toISOString().replace(".000", ""), first.date_created, "date_created");
    assert.ok(got0.dateUpdated >= got0.dateCreated, "date_updated");
    assert.deepEqual(plain(await msg(s.m0.sid).deliveryReceipts(first.sid).fetch()), got0, "fetch m0's receipt");
    exact(await msg(s.m0.sid).fetch(), {
      ...s.m0,
      delivery: { total: 1, sent: "all", delivered: "all", read: "none", failed: "none", undelivered: "none" },
    }, "m0 with its delivery");

    // m1: one read, one undelivered with its error code.
    const read = await injectReceipt(IS, conv, s.m1.sid, { ParticipantSid: s.sms.sid, Status: "read" });
    const lost = await injectReceipt(IS, conv, s.m1.sid, { ParticipantSid: s.sms2.sid, Status: "undelivered", ErrorCode: "30003" });
    const r1 = (await msg(s.m1.sid).deliveryReceipts.list({ pageSize: 1 })).map(plain);
    assert.deepEqual(r1.map((r) => r.sid), [read.sid, lost.sid], "m1's receipts, page by page");
    exact(r1[0], w.receipt(conv, s.m1.sid, read.sid, s.sms.sid, "read", null, NOW, NOW), "m1, read");
    exact(r1[1], w.receipt(conv, s.m1.sid, lost.sid, s.sms2.sid, "undelivered", 30003, NOW, NOW), "m1, undelivered");
    assert.deepEqual(plain(await msg(s.m1.sid).deliveryReceipts(lost.sid).fetch()), r1[1], "fetch m1's undelivered");
    exact(await msg(s.m1.sid).fetch(), {
      ...s.m1,
      delivery: { total: 2, sent: "some", delivered: "some", read: "some", failed: "none", undelivered: "some" },
    }, "m1 with its delivery");
    await expectRestError(msg(s.m1.sid).deliveryReceipts(ghost("DY")).fetch(),
      notFound(`/Services/${IS}/Conversations/${conv}/Messages/${s.m1.sid}/Receipts/${ghost("DY")}`), "unknown receipt");
  });

  await step("service conversation webhooks: webhook, trigger, studio; fetch, update, list, delete", async () => {
    const conv = s.conv.sid;
    const hooks = api.conversations(conv).webhooks;
    const wh = await hooks.create({
      target: "webhook",
      "configuration.url": "https://cov.test/hook",
      "configuration.method": "GET",
      "configuration.filters": ["onMessageAdded", "onConversationUpdated"],
    });
    assert.match(wh.sid, SID("WH"));
    const madeWh = exact(wh, w.webhook(conv, wh.sid, "webhook",
      { url: "https://cov.test/hook", method: "get", filters: ["onMessageAdded", "onConversationUpdated"] }, NOW, NOW),
    "create webhook");
    const tr = await hooks.create({
      target: "trigger", "configuration.url": "https://cov.test/t", "configuration.triggers": ["help", "agent"],
    });
    const madeTr = exact(tr, w.webhook(conv, tr.sid, "trigger",
      { url: "https://cov.test/t", method: "post", filters: ["help", "agent"], triggers: ["help", "agent"] }, NOW, NOW),
    "create trigger");
    const FW = "FW" + "0123456789abcdef".repeat(2);
    const st = await hooks.create({ target: "studio", "configuration.flowSid": FW });
    const madeSt = exact(st, w.webhook(conv, st.sid, "studio", { flow_sid: FW }, NOW, NOW), "create studio");
    assert.deepEqual(plain(await hooks(tr.sid).fetch()), madeTr, "fetch");
    const upd = exact(await hooks(wh.sid).update({ "configuration.filters": ["onMessageRemoved"], "configuration.method": "post" }),
      w.webhook(conv, wh.sid, "webhook", { url: "https://cov.test/hook", method: "post", filters: ["onMessageRemoved"] },
        madeWh.dateCreated, NOW), "update");
    assert.deepEqual((await hooks.list({ pageSize: 2 })).map(plain), [upd, madeTr, madeSt], "list");
    for (const h of [wh, tr, st]) assert.equal(await hooks(h.sid).remove(), true, `delete ${h.target}`);
    await expectRestError(hooks(wh.sid).fetch(),
      notFound(`/Services/${IS}/Conversations/${conv}/Webhooks/${wh.sid}`), "fetch deleted");
    assert.deepEqual(await hooks.list(), [], "none left");
  });

  await step("service conversation with participants", async () => {
    const team = await api.conversationWithParticipants.create({
      friendlyName: "Team",
      uniqueName: "team",
      attributes: '{"size":3}',
      dateCreated: T.team,
      dateUpdated: T.team,
      participant: [
        '{"identity":"ana","attributes":{"lead":true}}',
        '{"identity":"bea","role_sid":"' + s.role.sid + '"}',
        '{"messaging_binding":{"address":"+15550100003","proxy_address":"+15550100999"}}',
      ],
    });
    assert.match(team.sid, SID("CH"));
    const want = w.conversation(team.sid, "Team", "team", '{"size":3}', T.team, T.team);
    delete want.links.export; // the ConversationWithParticipants shape has no export link
    exact(team, want, "create");
    s.team = plain(await api.conversations(team.sid).fetch());
    assert.deepEqual(s.team, w.conversation(team.sid, "Team", "team", '{"size":3}', T.team, T.team), "fetch");
    const parts = (await api.conversations("team").participants.list()).map(plain);
    assert.equal(parts.length, 3);
    const bea = plain(await api.users("bea").fetch());
    exact(bea, w.user(bea.sid, "bea", cfg.defaultChatServiceRoleSid, null, "{}", NOW, NOW), "bea, created with the conversation");
    exact(parts[0], w.participant(team.sid, parts[0].sid, "ana", null, cfg.defaultConversationRoleSid, '{"lead":true}', NOW, NOW),
      "ana");
    exact(parts[1], w.participant(team.sid, parts[1].sid, "bea", null, s.role.sid, "{}", NOW, NOW), "bea");
    exact(parts[2], w.participant(team.sid, parts[2].sid, null,
      { type: "sms", address: "+15550100003", proxy_address: "+15550100999" }, null, "{}", NOW, NOW), "sms");
    Object.assign(s, { bea, teamParts: parts });
    await expectRestError(api.conversationWithParticipants.create({ participant: ['{"identity":"x"}', "[]"] }),
      { status: 400, code: 50424, message: "One of the JSON requests for participant creation is invalid: not a JSON object" },
      "a participant that is not a JSON object");
    assert.deepEqual((await api.conversations.list()).map((c) => c.sid), [s.conv.sid, team.sid], "nothing else created");
  });

  await step("service user conversations: list, fetch, update", async () => {
    const conv = s.conv; // unchanged since its update: participants and messages do not touch it
    assert.deepEqual(plain(await api.conversations(conv.sid).fetch()), conv, "the conversation as the views show it");
    const ucs = api.users("ana").userConversations;
    const inCov = w.userConversation(conv, s.ana.sid, s.anaPart.sid);
    const inTeam = w.userConversation(s.team, s.ana.sid, s.teamParts[0].sid);
    assert.deepEqual((await ucs.list({ pageSize: 1 })).map(plain), [inCov, inTeam], "list, in the order ana joined");
    assert.deepEqual(plain(await api.users(s.ana.sid).userConversations("team").fetch()), inTeam, "fetch by unique name");
    // Message indexes 0..2 were given (2 deleted): read up to 0, 2 unread.
    const upd = { ...inCov, notificationLevel: "muted", lastReadMessageIndex: 0, unreadMessagesCount: 2 };
    assert.deepEqual(plain(await ucs(conv.sid).update({ notificationLevel: "muted", lastReadMessageIndex: 0 })), upd, "update");
    assert.deepEqual(plain(await ucs("cov").fetch()), upd, "fetch after update");
    assert.equal((await api.conversations(conv.sid).participants("ana").fetch()).lastReadMessageIndex, 0,
      "the participant's horizon moved");
    await expectRestError(ucs(conv.sid).update({ notificationLevel: "loud" }),
      { status: 400, code: 50210, message: 'Invalid NotificationLevel "loud": must be default or muted' }, "bad level");
    await expectRestError(api.users("bea").userConversations(conv.sid).fetch(),
      notFound(`/Services/${IS}/Users/bea/Conversations/${conv.sid}`), "not a participant");
    s.anaInCov = upd;
    s.anaInTeam = inTeam;
  });

  await step("service participant conversations: by identity and by address", async () => {
    const bySid = (a, b) => (a.conversationSid < b.conversationSid ? -1 : 1);
    const ana = [
      w.participantConversation(s.conv, s.anaPart.sid, s.ana.sid, "ana", null),
      w.participantConversation(s.team, s.teamParts[0].sid, s.ana.sid, "ana", null),
    ].sort(bySid);
    assert.deepEqual((await api.participantConversations.list({ identity: "ana", pageSize: 1 })).map(plain), ana,
      "ana's, by conversation SID");
    const full = (address) => ({ type: "sms", address, proxy_address: "+15550100999", projected_address: null, level: null, name: null });
    assert.deepEqual((await api.participantConversations.list({ address: "+15550100002" })).map(plain),
      [w.participantConversation(s.conv, s.sms2.sid, null, null, full("+15550100002"))], "by address");
    assert.deepEqual(await api.participantConversations.list({ identity: "nobody" }), [], "nobody's");
    await expectRestError(api.participantConversations.list({ identity: "ana", address: "+15550100002" }), {
      status: 400, code: 50451,
      message: "One user identifier parameter for lookup at a time is allowed. Please, use either Identity or Address.",
    }, "both identity and address");
  });

  await step("service deletes: leave, participants, conversations, users, role, service", async () => {
    const conv = s.conv.sid;
    assert.equal(await api.users("ana").userConversations(conv).remove(), true, "ana leaves cov");
    await expectRestError(api.conversations(conv).participants(s.anaPart.sid).fetch(),
      notFound(`/Services/${IS}/Conversations/${conv}/Participants/${s.anaPart.sid}`), "ana's participant is gone");
    await expectRestError(api.users("ana").userConversations(conv).remove(),
      notFound(`/Services/${IS}/Users/ana/Conversations/${conv}`), "leave twice");
    assert.deepEqual((await api.users("ana").userConversations.list()).map(plain), [s.anaInTeam], "ana is still in team");
    for (const p of [s.sms, s.sms2]) assert.equal(await api.conversations(conv).participants(p.sid).remove(), true);
    assert.deepEqual(await api.conversations(conv).participants.list(), [], "cov has no participants");
    await expectRestError(api.conversations(conv).participants(s.sms.sid).remove(),
      notFound(`/Services/${IS}/Conversations/${conv}/Participants/${s.sms.sid}`), "delete a participant twice");
    for (const c of [conv, s.team.sid]) assert.equal(await api.conversations(c).remove(), true);
    await expectRestError(api.conversations("team").fetch(), notFound(`/Services/${IS}/Conversations/team`), "team is gone");
    await expectRestError(api.conversations(conv).remove(), notFound(`/Services/${IS}/Conversations/${conv}`), "delete twice");
    assert.deepEqual(await api.conversations.list(), [], "no conversations");
    for (const u of [s.ana, s.bea]) assert.equal(await api.users(u.sid).remove(), true);
    await expectRestError(api.users("bea").remove(), notFound(`/Services/${IS}/Users/bea`), "delete a user twice");
    assert.deepEqual(await api.users.list(), [], "no users");
    assert.equal(await api.roles(s.role.sid).remove(), true);
    await expectRestError(api.roles(s.role.sid).remove(), notFound(`/Services/${IS}/Roles/${s.role.sid}`), "delete a role twice");
    assert.deepEqual((await api.roles.list()).map(plain), defaults, "the default roles are left");
    assert.equal(await v1.services(IS).remove(), true);
  });
}

// ---- The shortened /v1/… twins on the default service

// asAccount is a record of the default service as its /v1/… twin shows
// it: URLs without /Services/IS…, and no chat_service_sid where the
// account-level shape has none (participants, messages, receipts and
// conversation webhooks).
function asAccount(x, dropService) {
  const prefix = `${env.url}/v1/Services/${env.defaultServiceSid}/`;
  const walk = (v) => {
    if (typeof v === "string") return v.startsWith(prefix) ? `${env.url}/v1/` + v.slice(prefix.length) : v;
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object" && !(v instanceof Date)) {
      return Object.fromEntries(Object.entries(v).filter(([k]) => !(dropService && k === "chatServiceSid")).map(([k, val]) => [k, walk(val)]));
    }
    return v;
  };
  return walk(plain(x));
}

async function twins() {
  const dflt = env.defaultServiceSid;
  const svc = v1.services(dflt);
  const same = async (viaService, viaAccount, dropService, what) => {
    const want = Array.isArray(viaService) ? viaService.map((x) => asAccount(x, dropService)) : asAccount(viaService, dropService);
    const got = Array.isArray(viaAccount) ? viaAccount.map(plain) : plain(viaAccount);
    assert.deepEqual(got, want, `${what}: /v1/… equals /v1/Services/IS…`);
  };

  await step("twins: the default service's records through /v1/… and /v1/Services/IS…", async () => {
    const role = await svc.roles.create({ friendlyName: "twin", type: "conversation", permission: ["sendMessage"] });
    await same(await svc.roles(role.sid).fetch(), await v1.roles(role.sid).fetch(), false, "role");
    await same(await svc.roles.list(), await v1.roles.list(), false, "roles");
    const user = await v1.users.create({ identity: "twin" });
    await same(await svc.users("twin").fetch(), user, false, "user created via /v1/Users");
    await same(await svc.users.list(), await v1.users.list(), false, "users");

    const conv = await svc.conversations.create({ uniqueName: "twin", dateCreated: T.conv, dateUpdated: T.conv });
    await same(conv, await v1.conversations("twin").fetch(), false, "conversation");
    await same(await svc.conversations.list(), await v1.conversations.list(), false, "conversations");
    const part = await v1.conversations("twin").participants.create({ identity: "twin", roleSid: role.sid });
    await same(await svc.conversations("twin").participants(part.sid).fetch(), part, true, "participant created via /v1");
    const sms = await svc.conversations("twin").participants.create({ "messagingBinding.address": "+15550200001" });
    await same(sms, await v1.conversations(conv.sid).participants(sms.sid).fetch(), true, "SMS participant");
    await same(await svc.conversations("twin").participants.list(), await v1.conversations("twin").participants.list(), true,
      "participants");
    const msg = await svc.conversations("twin").messages.create({ author: "twin", body: "twin" });
    await same(msg, await v1.conversations("twin").messages(msg.sid).fetch(), true, "message");
    const edited = await v1.conversations("twin").messages(msg.sid).update({ body: "twin, edited" });
    await same(await svc.conversations("twin").messages(msg.sid).fetch(), edited, true, "message edited via /v1");
    await same(await svc.conversations("twin").messages.list(), await v1.conversations("twin").messages.list(), true,
      "messages");
    const r = await injectReceipt(dflt, conv.sid, msg.sid, { ParticipantSid: sms.sid, Status: "failed", ErrorCode: "30008" });
    await same(await svc.conversations("twin").messages(msg.sid).deliveryReceipts(r.sid).fetch(),
      await v1.conversations("twin").messages(msg.sid).deliveryReceipts(r.sid).fetch(), true, "receipt");
    await same(await svc.conversations("twin").messages(msg.sid).deliveryReceipts.list(),
      await v1.conversations("twin").messages(msg.sid).deliveryReceipts.list(), true, "receipts");
    const hook = await svc.conversations("twin").webhooks.create({ target: "studio", "configuration.flowSid": "FW" + "1".repeat(32) });
    await same(hook, await v1.conversations("twin").webhooks(hook.sid).fetch(), true, "webhook");
    await same(await svc.conversations("twin").webhooks.list(), await v1.conversations("twin").webhooks.list(), true, "webhooks");
    const uc = await v1.users("twin").userConversations("twin").update({ notificationLevel: "muted" });
    await same(await svc.users("twin").userConversations(conv.sid).fetch(), uc, false, "user conversation updated via /v1");
    await same(await svc.users(user.sid).userConversations.list(), await v1.users("twin").userConversations.list(), false,
      "user conversations");
    await same(await svc.participantConversations.list({ identity: "twin" }),
      await v1.participantConversations.list({ identity: "twin" }), false, "participant conversations");
    // Two conversations with participants, one through each path: the same
    // record but for the SID and the URLs.
    const cwp = (sid) => {
      const x = W(dflt).conversation(sid, "twins", null, "{}", T.team, T.team);
      delete x.links.export;
      return x;
    };
    const team = await svc.conversationWithParticipants.create({ friendlyName: "twins", dateCreated: T.team, dateUpdated: T.team });
    exact(team, cwp(team.sid), "conversation with participants via /v1/Services/IS…");
    const teamAcct = await v1.conversationWithParticipants.create({ friendlyName: "twins", dateCreated: T.team, dateUpdated: T.team });
    exact(teamAcct, asAccount(cwp(teamAcct.sid), false), "conversation with participants via /v1");

    // Deletes through /v1/…, seen through /v1/Services/IS….
    assert.equal(await v1.conversations("twin").webhooks(hook.sid).remove(), true);
    assert.equal(await v1.conversations("twin").messages(msg.sid).remove(), true);
    assert.equal(await v1.conversations("twin").participants(sms.sid).remove(), true);
    assert.equal(await v1.users("twin").userConversations("twin").remove(), true);
    for (const c of [conv.sid, team.sid, teamAcct.sid]) assert.equal(await v1.conversations(c).remove(), true);
    assert.deepEqual(await svc.conversations.list(), [], "no conversations left");
    assert.equal(await v1.users("twin").remove(), true);
    assert.equal(await v1.roles(role.sid).remove(), true);
    await expectRestError(svc.roles(role.sid).fetch(), notFound(`/Services/${dflt}/Roles/${role.sid}`), "role deleted via /v1");
    await expectRestError(svc.users(user.sid).fetch(), notFound(`/Services/${dflt}/Users/${user.sid}`), "user deleted via /v1");
  });
}

run("coverage", async () => {
  const audit = auditTable();

  await step("the header's audit table names every operation of the spec", async () => {
    const ids = OPERATIONS.map((o) => o.id);
    assert.equal(ids.length, 103, "the spec's operations");
    assert.deepEqual([...audit.keys()].sort(), [...ids].sort(), "the table's operations are the spec's");
    const here = new URL(".", import.meta.url);
    for (const [id, row] of audit) {
      for (const suite of row.suites) {
        assert.ok(existsSync(new URL(`${suite}.test.mjs`, here)), `${id}: no suite ${suite}.test.mjs`);
      }
    }
  });

  await serviceScoped();
  await twins();

  await step("this file called through twilio-node exactly the operations its header marks \"here\"", async () => {
    const marked = [...audit].filter(([, row]) => row.here).map(([id]) => id).sort();
    assert.deepEqual([...called].sort(), marked);
  });
});
