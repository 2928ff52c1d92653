// The official JavaScript client SDK, @twilio/conversations 2.7.0 and
// 3.0.1 unchanged, against parley: pointed at parley's socket with the one
// documented option, signed in with a token twilio-node's AccessToken
// mints (as an app's backend does), it reaches "initialized" and shows
// the user parley has and the conversations the backend made over REST
// (participants, messages, read horizon); a token parley refuses leaves
// it denied.

import { createRequire } from "node:module";
import { assert, clientToken, connectClient, conversationsSDKs as sdks, failOnUnhandledRejections, run, setup, step, waitFor } from "./lib.mjs";

const require = createRequire(import.meta.url);
const { env, v1 } = setup();

// The SDK leaves its pending requests' rejections unhandled when a client
// is denied or shut down ("Connection is not initialized"); a browser
// logs them. Anything else unhandled fails the script.
failOnUnhandledRejections();
const ws = env.url.replace(/^http/, "ws") + "/v3/wsconnect";

// Node 20 has no global WebSocket, so twilsock uses the ws package; this
// subclass, put where twilsock looks first, keeps every socket the SDK
// opens, so that a step can cut one as a network would.
const sockets = [];
globalThis.WebSocket = class extends require("ws") {
  constructor(...args) {
    super(...args);
    sockets.push(this);
  }
};

// token mints an access token for identity (clientToken).
const token = (identity, opts) => clientToken(env, identity, opts);

// connect makes a client on parley's socket and waits until it is
// initialized or fails (connectClient).
const connect = (Client, jwt) => connectClient(Client, jwt, ws);

