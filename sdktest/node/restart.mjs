// Run by sdktest/restart_test.go (not by TestNode): @twilio/conversations
// 2.7.0 and 3.0.1 clients connected to a parley that restarts. The script
// prints "READY <conversation SID>" once its clients are subscribed; the
// Go test then stops parley (clients are told to reconnect), writes a
// message while it is down and starts it again. Each client must
// reconnect on its own and be told of the message.

import { createRequire } from "node:module";
import { assert, run, setup, shutdownLeftover, step, twilio } from "./lib.mjs";

const require = createRequire(import.meta.url);
const sdks = {
  "2.7.0": require("@twilio/conversations"),
  "3.0.1": require("conversations3"),
};
const { env, v1 } = setup();
process.on("unhandledRejection", (err) => {
  if (shutdownLeftover(err)) return;
  console.error("unhandled rejection:", err);
  process.exit(1);
});

function token(identity) {
  const t = new twilio.jwt.AccessToken(env.accountSid, process.env.PARLEY_API_KEY_SID,
    process.env.PARLEY_API_KEY_SECRET, { identity, ttl: 3600 });
  t.addGrant(new twilio.jwt.AccessToken.ChatGrant({ serviceSid: env.defaultServiceSid }));
  return t.toJwt();
}

function initialized(client) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("not initialized in 15 s")), 15000);
    client.on("stateChanged", (state) => {
      if (state === "initialized") {
        clearTimeout(timer);
        resolve();
      }
      if (state === "failed") reject(new Error("client failed"));
    });
  });
}

run("restart", async () => {
  const conv = await v1.conversations.create({ uniqueName: "restart" });
  await v1.conversations(conv.sid).participants.create({ identity: "alice" });
  await v1.conversations(conv.sid).participants.create({ identity: "bob" });
  const ws = env.url.replace(/^http/, "ws") + "/v3/wsconnect";
  const clients = [];
  const arrived = [];
  const states = [];
  await step("connect one client per SDK version", async () => {
    for (const [version, sdk] of Object.entries(sdks)) {
      const client = new sdk.Client(token("alice"), { Twilsock: { uri: ws }, logLevel: "silent" });
      await initialized(client);
      const c = await client.getConversationBySid(conv.sid);
      await c.getMessages();
      const seen = [];
      client.on("connectionStateChanged", (s) => seen.push(s));
      states.push([version, seen]);
      arrived.push(new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${version}: no message after the restart in 30 s (states ${seen})`)), 30000);
        c.on("messageAdded", (m) => {
          if (m.body === "sent while parley was down") {
            clearTimeout(timer);
            resolve([version, m]);
          }
        });
      }));
      clients.push(client);
    }
  });
  console.log(`READY ${conv.sid}`);
  await step("both reconnect on their own and are told what was sent meanwhile", async () => {
    for (const [version, m] of await Promise.all(arrived)) {
      assert.equal(m.author, "bob", version);
    }
    for (const [version, seen] of states) {
      assert.ok(seen.includes("connecting") || seen.includes("disconnected"), `${version} states ${seen}`);
      assert.equal(seen.at(-1), "connected", `${version} states ${seen}`);
    }
  });
  for (const c of clients) await c.shutdown();
});
