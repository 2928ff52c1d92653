// Run by cmd/parley's TestTwoNodesWithClientSDK (not by TestNode): real
// @twilio/conversations clients on two parley processes that share one
// PostgreSQL, each reached through a balancer as a team would run them:
//
//	PARLEY_URL        REST, through a balancer preferring node B, then A
//	PARLEY_URL_A      REST, through a balancer preferring node A, then B
//	PARLEY_WS_A       the client socket, preferring A (then B)
//	PARLEY_WS_B       the client socket, preferring B (then A)
//	PARLEY_WS_A_ONLY  node A's socket itself, no balancer
//
// What only the Go test can do (hold new connections at the balancers,
// stop or kill a node, cut the nodes' LISTEN connections, look where each
// user's connections are) the script asks for: it prints "ASK <what>"
// and waits for "OK" on its stdin.

import readline from "node:readline";
import { assert, clientToken, connectClient, conversationsSDKs as sdks, failOnUnhandledRejections, run, setup, step, twilio, waitFor } from "./lib.mjs";

const { env, v1 } = setup();
failOnUnhandledRejections();
const restA = twilio(env.accountSid, env.authToken);
restA.conversations.baseUrl = process.env.PARLEY_URL_A;
const v1a = restA.conversations.v1;
const token = (identity) => clientToken(env, identity);

const answers = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function ask(what) {
  console.log(`ASK ${what}`);
  const { value, done } = await answers.next();
  if (done || value !== "OK") throw new Error(`ASK ${what}: ${done ? "no answer" : value}`);
}

// signIn connects identity with an SDK version at a socket address.
async function signIn(version, identity, uri) {
  const { client, state } = await connectClient(sdks[version].Client, token(identity), uri);
  assert.equal(state, "initialized", `${identity} (${version}) at ${uri}`);
  return client;
}