run("client", async () => {
  await v1.users.create({ identity: "alice", friendlyName: "Alice", attributes: '{"team":"blue"}' });
  // A conversation made over REST, as an app's backend makes it.
  const room = await v1.conversations.create({ uniqueName: "room", friendlyName: "Room", attributes: '{"topic":"x"}' });
  await v1.conversations(room.sid).participants.create({ identity: "alice" });
  await v1.conversations(room.sid).participants.create({ identity: "bob" });
  await v1.conversations(room.sid).participants.create({ "messagingBinding.address": "+15551230001", "messagingBinding.proxyAddress": "+15559870001" });
  for (const [author, body] of [["alice", "one"], ["bob", "two"], ["system", "three"]]) {
    await v1.conversations(room.sid).messages.create({ author, body });
  }
  await v1.conversations(room.sid).participants("alice").update({ lastReadMessageIndex: 0 });
  await v1.conversations.create({ uniqueName: "elsewhere" }); // alice is not in it

  for (const [version, sdk] of Object.entries(sdks)) {
    await step(`${version}: a token from twilio-node signs in`, async () => {
      const { client, state } = await connect(sdk.Client, token("alice"));
      try {
        assert.equal(state, "initialized");
        assert.equal(client.connectionState, "connected");
        assert.equal(client.user.identity, "alice");
        assert.equal(client.user.friendlyName, "Alice");
        assert.deepEqual(client.user.attributes, { team: "blue" });
        const page = await client.getSubscribedConversations();
        assert.deepEqual(page.items.map((c) => c.sid), [room.sid], "only the conversation alice is in");
        const conv = page.items[0];
        assert.deepEqual([conv.friendlyName, conv.uniqueName, conv.attributes, conv.createdBy, conv.status],
          ["Room", "room", { topic: "x" }, "system", "joined"]);
        assert.equal(conv.lastReadMessageIndex, 0);
        assert.equal(conv.lastMessage?.index, 2);
        const participants = await conv.getParticipants();
        assert.deepEqual(participants.map((p) => p.identity).sort(), ["alice", "bob", null]);
        const sms = participants.find((p) => p.identity === null);
        assert.equal(sms.type, "sms");
        const messages = await conv.getMessages();
        assert.deepEqual(messages.items.map((m) => [m.index, m.author, m.body]),
          [[0, "alice", "one"], [1, "bob", "two"], [2, "system", "three"]]);
        assert.equal(messages.hasPrevPage, false);
        const alicePart = participants.find((p) => p.identity === "alice");
        assert.equal(messages.items[0].participantSid, alicePart.sid);
        assert.equal(alicePart.lastReadMessageIndex, 0);
        const bob = await participants.find((p) => p.identity === "bob").getUser();
        assert.deepEqual([bob.identity, bob.friendlyName], ["bob", null]);
        const me = await client.getUser("alice");
        assert.equal(me.friendlyName, "Alice");
      } finally {
        await client.shutdown();
      }
    });

    await step(`${version}: what the backend does over REST reaches the client live`, async () => {
      const { client, state } = await connect(sdk.Client, token("alice"));
      try {
        assert.equal(state, "initialized");
        // The backend adds alice to a conversation.
        const live = await v1.conversations.create({ friendlyName: `Live ${version}` });
        await v1.conversations(live.sid).participants.create({ identity: "bob" });
        let next = waitFor(client, "conversationJoined", (c) => c.sid === live.sid);
        await v1.conversations(live.sid).participants.create({ identity: "alice" });
        const conv = await next;
        assert.equal(conv.friendlyName, `Live ${version}`);
        assert.deepEqual((await conv.getParticipants()).map((p) => p.identity).sort(), ["alice", "bob"]);
        assert.deepEqual((await conv.getMessages()).items, []);

        next = waitFor(conv, "messageAdded");
        const sent = await v1.conversations(live.sid).messages.create({ author: "bob", body: "live", attributes: '{"n":1}' });
        const m = await next;
        assert.deepEqual([m.sid, m.index, m.author, m.body, m.attributes], [sent.sid, sent.index, "bob", "live", { n: 1 }]);
        // The document (lastMessage) and the list are two objects: their
        // events come in that order, but the SDK applies them on its own.
        if (conv.lastMessage?.index !== sent.index) {
          await waitFor(conv, "updated", ({ updateReasons }) => updateReasons.includes("lastMessage"));
        }
        assert.equal(conv.lastMessage?.index, sent.index);

        next = waitFor(conv, "messageUpdated", ({ updateReasons }) => updateReasons.includes("body"));
        await v1.conversations(live.sid).messages(sent.sid).update({ body: "edited" });
        assert.equal((await next).message.body, "edited");

        next = waitFor(conv, "messageRemoved");
        await v1.conversations(live.sid).messages(sent.sid).remove();
        assert.equal((await next).sid, sent.sid);

        next = waitFor(conv, "updated", ({ updateReasons }) => updateReasons.includes("friendlyName"));
        await v1.conversations(live.sid).update({ friendlyName: "Renamed" });
        await next;
        assert.equal(conv.friendlyName, "Renamed");

        next = waitFor(conv, "participantUpdated", ({ participant, updateReasons }) =>
          participant.identity === "bob" && updateReasons.includes("lastReadMessageIndex"));
        await v1.conversations(live.sid).participants("bob").update({ lastReadMessageIndex: sent.index });
        assert.equal((await next).participant.lastReadMessageIndex, sent.index);

        next = waitFor(conv, "participantJoined", (p) => p.identity === "carol");
        await v1.conversations(live.sid).participants.create({ identity: "carol" });
        await next;
        next = waitFor(conv, "participantLeft", (p) => p.identity === "carol");
        await v1.conversations(live.sid).participants("carol").remove();
        await next;

        next = waitFor(client.user, "updated", ({ updateReasons }) => updateReasons.includes("friendlyName"));
        await v1.users("alice").update({ friendlyName: `Alice ${version}` });
        await next;
        assert.equal(client.user.friendlyName, `Alice ${version}`);
        await v1.users("alice").update({ friendlyName: "Alice" }); // as the other steps expect

        // The backend removes her.
        next = waitFor(client, "conversationLeft", (c) => c.sid === live.sid);
        await v1.conversations(live.sid).participants("alice").remove();
        await next;
      } finally {
        await client.shutdown();
      }
    });

    await step(`${version}: two clients talk: send, edit, delete, typing, read horizon, create, join, add, leave`, async () => {
      const a = await connect(sdk.Client, token("alice"));
      const b = await connect(sdk.Client, token("bob"));
      const { client: alice } = a;
      const { client: bob } = b;
      try {
        assert.deepEqual([a.state, b.state], ["initialized", "initialized"]);
        // alice makes a conversation, joins it and adds bob.
        const made = await alice.createConversation({ friendlyName: `Chat ${version}`, attributes: { v: version } });
        assert.equal(made.createdBy, "alice");
        await made.join();
        const bobJoined = waitFor(bob, "conversationJoined", (c) => c.sid === made.sid);
        await made.add("bob");
        const theirs = await bobJoined;
        assert.deepEqual([theirs.friendlyName, theirs.attributes], [`Chat ${version}`, { v: version }]);
        await theirs.getMessages();
        const rest = await v1.conversations(made.sid).fetch();
        assert.deepEqual([rest.friendlyName, JSON.parse(rest.attributes)], [`Chat ${version}`, { v: version }]);
        // The creator joined with the creator's role.
        const config = await v1.services(env.defaultServiceSid).configuration().fetch();
        assert.equal((await v1.conversations(made.sid).participants("alice").fetch()).roleSid, config.defaultConversationCreatorRoleSid);

        // alice sends; bob sees it.
        let next = waitFor(theirs, "messageAdded");
        const index = await made.sendMessage("hi bob", { kind: "greeting" });
        assert.equal(index, 0);
        const got = await next;
        assert.deepEqual([got.index, got.author, got.body, got.attributes], [0, "alice", "hi bob", { kind: "greeting" }]);
        const restMsg = await v1.conversations(made.sid).messages(got.sid).fetch();
        assert.deepEqual([restMsg.author, restMsg.body, restMsg.participantSid],
          ["alice", "hi bob", (await made.getParticipantByIdentity("alice")).sid]);

        // She edits and deletes it; bob sees both.
        const [mine] = (await made.getMessages()).items;
        next = waitFor(theirs, "messageUpdated", ({ updateReasons }) => updateReasons.includes("body"));
        await mine.updateBody("hi, bob");
        assert.equal((await next).message.body, "hi, bob");
        // bob may not edit alice's message (channel user: editOwnMessage only).
        const [bobsCopy] = (await theirs.getMessages()).items;
        await assert.rejects(bobsCopy.updateBody("mine now"), (err) => err.status === 403 && err.body?.code === 50107);

        // bob types; alice sees it.
        const aliceBob = await made.getParticipantByIdentity("bob");
        next = waitFor(made, "typingStarted", (p) => p.identity === "bob");
        await theirs.typing();
        await next;
        assert.equal(aliceBob.isTyping, true);

        // bob reads; alice sees his read horizon, and his own count drops.
        next = waitFor(made, "participantUpdated", ({ participant, updateReasons }) =>
          participant.identity === "bob" && updateReasons.includes("lastReadMessageIndex"));
        const unread = await theirs.setAllMessagesRead();
        assert.equal(unread, 0);
        assert.equal((await next).participant.lastReadMessageIndex, 0);
        assert.equal(await theirs.getUnreadMessagesCount(), 0);
        const bobPart = await v1.conversations(made.sid).participants("bob").fetch();
        assert.equal(bobPart.lastReadMessageIndex, 0);

        assert.equal(await theirs.getMessagesCount(), 1);
        assert.equal(await theirs.getParticipantsCount(), 2);
        next = waitFor(theirs, "messageRemoved");
        await mine.remove();
        await next;

        // A picture: uploaded to parley's Media Content Service, sent, and
        // shown to bob through a temporary link.
        next = waitFor(theirs, "messageAdded");
        await made.sendMessage({ contentType: "image/png", media: Buffer.from("not really a png"), filename: "cat.png" });
        const pic = await next;
        assert.equal(pic.type, "media");
        const [att] = pic.attachedMedia;
        assert.deepEqual([att.filename, att.contentType, att.size, att.category], ["cat.png", "image/png", 16, "media"]);
        const link = await att.getContentTemporaryUrl();
        assert.match(link, /\/parley\/v1\/MediaContent\//);
        const res = await fetch(link);
        assert.equal(res.status, 200);
        assert.equal(await res.text(), "not really a png");
        const restPic = await v1.conversations(made.sid).messages(pic.sid).fetch();
        assert.equal(restPic.media[0].sid, att.sid);

        // alice renames herself; the conversation too.
        next = waitFor(theirs, "updated", ({ updateReasons }) => updateReasons.includes("friendlyName"));
        await made.updateFriendlyName(`Renamed ${version}`);
        await next;
        assert.equal((await v1.conversations(made.sid).fetch()).friendlyName, `Renamed ${version}`);
        await alice.user.updateFriendlyName("Alice");
        assert.equal((await v1.users("alice").fetch()).friendlyName, "Alice");

        // bob leaves; alice sees him go.
        next = waitFor(made, "participantLeft", (p) => p.identity === "bob");
        await theirs.leave();
        await next;
        await assert.rejects(v1.conversations(made.sid).participants("bob").fetch());

        // alice, its creator, deletes it.
        next = waitFor(alice, "conversationRemoved", (c) => c.sid === made.sid);
        await made.delete();
        await next;
        await assert.rejects(v1.conversations(made.sid).fetch());
      } finally {
        await alice.shutdown();
        await bob.shutdown();
      }
    });

    await step(`${version}: three clients: carol is added by alice and hears both`, async () => {
      const [a, b, c] = await Promise.all(["alice", "bob", "carol"].map((who) => connect(sdk.Client, token(who))));
      const [alice, bob, carol] = [a.client, b.client, c.client];
      try {
        const trio = await alice.createConversation({ friendlyName: `Trio ${version}` });
        await trio.join();
        const bobJoined = waitFor(bob, "conversationJoined", (x) => x.sid === trio.sid);
        const carolJoined = waitFor(carol, "conversationJoined", (x) => x.sid === trio.sid);
        await trio.add("bob");
        await trio.add("carol");
        const [bobs, carols] = await Promise.all([bobJoined, carolJoined]);
        await Promise.all([bobs.getMessages(), carols.getMessages()]);
        const heard = (conv, body) => waitFor(conv, "messageAdded", (m) => m.body === body);
        let waits = [heard(bobs, "from alice"), heard(carols, "from alice")];
        await trio.sendMessage("from alice");
        await Promise.all(waits);
        waits = [heard(trio, "from bob"), heard(carols, "from bob")];
        await bobs.sendMessage("from bob");
        await Promise.all(waits);
        const names = (await carols.getParticipants()).map((p) => p.identity).sort();
        assert.deepEqual(names, ["alice", "bob", "carol"]);
        const removed = waitFor(carol, "conversationLeft", (x) => x.sid === trio.sid);
        await trio.removeParticipant("carol");
        await removed;
        await trio.delete();
      } finally {
        await Promise.all([alice.shutdown(), bob.shutdown(), carol.shutdown()]);
      }
    });

    await step(`${version}: who is online: reachability follows connections`, async () => {
      await v1.services(env.defaultServiceSid).configuration().update({ reachabilityEnabled: true });
      // The previous step shut alice's client down; the server may still
      // be closing her socket (on PostgreSQL, seen once in CI). This step
      // starts from her being offline: wait until she is.
      for (let i = 0; (await v1.users("alice").fetch()).isOnline === true; i++) {
        if (i === 100) throw new Error("alice still online 10 s after her client shut down");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const b = await connect(sdk.Client, token("bob"));
      const bob = b.client;
      let aliceClient;
      try {
        assert.equal(bob.reachabilityEnabled, true);
        const aliceUser = await bob.getUser("alice");
        assert.equal(aliceUser.isOnline, false);
        let next = waitFor(aliceUser, "updated", ({ updateReasons }) => updateReasons.includes("reachabilityOnline"));
        const fcm = await v1.credentials.create({ type: "fcm", friendlyName: `push ${version}`, secret: "server-key" });
        aliceClient = (await connect(sdk.Client, token("alice", { pushCredentialSid: fcm.sid }))).client;
        await next;
        assert.equal(aliceUser.isOnline, true);
        assert.equal((await v1.users("alice").fetch()).isOnline, true);

        // A device's push token makes her notifiable: a binding over REST.
        next = waitFor(aliceUser, "updated", ({ updateReasons }) => updateReasons.includes("reachabilityNotifiable"));
        await aliceClient.setPushRegistrationId("fcm", `device-${version}`);
        await next;
        assert.equal(aliceUser.isNotifiable, true);
        const bindings = await v1.services(env.defaultServiceSid).bindings.list({ identity: ["alice"] });
        assert.deepEqual(bindings.map((b) => [b.bindingType, b.endpoint, b.credentialSid]), [["fcm", `device-${version}`, fcm.sid]]);
        next = waitFor(aliceUser, "updated", ({ updateReasons }) => updateReasons.includes("reachabilityNotifiable"));
        await aliceClient.unsetPushRegistrationId("fcm");
        await next;
        assert.equal(aliceUser.isNotifiable, false);
        assert.deepEqual(await v1.services(env.defaultServiceSid).bindings.list({ identity: ["alice"] }), []);
        next = waitFor(aliceUser, "updated", ({ updateReasons }) => updateReasons.includes("reachabilityOnline"));
        await aliceClient.shutdown();
        aliceClient = null;
        await next;
        assert.equal(aliceUser.isOnline, false);
        assert.equal((await v1.users("alice").fetch()).isOnline, false);
      } finally {
        await aliceClient?.shutdown();
        await bob.shutdown();
        await v1.services(env.defaultServiceSid).configuration().update({ reachabilityEnabled: false });
      }
    });

    await step(`${version}: a client whose connection dropped is replayed what it missed`, async () => {
      const room2 = await v1.conversations.create({ friendlyName: `Replay ${version}` });
      await v1.conversations(room2.sid).participants.create({ identity: "bob" });
      await v1.conversations(room2.sid).participants.create({ identity: "alice" });
      const before = sockets.length;
      const { client, state } = await connect(sdk.Client, token("alice"));
      try {
        assert.equal(state, "initialized");
        const conv = await client.getConversationBySid(room2.sid);
        await conv.getMessages();
        await conv.getParticipants();
        const mine = sockets.slice(before);
        assert.equal(mine.length, 1, "one socket");
        const dropped = waitFor(client, "connectionStateChanged", (s) => s !== "connected");
        mine[0].terminate(); // as a network drop: no close frame
        await dropped;
        // Written while alice is away.
        const missed = await v1.conversations(room2.sid).messages.create({ author: "bob", body: "while you were away" });
        await v1.conversations(room2.sid).participants("bob").update({ lastReadMessageIndex: missed.index });
        const added = waitFor(conv, "messageAdded", (m) => m.sid === missed.sid);
        const read = waitFor(conv, "participantUpdated", ({ participant, updateReasons }) =>
          participant.identity === "bob" && updateReasons.includes("lastReadMessageIndex"));
        const m = await added;
        assert.deepEqual([m.index, m.author, m.body], [missed.index, "bob", "while you were away"]);
        assert.equal((await read).participant.lastReadMessageIndex, missed.index);
        assert.equal(client.connectionState, "connected");
        assert.equal(sockets.length - before, 2, "it reconnected once");
        await v1.conversations(room2.sid).participants("alice").remove(); // as the other steps expect
      } finally {
        await client.shutdown();
      }
    });

    await step(`${version}: a first sign-in creates the user`, async () => {
      const identity = `newcomer-${version}`;
      const { client, state } = await connect(sdk.Client, token(identity));
      try {
        assert.equal(state, "initialized");
        assert.equal(client.user.identity, identity);
      } finally {
        await client.shutdown();
      }
      const u = await v1.users(identity).fetch();
      assert.equal(u.identity, identity);
      assert.equal(u.friendlyName, null);
    });

    await step(`${version}: a token signed with another secret is denied`, async () => {
      const { client, state } = await connect(sdk.Client, token("alice", { secret: "not-the-secret-at-all-0123456789" }));
      try {
        assert.equal(state, "failed");
        assert.equal(client.connectionState, "denied");
      } finally {
        await client.shutdown();
      }
    });
  }
});
