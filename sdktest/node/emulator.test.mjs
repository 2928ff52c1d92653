// Emulator mode's controls from a twilio-node suite (sdktest runs this
// script against a parley in emulator mode): each is one HTTP call with
// the account's credentials; the app's own calls go through twilio-node
// unchanged and see what the controls did.

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