// until polls cond every 100 ms for up to ms, and says how long it took.
async function until(what, ms, cond) {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > ms) throw new Error(`${what}: not within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - start;
}

const post = (rest, conv, body) => rest.conversations(conv).messages.create({ author: "system", body });
const messageWith = (conv, body, ms) => waitFor(conv, "messageAdded", (m) => m.body === body, ms);
const reconnected = (client) => waitFor(client, "connectionStateChanged", (s) => s === "connected", 30000);
const dropped = (client) => waitFor(client, "connectionStateChanged", (s) => s !== "connected");

run("multinode", async () => {
  await v1.services(env.defaultServiceSid).configuration().update({ reachabilityEnabled: true });
  const room = await v1.conversations.create({ uniqueName: "across" });
  for (const identity of ["alice", "bob", "carol", "dave"]) {
    await v1.conversations(room.sid).participants.create({ identity });
  }
  const clients = [];
  const convs = {};
  let alice, bob, carol;
  await step("alice and carol sign in on node A, bob on node B", async () => {
    alice = await signIn("3.0.1", "alice", process.env.PARLEY_WS_A);
    bob = await signIn("2.7.0", "bob", process.env.PARLEY_WS_B);
    // carol reaches A without a balancer: when A dies she cannot come back.
    carol = await signIn("2.7.0", "carol", process.env.PARLEY_WS_A_ONLY);
    clients.push(alice, bob, carol);
    for (const [name, client] of Object.entries({ alice, bob, carol })) {
      convs[name] = await client.getConversationBySid(room.sid);
      await convs[name].getMessages();
    }
    await ask("placed alice=A carol=A bob=B");
  });

  await step("messages cross nodes both ways, from clients and from REST", async () => {
    let got = messageWith(convs.bob, "from alice on A");
    await convs.alice.sendMessage("from alice on A");
    assert.equal((await got).author, "alice");
    const both = [messageWith(convs.alice, "from bob on B"), messageWith(convs.carol, "from bob on B")];
    await convs.bob.sendMessage("from bob on B");
    for (const m of await Promise.all(both)) assert.deepEqual([m.author, m.index], ["bob", 1]);
    got = messageWith(convs.bob, "REST on A");
    await post(v1a, room.sid, "REST on A");
    assert.equal((await got).index, 2);
  });

  await step("typing crosses nodes both ways", async () => {
    let next = waitFor(convs.bob, "typingStarted", (p) => p.identity === "alice");
    await convs.alice.typing();
    await next;
    next = waitFor(convs.alice, "typingStarted", (p) => p.identity === "bob");
    await convs.bob.typing();
    await next;
  });

  await step("a read horizon set on B is seen on A", async () => {
    const next = waitFor(convs.alice, "participantUpdated", ({ participant, updateReasons }) =>
      participant.identity === "bob" && updateReasons.includes("lastReadMessageIndex"));
    assert.equal(await convs.bob.setAllMessagesRead(), 0);
    assert.equal((await next).participant.lastReadMessageIndex, 2);
    assert.equal((await v1a.conversations(room.sid).participants("bob").fetch()).lastReadMessageIndex, 2);
  });

  await step("presence: dave signing in and out on B is seen live on A and over REST on both", async () => {
    const daveSeen = await alice.getUser("dave");
    assert.equal(daveSeen.isOnline, false);
    let next = waitFor(daveSeen, "updated", ({ updateReasons }) => updateReasons.includes("reachabilityOnline"));
    const dave = await signIn("3.0.1", "dave", process.env.PARLEY_WS_B);
    await next;
    assert.equal(daveSeen.isOnline, true);
    assert.deepEqual([(await v1a.users("dave").fetch()).isOnline, (await v1.users("dave").fetch()).isOnline], [true, true]);
    next = waitFor(daveSeen, "updated", ({ updateReasons }) => updateReasons.includes("reachabilityOnline"));
    await dave.shutdown();
    await next;
    assert.equal(daveSeen.isOnline, false);
    assert.deepEqual([(await v1a.users("dave").fetch()).isOnline, (await v1.users("dave").fetch()).isOnline], [false, false]);
  });

  await step("with the nodes' LISTEN connections cut, nothing written meanwhile is lost", async () => {
    await ask("cut-listeners");
    const got = [messageWith(convs.bob, "while nobody listened, on A"), messageWith(convs.alice, "while nobody listened, on B")];
    await post(v1a, room.sid, "while nobody listened, on A");
    await post(v1, room.sid, "while nobody listened, on B");
    await Promise.all(got);
  });

  await step("SIGTERM on B sends bob to A, which replays what he missed", async () => {
    const away = dropped(bob);
    const got = messageWith(convs.bob, "while B stopped", 30000);
    await ask("hold"); // bob cannot reconnect until the message is written
    await ask("term-b");
    await away;
    await post(v1, room.sid, "while B stopped"); // REST reaches A now
    const back = reconnected(bob);
    await ask("release");
    await back;
    assert.equal((await got).author, "system");
    await ask("placed alice=A carol=A bob=A");
    await ask("start-b");
  });

  await step("SIGKILL on A: alice and bob come back on B and are replayed everything; carol, who cannot, goes offline within 30 s", async () => {
    const carolSeen = await alice.getUser("carol");
    assert.equal(carolSeen.isOnline, true);
    const bodies = ["while A was dead 1", "while A was dead 2"];
    const got = [alice, bob].flatMap((_, i) => bodies.map((b) => messageWith(i === 0 ? convs.alice : convs.bob, b, 30000)));
    const away = [dropped(alice), dropped(bob), dropped(carol)];
    await ask("hold");
    await ask("kill-a");
    const killed = Date.now();
    await Promise.all(away);
    for (const b of bodies) await post(v1, room.sid, b); // REST reaches B
    const back = [reconnected(alice), reconnected(bob)];
    await ask("release");
    await Promise.all(back);
    const arrived = await Promise.all(got);
    assert.deepEqual(arrived.map((m) => m.body), [...bodies, ...bodies]);
    const offline = await until("carol offline over REST", 30000 - (Date.now() - killed),
      async () => (await v1.users("carol").fetch()).isOnline === false);
    console.log(`carol offline over REST ${((Date.now() - killed) / 1000).toFixed(1)} s after A was killed (polled ${offline} ms)`);
    await until("carol offline on alice's screen", 5000, () => carolSeen.isOnline === false);
    // alice and bob, whom A held too, are held by B now.
    assert.deepEqual([(await v1.users("alice").fetch()).isOnline, (await v1.users("bob").fetch()).isOnline], [true, true]);
    await ask("placed alice=B bob=B");
  });

  for (const c of clients) await c.shutdown();
});
