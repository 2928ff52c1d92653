// Run by sdktest/restart_test.go (not by TestNode): @twilio/conversations
// 2.7.0 and 3.0.1 clients connected to a parley that restarts. The script
// prints "READY <conversation SID>" once its clients are subscribed; the
// Go test then stops parley (clients are told to reconnect), writes a
// message while it is down and starts it again. Each client must
// reconnect on its own and be told of the message.

import { assert, clientToken, connectClient, conversationsSDKs as sdks, failOnUnhandledRejections, run, setup, step } from "./lib.mjs";

const { env, v1 } = setup();
failOnUnhandledRejections();
const token = (identity) => clientToken(env, identity);

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
      const { client, state } = await connectClient(sdk.Client, token("alice"), ws);
      assert.equal(state, "initialized", version);
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
