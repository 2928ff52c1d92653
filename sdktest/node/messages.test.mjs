// Messages through twilio-node, in every scope: send, fetch, edit, list
// both ways (the SDK follows next_page_url), media, delete, and the unread
// count.

import { assert, expectRestError, expectURL, plain, run, setup, step } from "./lib.mjs";

const { env, v1 } = setup();

async function suite(s) {
  const conv = await s.api.conversations.create({ uniqueName: "chat" });
  const alice = await s.api.conversations("chat").participants.create({ identity: "alice" });
  const sids = [];

  await step(`${s.label}: send`, async () => {
    const m = await s.api.conversations("chat").messages.create({
      author: "alice",
      body: "hello",
      attributes: '{"a":1}',
      xTwilioWebhookEnabled: "true",
    });
    assert.match(m.sid, /^IM[0-9a-f]{32}$/);
    assert.deepEqual(
      [m.index, m.author, m.participantSid, m.body, m.attributes, m.media, m.delivery, m.contentSid, m.conversationSid],
      [0, "alice", alice.sid, "hello", '{"a":1}', null, null, null, conv.sid],
    );
    expectURL(env, m.url, `${s.prefix}/Conversations/${conv.sid}/Messages/${m.sid}`, "url");
    expectURL(env, m.links.delivery_receipts, `${s.prefix}/Conversations/${conv.sid}/Messages/${m.sid}/Receipts`, "links");
    assert.equal(m.dateUpdated.getTime(), m.dateCreated.getTime(), "date_updated equals date_created on create");
    sids.push(m.sid);
    for (let i = 1; i < 5; i++) {
      const n = await s.api.conversations(conv.sid).messages.create({ body: `m${i}` });
      assert.deepEqual([n.index, n.author, n.participantSid], [i, "system", null]);
      sids.push(n.sid);
    }
    await expectRestError(s.api.conversations("chat").messages.create({}),
      { status: 400, code: 50503, message: "Message body not provided" }, "empty message");
  });

  await step(`${s.label}: fetch and edit`, async () => {
    const m = await s.api.conversations("chat").messages(sids[0]).fetch();
    assert.equal(m.body, "hello");
    const e = await s.api.conversations(conv.sid).messages(sids[0]).update({ body: "hello, edited" });
    assert.deepEqual([e.body, e.index], ["hello, edited", 0]);
    assert.deepEqual(plain(await s.api.conversations("chat").messages(sids[0]).fetch()), plain(e));
  });

  await step(`${s.label}: list both ways`, async () => {
    const asc = await s.api.conversations("chat").messages.list({ pageSize: 2 });
    assert.deepEqual(asc.map((m) => m.sid), sids);
    const desc = await s.api.conversations("chat").messages.list({ order: "desc", pageSize: 2 });
    assert.deepEqual(desc.map((m) => m.sid), [...sids].reverse());
    const last = await s.api.conversations("chat").messages.page({ order: "desc", pageSize: 1 });
    assert.equal(last.instances[0].sid, sids[4]);
  });

  await step(`${s.label}: delivery receipts`, async () => {
    const sms = await s.api.conversations("chat").participants.create({ "messagingBinding.address": "+15551230001" });
    // The injection control is parley's own: plain HTTP, as a test calls it.
    const res = await fetch(`${env.url}/parley/v1${s.prefix.replace(/^\/v1/, "")}/Conversations/${conv.sid}/Messages/${sids[1]}/Receipts`, {
      method: "POST",
      headers: {
        Authorization: "Basic " + Buffer.from(`${env.accountSid}:${env.authToken}`).toString("base64"),
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ ParticipantSid: sms.sid, Status: "read" }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    const receipts = await s.api.conversations("chat").messages(sids[1]).deliveryReceipts.list();
    assert.deepEqual(receipts.map((r) => [r.participantSid, r.status, r.errorCode]), [[sms.sid, "read", null]]);
    const one = await s.api.conversations("chat").messages(sids[1]).deliveryReceipts(receipts[0].sid).fetch();
    assert.equal(one.messageSid, sids[1]);
    const m = await s.api.conversations("chat").messages(sids[1]).fetch();
    assert.deepEqual(m.delivery, { total: 1, sent: "all", delivered: "all", read: "all", failed: "none", undelivered: "none" });
    await s.api.conversations("chat").participants(sms.sid).remove();
  });

  await step(`${s.label}: media`, async () => {
    // Uploads go to parley's Media Content Service, which no Twilio SDK
    // wraps: plain HTTP with the raw bytes, as apps send them to MCS.
    const upload = async (name, bytes) => {
      const res = await fetch(`${env.url}/v1/Services/${s.svc}/Media?Filename=${name}`, {
        method: "POST",
        headers: {
          Authorization: "Basic " + Buffer.from(`${env.accountSid}:${env.authToken}`).toString("base64"),
          "Content-Type": "image/png",
        },
        body: bytes,
      });
      assert.equal(res.status, 201, await res.clone().text());
      return (await res.json()).sid;
    };
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]);
    const cat = await upload("cat.png", png);
    const pics = await s.api.conversations.create({ uniqueName: "pics" });
    const m = await s.api.conversations("pics").messages.create({ mediaSid: cat });
    assert.deepEqual([m.body, m.media], [null, [{ sid: cat, size: 8, content_type: "image/png", filename: "cat.png" }]]);
    assert.deepEqual((await s.api.conversations(pics.sid).messages(m.sid).fetch()).media, m.media);
    await expectRestError(s.api.conversations("pics").messages.create({ mediaSid: cat, body: "again" }),
      { status: 400, code: 50508 }, "media sent twice");
    await expectRestError(s.api.conversations("pics").messages(m.sid).update({ body: "caption" }),
      { status: 400, code: 50509 }, "media message body");
    const content = await fetch(`${env.url}/v1/Services/${s.svc}/Media/${cat}/Content`, {
      headers: { Authorization: "Basic " + Buffer.from(`${env.accountSid}:${env.authToken}`).toString("base64") },
    });
    assert.equal(content.headers.get("content-type"), "image/png");
    assert.deepEqual(Buffer.from(await content.arrayBuffer()), png);
    await s.api.conversations(pics.sid).remove();
  });

  await step(`${s.label}: unread count and delete`, async () => {
    await s.api.users("alice").userConversations("chat").update({ lastReadMessageIndex: 1 });
    assert.equal((await s.api.users("alice").userConversations("chat").fetch()).unreadMessagesCount, 3);
    assert.equal(await s.api.conversations("chat").messages(sids[4]).remove(), true);
    await expectRestError(s.api.conversations("chat").messages(sids[4]).fetch(), { status: 404, code: 20404 }, "deleted");
    const next = await s.api.conversations("chat").messages.create({ body: "after" });
    assert.equal(next.index, 5, "indexes are never reused");
    await s.api.conversations(conv.sid).remove();
    await s.api.users("alice").remove();
  });
}

run("messages", async () => {
  const dflt = env.defaultServiceSid;
  await suite({ label: "v1", api: v1, prefix: "/v1", svc: dflt });
  await suite({ label: "v1.services(default)", api: v1.services(dflt), prefix: `/v1/Services/${dflt}`, svc: dflt });
  const own = await v1.services.create({ friendlyName: "sdktest messages" });
  await suite({ label: "v1.services(new)", api: v1.services(own.sid), prefix: `/v1/Services/${own.sid}`, svc: own.sid });
});
