// Conversation-scoped webhooks through twilio-node, in both scopes.

import { assert, expectRestError, expectURL, run, setup, step } from "./lib.mjs";

const { env, v1 } = setup();

async function suite(s) {
  const conv = await s.api.conversations.create({ uniqueName: "bots" });
  let w, tr;
  await step(`${s.label}: create webhook, trigger and studio targets`, async () => {
    w = await s.api.conversations("bots").webhooks.create({
      target: "webhook",
      "configuration.url": "https://bot.test/hook",
      "configuration.filters": ["onMessageAdded", "onParticipantAdded"],
    });
    assert.match(w.sid, /^WH[0-9a-f]{32}$/);
    assert.deepEqual([w.target, w.conversationSid], ["webhook", conv.sid]);
    assert.deepEqual(w.configuration, { url: "https://bot.test/hook", method: "post", filters: ["onMessageAdded", "onParticipantAdded"] });
    expectURL(env, w.url, `${s.prefix}/Conversations/${conv.sid}/Webhooks/${w.sid}`, "url");
    tr = await s.api.conversations(conv.sid).webhooks.create({
      target: "trigger",
      "configuration.url": "https://bot.test/t",
      "configuration.triggers": ["help"],
    });
    assert.deepEqual(tr.configuration.triggers, ["help"]);
    const st = await s.api.conversations("bots").webhooks.create({
      target: "studio",
      "configuration.flowSid": "FW0123456789abcdef0123456789abcdef",
    });
    assert.deepEqual(st.configuration, { flow_sid: "FW0123456789abcdef0123456789abcdef" });
    await expectRestError(s.api.conversations("bots").webhooks.create({ target: "webhook", "configuration.url": "https://a.test" }),
      { status: 400, code: 50370 }, "webhook without filters");
  });
  await step(`${s.label}: fetch, update, list, delete`, async () => {
    assert.equal((await s.api.conversations("bots").webhooks(w.sid).fetch()).sid, w.sid);
    const u = await s.api.conversations("bots").webhooks(w.sid).update({ "configuration.method": "get" });
    assert.equal(u.configuration.method, "get");
    const list = await s.api.conversations("bots").webhooks.list();
    assert.equal(list.length, 3);
    for (const h of list) assert.equal(await s.api.conversations("bots").webhooks(h.sid).remove(), true);
    assert.deepEqual(await s.api.conversations("bots").webhooks.list(), []);
    await s.api.conversations(conv.sid).remove();
  });
}

run("webhooks", async () => {
  const dflt = env.defaultServiceSid;
  await suite({ label: "v1", api: v1, prefix: "/v1" });
  await suite({ label: "v1.services(default)", api: v1.services(dflt), prefix: `/v1/Services/${dflt}` });
});
