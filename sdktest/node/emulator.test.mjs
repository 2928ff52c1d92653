// Emulator mode's controls from a twilio-node suite (sdktest runs this
// script against a parley in emulator mode): each is one HTTP call with
// the account's credentials; the app's own calls go through twilio-node
// unchanged and see what the controls did.

import http from "node:http";
import { assert, expectRestError, run, setup, step } from "./lib.mjs";

const { env, v1 } = setup();

// control calls one of /parley/v1/'s controls and returns its JSON.
async function control(method, path, form = {}) {
  const res = await fetch(env.url + path, {
    method,
    headers: {
      Authorization: "Basic " + Buffer.from(`${env.accountSid}:${env.authToken}`).toString("base64"),
      "Content-Type": "application/x-www-form-urlencoded",
    },
    body: method === "GET" ? undefined : new URLSearchParams(form),
  });
  const text = await res.text();
  assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

run("emulator", async () => {
  await step("Reset: every test starts clean", async () => {
    await v1.users.create({ identity: "alice" });
    const reset = await control("POST", "/parley/v1/Reset");
    assert.deepEqual([reset.account_sid, reset.default_chat_service_sid, reset.api_keys_kept],
      [env.accountSid, env.defaultServiceSid, true]);
    await expectRestError(v1.users("alice").fetch(), { status: 404, code: 20404 }, "alice after a reset");
    assert.deepEqual(await v1.users.list(), []);
  });

  await step("Import and Export: a scenario in one call, in the format Export writes", async () => {
    const res = await fetch(env.url + "/parley/v1/Import", {
      method: "POST",
      headers: {
        Authorization: "Basic " + Buffer.from(`${env.accountSid}:${env.authToken}`).toString("base64"),
        "Content-Type": "application/json",
      },
      body: JSON.stringify({ services: [{ sid: env.defaultServiceSid, friendly_name: "ignored: it exists",
        users: [{ identity: "ann" }],
        conversations: [{ unique_name: "order-1", participants: [{ identity: "ann" }],
          messages: [{ author: "ann", body: "where is my parcel?" }] }] }] }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    assert.deepEqual((await res.json()).created,
      { services: 0, roles: 0, users: 1, conversations: 1, participants: 1, messages: 1, webhooks: 0 });
    const [m] = await v1.conversations("order-1").messages.list();
    assert.deepEqual([m.index, m.author, m.body], [0, "ann", "where is my parcel?"]);
    const exported = await control("GET", "/parley/v1/Export");
    const conv = exported.services[0].conversations.find((c) => c.unique_name === "order-1");
    assert.equal(conv.messages[0].body, "where is my parcel?");
    await control("POST", "/parley/v1/Reset");
  });

  await step("Clock: timers fire as the clock passes them", async () => {
    const conv = await v1.conversations.create({ uniqueName: "idle", "timers.inactive": "PT10M" });
    assert.equal(conv.state, "active");
    const clock = await control("POST", "/parley/v1/Clock", { Advance: "PT11M" });
    assert.equal(clock.offset_seconds, 660);
    assert.equal((await v1.conversations(conv.sid).fetch()).state, "inactive");
    // New resources are dated by the clock: 11 minutes ahead.
    const user = await v1.users.create({ identity: "later" });
    const ahead = user.dateCreated.getTime() - Date.now();
    assert.ok(ahead > 10 * 60 * 1000 && ahead < 12 * 60 * 1000, `dated ${ahead} ms ahead`);
  });

  await step("Webhook deliveries: a refused one sent again on demand; the outbox emptied", async () => {
    let refuse = true;
    const receiver = http.createServer((req, res) => {
      res.statusCode = refuse ? 400 : 200; // 400 is final: parley does not retry it by itself
      res.end();
    });
    await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
    try {
      await v1.configuration.webhooks().update({ postWebhookUrl: `http://127.0.0.1:${receiver.address().port}/`,
        filters: ["onUserAdded"], method: "POST" });
      await v1.users.create({ identity: "hooked", xTwilioWebhookEnabled: "true" });
      const settled = async (status) => {
        for (let i = 0; i < 500; i++) {
          const { webhook_deliveries: ds } = await control("GET", "/parley/v1/WebhookDeliveries");
          if (ds.length === 1 && ds[0].status === status) return ds[0];
          await new Promise((r) => setTimeout(r, 10));
        }
        throw new Error(`no ${status} delivery in 5 s`);
      };
      const failed = await settled("failed");
      refuse = false;
      const retried = await control("POST", `/parley/v1/WebhookDeliveries/${failed.sid}/Retry`);
      assert.deepEqual([retried.sid, retried.status, retried.attempts], [failed.sid, "pending", 1]);
      assert.equal((await settled("delivered")).attempts, 2);
      await control("DELETE", "/parley/v1/WebhookDeliveries");
      assert.deepEqual((await control("GET", "/parley/v1/WebhookDeliveries")).webhook_deliveries, []);
    } finally {
      receiver.close();
    }
  });

  await step("Faults: Twilio under load, as twilio-node reports it", async () => {
    const rule = await control("POST", "/parley/v1/Faults",
      { Method: "POST", Path: "/v1/Conversations/*/Messages", Status: "429", RetryAfter: "1", Count: "2" });
    assert.match(rule.sid, /^FR[0-9a-f]{32}$/);
    for (let i = 0; i < 2; i++) {
      await expectRestError(v1.conversations("idle").messages.create({ body: "hi" }),
        { status: 429, code: 20429, message: "Too Many Requests" }, `message ${i} under the rule`);
    }
    const m = await v1.conversations("idle").messages.create({ body: "hi" });
    assert.equal(m.index, 0);
    const { faults } = await control("GET", "/parley/v1/Faults");
    assert.deepEqual(faults.map((f) => [f.hits, f.matched]), [[2, 2]]);
    await control("DELETE", "/parley/v1/Faults");
  });
});
