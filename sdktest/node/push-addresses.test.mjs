// Push and addresses through twilio-node (decision 14, issue 13):
//
//   - push credentials, client.conversations.v1.credentials (account level
//     only): create apn/gcm/fcm, fetch, update (also a change of type),
//     list, delete, and the errors of a bad create (400 20001);
//   - address configurations, v1.addressConfigurations (account level
//     only): create sms (webhook auto-creation), whatsapp (studio) and email
//     (default), fetch by SID and by the address itself ("+1555…", as the
//     SDK puts it in the path and escaped as %2B), update, list with and
//     without the type filter, delete, and the duplicate-address 409; the
//     wire form of auto_creation depends on its type;
//   - push bindings, v1.services(IS).bindings (service level only): made
//     through parley's own control POST /parley/v1/Services/IS…/Bindings
//     (plain HTTP with Basic auth, as a test calls it, since on Twilio a
//     client SDK registers the device), then listed with the bindingType
//     and identity filters, fetched and deleted through the SDK; the user's
//     is_notifiable follows its bindings while reachability is enabled;
//   - a service's push notification settings,
//     v1.services(IS).configuration.notifications(): the defaults of a fresh
//     service, an update of every parameter, and a partial update;
//   - inbound messages through parley's control POST /parley/v1/Inbound: a
//     first message from a phone to a configured address creates a
//     conversation (seen through the SDK: its participant's messaging
//     binding and the message), a second lands in the same conversation,
//     and an address without a configuration (or with auto-creation off) is
//     404 20404.

import {
  SID,
  assert,
  expectDate,
  expectHTTP,
  expectRestError,
  expectURL,
  plain,
  run,
  setup,
  step,
} from "./lib.mjs";

const { client, env, v1 } = setup();

// PEM texts the server accepts (api/credentials_test.go): a CERTIFICATE
// block and a block whose type ends in PRIVATE KEY. Only the PEM framing
// is checked; parley never pushes.
const CERT = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUPZ4=\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpQIBAAKCAQEAuyf=\n-----END RSA PRIVATE KEY-----\n";

const CR = /^CR[0-9a-f]{32}$/;
const AD = /^IG[0-9a-f]{32}$/;
const BS = /^BS[0-9a-f]{32}$/;

// The pushes a new binding receives, in the order Twilio's example shows.
const MESSAGE_TYPES = ["removed_from_conversation", "new_message", "added_to_conversation"];

const auth = "Basic " + Buffer.from(`${env.accountSid}:${env.authToken}`).toString("base64");

// control calls one of parley's own endpoints (/parley/v1/…) with a form
// body, as a test would, and returns the status and the parsed JSON body.
async function control(path, form) {
  const res = await fetch(`${env.url}/parley/v1${path}`, {
    method: "POST",
    headers: { Authorization: auth, "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form),
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    assert.fail(`POST /parley/v1${path}: ${res.status}, not JSON: ${text}`);
  }
  return { status: res.status, body };
}

// expectControlError checks a control's error answer: Twilio's error body.
function expectControlError(res, { status, code, message }, what) {
  assert.deepEqual(
    { httpStatus: res.status, ...res.body },
    {
      httpStatus: status,
      code,
      message,
      more_info: `https://www.twilio.com/docs/errors/${code}`,
      status,
    },
    `${what}: error`,
  );
}

// notFound is the 404 of a resource at path (without /v1).
function notFound(path) {
  return { status: 404, code: 20404, message: `The requested resource ${path} was not found` };
}

// lastPath is the path (as sent, escapes kept) of the SDK's last request.
function lastPath() {
  const url = client.httpClient.lastRequest.url;
  return url.slice(url.indexOf("/v1/"));
}

// ---- Credentials

function checkCredential(c, want, what) {
  assert.match(c.sid, CR, `${what}: sid`);
  assert.deepEqual(
    Object.keys(plain(c)).sort(),
    ["accountSid", "dateCreated", "dateUpdated", "friendlyName", "sandbox", "sid", "type", "url"],
    `${what}: fields (secrets are never shown)`,
  );
  assert.deepEqual(
    { accountSid: c.accountSid, friendlyName: c.friendlyName, type: c.type, sandbox: c.sandbox },
    { accountSid: env.accountSid, ...want },
    `${what}: values`,
  );
  expectDate(c.dateCreated, `${what}: dateCreated`);
  expectDate(c.dateUpdated, `${what}: dateUpdated`);
  expectURL(env, c.url, `/v1/Credentials/${c.sid}`, `${what}: url`);
}

async function credentials() {
  const cred = {};

  await step("credentials: create apn, gcm and fcm", async () => {
    cred.apn = expectHTTP(await v1.credentials.createWithHttpInfo({
      type: "apn",
      friendlyName: "iOS",
      certificate: CERT,
      privateKey: KEY,
      sandbox: true,
    }), 201, "create apn");
    checkCredential(cred.apn, { friendlyName: "iOS", type: "apn", sandbox: "True" }, "create apn");
    assert.equal(cred.apn.dateUpdated.getTime(), cred.apn.dateCreated.getTime(), "apn: date_updated = date_created");

    cred.gcm = await v1.credentials.create({ type: "gcm", apiKey: "gcm-api-key" });
    checkCredential(cred.gcm, { friendlyName: null, type: "gcm", sandbox: "False" }, "create gcm");

    cred.fcm = await v1.credentials.create({ type: "fcm", secret: "fcm-server-key", friendlyName: "Android" });
    checkCredential(cred.fcm, { friendlyName: "Android", type: "fcm", sandbox: "False" }, "create fcm");
    assert.equal(new Set([cred.apn.sid, cred.gcm.sid, cred.fcm.sid]).size, 3, "distinct SIDs");
  });

  await step("credentials: fetch and list", async () => {
    for (const c of [cred.apn, cred.gcm, cred.fcm]) {
      const got = expectHTTP(await v1.credentials(c.sid).fetchWithHttpInfo(), 200, `fetch ${c.type}`);
      assert.deepEqual(plain(got), plain(c), `fetch ${c.type} equals its create`);
    }
    const all = await v1.credentials.list();
    assert.deepEqual(all.map(plain), [cred.apn, cred.gcm, cred.fcm].map(plain), "list in creation order");
    const paged = await v1.credentials.list({ pageSize: 1 });
    assert.deepEqual(paged.map((c) => c.sid), [cred.apn.sid, cred.gcm.sid, cred.fcm.sid], "list page by page");
    const first = await v1.credentials.page({ pageSize: 2 });
    assert.deepEqual(first.instances.map((c) => c.sid), [cred.apn.sid, cred.gcm.sid], "first page of 2");
  });

  await step("credentials: update", async () => {
    let u = expectHTTP(await v1.credentials(cred.apn.sid).updateWithHttpInfo({ sandbox: false }), 200, "update");
    checkCredential(u, { friendlyName: "iOS", type: "apn", sandbox: "False" }, "sandbox off");
    u = await v1.credentials(cred.apn.sid).update({ friendlyName: "" });
    checkCredential(u, { friendlyName: null, type: "apn", sandbox: "False" }, "name cleared");
    u = await v1.credentials(cred.apn.sid).update({
      friendlyName: "iOS again", certificate: CERT, privateKey: KEY, sandbox: true,
    });
    checkCredential(u, { friendlyName: "iOS again", type: "apn", sandbox: "True" }, "new secrets");
    assert.equal(u.dateCreated.getTime(), cred.apn.dateCreated.getTime(), "date_created kept");
    assert.deepEqual(plain(await v1.credentials(cred.apn.sid).fetch()), plain(u), "fetch after update");
    cred.apn = u;

    // A change of type needs the new type's secret.
    const temp = await v1.credentials.create({ type: "gcm", apiKey: "k", friendlyName: "temp" });
    await expectRestError(v1.credentials(temp.sid).update({ type: "fcm" }),
      { status: 400, code: 20001, message: "Missing required parameter Secret in the post body" },
      "type change without the new secret");
    await expectRestError(v1.credentials(temp.sid).update({ apiKey: "k", secret: "s" }),
      { status: 400, code: 20001, message: "Invalid Secret: only fcm credentials take it" },
      "secret of another type");
    checkCredential(await v1.credentials(temp.sid).fetch(),
      { friendlyName: "temp", type: "gcm", sandbox: "False" }, "unchanged after refused updates");
    checkCredential(await v1.credentials(temp.sid).update({ type: "fcm", secret: "s" }),
      { friendlyName: "temp", type: "fcm", sandbox: "False" }, "type changed");
    cred.temp = temp;
  });

  await step("credentials: bad creates are 400 20001", async () => {
    const cases = [
      [{ type: "apn" }, "Missing required parameter Certificate in the post body"],
      [{ type: "apn", certificate: CERT }, "Missing required parameter PrivateKey in the post body"],
      [{ type: "apn", certificate: "not pem", privateKey: KEY },
        "Invalid Certificate: must be a PEM-encoded certificate (-----BEGIN CERTIFICATE-----…)"],
      [{ type: "apn", certificate: CERT, privateKey: CERT },
        "Invalid PrivateKey: must be a PEM-encoded private key (-----BEGIN RSA PRIVATE KEY-----…)"],
      [{ type: "gcm" }, "Missing required parameter ApiKey in the post body"],
      [{ type: "gcm", apiKey: "k", secret: "s" }, "Invalid Secret: only fcm credentials take it"],
      [{ type: "fcm", secret: "s", sandbox: true }, "Invalid Sandbox: only apn credentials take it"],
      [{ type: "sms", apiKey: "k" }, "Invalid Type: must be one of apn, gcm, fcm"],
    ];
    for (const [params, message] of cases) {
      await expectRestError(v1.credentials.create(params), { status: 400, code: 20001, message },
        `create ${JSON.stringify(params).slice(0, 70)}`);
    }
    await expectRestError(v1.credentials.create({ type: "fcm", secret: "s", friendlyName: "n".repeat(65) }),
      { status: 400, code: 50003, message: "Friendly name too long" }, "name over 64 characters");
    assert.equal((await v1.credentials.list()).length, 4, "nothing written by the refused creates");
  });

  await step("credentials: delete", async () => {
    const sid = cred.temp.sid;
    assert.equal(expectHTTP(await v1.credentials(sid).removeWithHttpInfo(), 204, "delete"), true);
    await expectRestError(v1.credentials(sid).fetch(), notFound(`/Credentials/${sid}`), "fetch deleted");
    await expectRestError(v1.credentials(sid).remove(), notFound(`/Credentials/${sid}`), "delete again");
    await expectRestError(v1.credentials(sid).update({ friendlyName: "x" }), notFound(`/Credentials/${sid}`),
      "update deleted");
    assert.deepEqual((await v1.credentials.list()).map((c) => c.sid), [cred.apn.sid, cred.gcm.sid, cred.fcm.sid]);
  });

  return cred;
}

// ---- Address configurations

function checkAddress(a, want, what) {
  assert.match(a.sid, AD, `${what}: sid`);
  assert.deepEqual(
    {
      accountSid: a.accountSid,
      type: a.type,
      address: a.address,
      friendlyName: a.friendlyName,
      autoCreation: a.autoCreation,
      addressCountry: a.addressCountry,
    },
    { accountSid: env.accountSid, friendlyName: null, addressCountry: null, ...want },
    `${what}: fields`,
  );
  expectDate(a.dateCreated, `${what}: dateCreated`);
  expectDate(a.dateUpdated, `${what}: dateUpdated`);
  expectURL(env, a.url, `/v1/Configuration/Addresses/${a.sid}`, `${what}: url`);
}

async function addresses(svc) {
  const FLOW = "FW" + "0123456789abcdef".repeat(2);
  const ac = {};
  const want = {};

  await step("address configurations: create sms (webhook), whatsapp (studio), email (default)", async () => {
    ac.sms = expectHTTP(await v1.addressConfigurations.createWithHttpInfo({
      type: "sms",
      address: "+15557654321",
      friendlyName: "Support line",
      addressCountry: "us",
      "autoCreation.enabled": true,
      "autoCreation.type": "webhook",
      "autoCreation.conversationServiceSid": svc,
      "autoCreation.webhookUrl": "https://hooks.example.com/inbound?line=1",
      "autoCreation.webhookMethod": "post",
      "autoCreation.webhookFilters": ["onMessageAdded", "onparticipantadded"],
    }), 201, "create sms");
    want.sms = {
      type: "sms",
      address: "+15557654321",
      friendlyName: "Support line",
      addressCountry: "US",
      autoCreation: {
        enabled: true,
        type: "webhook",
        conversation_service_sid: svc,
        webhook_url: "https://hooks.example.com/inbound?line=1",
        webhook_method: "POST",
        webhook_filters: ["onMessageAdded", "onParticipantAdded"],
      },
    };
    checkAddress(ac.sms, want.sms, "create sms");
    assert.equal(ac.sms.dateUpdated.getTime(), ac.sms.dateCreated.getTime(), "date_updated = date_created");

    ac.wa = await v1.addressConfigurations.create({
      type: "whatsapp",
      address: "whatsapp:+15557654322",
      "autoCreation.enabled": true,
      "autoCreation.type": "studio",
      "autoCreation.studioFlowSid": FLOW,
      "autoCreation.studioRetryCount": 2,
    });
    want.wa = {
      type: "whatsapp",
      address: "whatsapp:+15557654322",
      autoCreation: {
        enabled: true,
        type: "studio",
        conversation_service_sid: null,
        studio_flow_sid: FLOW,
        studio_retry_count: 2,
      },
    };
    checkAddress(ac.wa, want.wa, "create whatsapp");

    ac.email = await v1.addressConfigurations.create({ type: "email", address: "support@example.com" });
    want.email = { type: "email", address: "support@example.com", autoCreation: { enabled: false, type: "default" } };
    checkAddress(ac.email, want.email, "create email");
  });

  await step("address configurations: create errors", async () => {
    await expectRestError(v1.addressConfigurations.create({ type: "sms", address: "+15557654321" }),
      { status: 409, code: 20001, message: "Address configuration already exists" }, "duplicate address");
    await expectRestError(v1.addressConfigurations.create({
      type: "sms", address: "+15550000009", "autoCreation.enabled": true, "autoCreation.type": "webhook",
    }), {
      status: 400, code: 20001,
      message: "AutoCreation.WebhookUrl is required when auto-creation of type webhook is enabled",
    }, "webhook auto-creation without a URL");
    await expectRestError(v1.addressConfigurations.create({
      type: "sms", address: "+15550000009", "autoCreation.studioRetryCount": 4,
    }), { status: 400, code: 20001, message: "Invalid AutoCreation.StudioRetryCount: must be 0 to 3" },
    "retry count over 3");
    // twilio-node insists on an address; an empty one is the server's to refuse.
    await expectRestError(v1.addressConfigurations.create({ type: "sms", address: "" }),
      { status: 400, code: 20001, message: "Missing required parameter Address in the post body" }, "empty address");
    assert.equal((await v1.addressConfigurations.list()).length, 3, "nothing written by the refused creates");
  });

  await step("address configurations: fetch by SID and by address", async () => {
    for (const k of ["sms", "wa", "email"]) {
      const got = expectHTTP(await v1.addressConfigurations(ac[k].sid).fetchWithHttpInfo(), 200, `fetch ${k}`);
      assert.deepEqual(plain(got), plain(ac[k]), `fetch ${k} by SID equals its create`);
      assert.deepEqual(plain(await v1.addressConfigurations(ac[k].address).fetch()), plain(ac[k]),
        `fetch ${k} by address ${ac[k].address}`);
    }
    // twilio-node puts the address into the path as given; "+" in a path
    // is a plus (not a space), and so is its escape %2B.
    await v1.addressConfigurations("+15557654321").fetch();
    assert.equal(lastPath(), "/v1/Configuration/Addresses/+15557654321", "path as the SDK sent it");
    const escaped = await v1.addressConfigurations(encodeURIComponent("+15557654321")).fetch();
    assert.equal(lastPath(), "/v1/Configuration/Addresses/%2B15557654321", "escaped path as sent");
    assert.equal(escaped.sid, ac.sms.sid, "fetch by %2B-escaped address");
    await expectRestError(v1.addressConfigurations("+15550000000").fetch(),
      notFound("/Configuration/Addresses/+15550000000"), "unknown address");
    const ghost = "IG" + "0".repeat(32);
    await expectRestError(v1.addressConfigurations(ghost).fetch(),
      notFound(`/Configuration/Addresses/${ghost}`), "unknown SID");
  });

  await step("address configurations: update", async () => {
    let u = expectHTTP(await v1.addressConfigurations(ac.sms.sid).updateWithHttpInfo({
      friendlyName: "Support (after hours)",
      "autoCreation.webhookMethod": "get",
      "autoCreation.webhookFilters": ["onMessageAdded"],
    }), 200, "update sms");
    want.sms = {
      ...want.sms,
      friendlyName: "Support (after hours)",
      autoCreation: { ...want.sms.autoCreation, webhook_method: "GET", webhook_filters: ["onMessageAdded"] },
    };
    checkAddress(u, want.sms, "update sms");
    assert.equal(u.dateCreated.getTime(), ac.sms.dateCreated.getTime(), "date_created kept");
    assert.deepEqual(plain(await v1.addressConfigurations(ac.sms.sid).fetch()), plain(u), "fetch after update");

    // By address; a partial update keeps the rest.
    u = await v1.addressConfigurations("+15557654321").update({ "autoCreation.enabled": false });
    want.sms = { ...want.sms, autoCreation: { ...want.sms.autoCreation, enabled: false } };
    checkAddress(u, want.sms, "disable by address");

    // The service cleared: conversation_service_sid is null again.
    u = await v1.addressConfigurations(ac.sms.sid).update({ "autoCreation.conversationServiceSid": "" });
    want.sms = { ...want.sms, autoCreation: { ...want.sms.autoCreation, conversation_service_sid: null } };
    checkAddress(u, want.sms, "service cleared");

    // Another type shows that type's keys.
    u = await v1.addressConfigurations(ac.wa.sid).update({
      "autoCreation.type": "webhook",
      "autoCreation.webhookUrl": "https://hooks.example.com/wa",
    });
    want.wa = {
      ...want.wa,
      autoCreation: {
        enabled: true,
        type: "webhook",
        conversation_service_sid: null,
        webhook_url: "https://hooks.example.com/wa",
        webhook_method: "POST",
        webhook_filters: [],
      },
    };
    checkAddress(u, want.wa, "whatsapp to webhook");
    u = await v1.addressConfigurations(ac.email.sid).update({
      friendlyName: "Mailbox",
      "autoCreation.enabled": true,
      "autoCreation.conversationServiceSid": svc,
    });
    want.email = { ...want.email, friendlyName: "Mailbox", autoCreation: { enabled: true, type: "default" } };
    checkAddress(u, want.email, "email enabled");

    await expectRestError(v1.addressConfigurations(ac.sms.sid).update({
      "autoCreation.webhookUrl": "",
      "autoCreation.enabled": true,
    }), {
      status: 400, code: 20001,
      message: "AutoCreation.WebhookUrl is required when auto-creation of type webhook is enabled",
    }, "enabling webhook auto-creation without a URL");
    checkAddress(await v1.addressConfigurations(ac.sms.sid).fetch(), want.sms, "unchanged after a refused update");
  });

  await step("address configurations: list with and without type", async () => {
    const all = await v1.addressConfigurations.list();
    assert.deepEqual(all.map((a) => a.sid), [ac.sms.sid, ac.wa.sid, ac.email.sid], "list in creation order");
    checkAddress(all[0], want.sms, "listed sms");
    checkAddress(all[1], want.wa, "listed whatsapp");
    checkAddress(all[2], want.email, "listed email");
    assert.deepEqual((await v1.addressConfigurations.list({ pageSize: 1 })).map((a) => a.sid),
      [ac.sms.sid, ac.wa.sid, ac.email.sid], "page by page");
    assert.deepEqual((await v1.addressConfigurations.list({ type: "sms" })).map((a) => a.sid), [ac.sms.sid], "sms");
    assert.deepEqual((await v1.addressConfigurations.list({ type: "whatsapp" })).map((a) => a.sid), [ac.wa.sid],
      "whatsapp");
    assert.deepEqual((await v1.addressConfigurations.list({ type: "email", pageSize: 1 })).map((a) => a.sid),
      [ac.email.sid], "email");
    assert.deepEqual(await v1.addressConfigurations.list({ type: "messenger" }), [], "messenger: none");
  });

  await step("address configurations: delete", async () => {
    assert.equal(expectHTTP(await v1.addressConfigurations(ac.wa.sid).removeWithHttpInfo(), 204, "delete"), true);
    await expectRestError(v1.addressConfigurations(ac.wa.sid).fetch(),
      notFound(`/Configuration/Addresses/${ac.wa.sid}`), "fetch deleted");
    await expectRestError(v1.addressConfigurations(ac.wa.sid).remove(),
      notFound(`/Configuration/Addresses/${ac.wa.sid}`), "delete again");
    // By address.
    assert.equal(await v1.addressConfigurations("support@example.com").remove(), true, "delete by address");
    await expectRestError(v1.addressConfigurations(ac.email.sid).fetch(),
      notFound(`/Configuration/Addresses/${ac.email.sid}`), "fetch deleted by address");
    assert.deepEqual((await v1.addressConfigurations.list()).map((a) => a.sid), [ac.sms.sid], "left");
    // The address is free again.
    const again = await v1.addressConfigurations.create({ type: "email", address: "support@example.com" });
    assert.notEqual(again.sid, ac.email.sid, "a new SID");
    assert.equal(await v1.addressConfigurations(again.sid).remove(), true);
    assert.equal(await v1.addressConfigurations(ac.sms.sid).remove(), true);
    assert.deepEqual(await v1.addressConfigurations.list(), [], "none left");
  });
}

// ---- Bindings

function checkBinding(b, want, what) {
  assert.match(b.sid, BS, `${what}: sid`);
  assert.deepEqual(
    {
      accountSid: b.accountSid,
      chatServiceSid: b.chatServiceSid,
      credentialSid: b.credentialSid,
      endpoint: b.endpoint,
      identity: b.identity,
      bindingType: b.bindingType,
      messageTypes: b.messageTypes,
    },
    { accountSid: env.accountSid, messageTypes: MESSAGE_TYPES, ...want },
    `${what}: fields`,
  );
  expectDate(b.dateCreated, `${what}: dateCreated`);
  expectDate(b.dateUpdated, `${what}: dateUpdated`);
  expectURL(env, b.url, `/v1/Services/${want.chatServiceSid}/Bindings/${b.sid}`, `${what}: url`);
}

// register is the device registration a client SDK makes on Twilio, here
// through parley's control; it returns the binding's JSON.
async function register(svc, form, what) {
  const res = await control(`/Services/${svc}/Bindings`, form);
  assert.equal(res.status, 201, `${what}: ${JSON.stringify(res.body)}`);
  const b = res.body;
  assert.deepEqual(Object.keys(b).sort(), ["account_sid", "binding_type", "chat_service_sid", "credential_sid",
    "date_created", "date_updated", "endpoint", "identity", "message_types", "sid", "url"], `${what}: keys`);
  return b;
}

async function bindings(svc, cred) {
  const api = v1.services(svc);
  const b = {};
  const wants = {};
  const notifiable = async (identity) => (await api.users(identity).fetch()).isNotifiable;

  await api.users.create({ identity: "alice" });
  await api.users.create({ identity: "bob" });

  await step("bindings: none at first", async () => {
    assert.deepEqual(await api.bindings.list(), [], "empty list");
    const ghost = "IS" + "0".repeat(32);
    await expectRestError(v1.services(ghost).bindings.list(), notFound(`/Services/${ghost}/Bindings`),
      "bindings of an unknown service");
  });

  await step("bindings: register apn, fcm, gcm and twilsock devices", async () => {
    const reg = [
      ["apnAlice", { Identity: "alice", BindingType: "apn", Address: "apn-device-token-alice", CredentialSid: cred.apn.sid }],
      ["fcmAlice", { Identity: "alice", BindingType: "fcm", Address: "fcm-token-alice", CredentialSid: cred.gcm.sid }],
      ["gcmBob", { Identity: "bob", BindingType: "gcm", Address: "gcm-token-bob", CredentialSid: cred.fcm.sid }],
      ["sockBob", { Identity: "bob", BindingType: "twilsock", Address: "twilsock-bob" }],
    ];
    for (const [k, form] of reg) {
      const raw = await register(svc, form, `register ${k}`);
      wants[k] = {
        chatServiceSid: svc,
        credentialSid: form.CredentialSid ?? null,
        endpoint: form.Address,
        identity: form.Identity,
        bindingType: form.BindingType,
      };
      assert.match(raw.sid, BS, `${k}: sid`);
      assert.deepEqual(
        [raw.account_sid, raw.chat_service_sid, raw.credential_sid, raw.endpoint, raw.identity, raw.binding_type,
          raw.message_types, raw.date_updated],
        [env.accountSid, svc, form.CredentialSid ?? null, form.Address, form.Identity, form.BindingType,
          MESSAGE_TYPES, raw.date_created],
        `${k}: registration answer`,
      );
      expectURL(env, raw.url, `/v1/Services/${svc}/Bindings/${raw.sid}`, `${k}: url`);
      b[k] = expectHTTP(await api.bindings(raw.sid).fetchWithHttpInfo(), 200, `fetch ${k}`);
      checkBinding(b[k], wants[k], `fetch ${k}`);
      assert.equal(b[k].dateCreated.toISOString().replace(".000", ""), raw.date_created, `${k}: date_created`);
    }
  });

  await step("bindings: registration errors", async () => {
    const bad = async (form, want, what) =>
      expectControlError(await control(`/Services/${svc}/Bindings`, form), want, what);
    const e400 = (message) => ({ status: 400, code: 20001, message });
    await bad({ Identity: "alice", BindingType: "apn", Address: "x" },
      e400("Missing required parameter CredentialSid in the post body"), "apn without credential");
    await bad({ Identity: "alice", BindingType: "apn", Address: "x", CredentialSid: cred.gcm.sid },
      e400(`Invalid CredentialSid: credential ${cred.gcm.sid} (type gcm) cannot push to apn bindings`), "apn with a gcm credential");
    await bad({ Identity: "alice", BindingType: "fcm", Address: "x", CredentialSid: cred.apn.sid },
      e400(`Invalid CredentialSid: credential ${cred.apn.sid} (type apn) cannot push to fcm bindings`), "fcm with an apn credential");
    await bad({ Identity: "alice", BindingType: "twilsock", Address: "x", CredentialSid: cred.apn.sid },
      e400("Invalid CredentialSid: twilsock bindings take none"), "twilsock with a credential");
    const ghost = "CR" + "0".repeat(32);
    await bad({ Identity: "alice", BindingType: "apn", Address: "x", CredentialSid: ghost },
      e400(`Invalid CredentialSid: there is no credential ${ghost}`), "unknown credential");
    await bad({ Identity: "alice", BindingType: "sms", Address: "x" },
      e400("Invalid BindingType: must be one of apn, gcm, fcm, twilsock"), "binding type");
    await bad({ BindingType: "twilsock", Address: "x" },
      e400("Missing required parameter Identity in the post body"), "no identity");
    await bad({ Identity: "nobody", BindingType: "twilsock", Address: "x" },
      { status: 404, code: 20404, message: 'No user with identity "nobody" in the service' }, "unknown user");
    assert.equal((await api.bindings.list()).length, 4, "nothing written by the refused registrations");
  });

  await step("bindings: list with bindingType and identity filters", async () => {
    const sids = (list) => list.map((x) => x.sid);
    const all = await api.bindings.list();
    assert.deepEqual(sids(all), sids([b.apnAlice, b.fcmAlice, b.gcmBob, b.sockBob]), "all, in creation order");
    for (const [i, k] of ["apnAlice", "fcmAlice", "gcmBob", "sockBob"].entries()) {
      assert.deepEqual(plain(all[i]), plain(b[k]), `listed ${k} equals its fetch`);
    }
    assert.deepEqual(sids(await api.bindings.list({ pageSize: 1 })), sids(all), "page by page");
    assert.deepEqual(sids(await api.bindings.list({ bindingType: ["apn"] })), [b.apnAlice.sid], "apn");
    assert.deepEqual(sids(await api.bindings.list({ bindingType: ["gcm", "fcm"] })),
      [b.fcmAlice.sid, b.gcmBob.sid], "gcm and fcm");
    assert.deepEqual(sids(await api.bindings.list({ identity: ["bob"] })), [b.gcmBob.sid, b.sockBob.sid], "bob");
    assert.deepEqual(sids(await api.bindings.list({ identity: ["bob"], pageSize: 1 })),
      [b.gcmBob.sid, b.sockBob.sid], "bob, page by page (the filter follows next_page_url)");
    assert.deepEqual(sids(await api.bindings.list({ identity: ["alice", "bob"], bindingType: ["fcm", "twilsock"] })),
      [b.fcmAlice.sid, b.sockBob.sid], "both filters");
    assert.deepEqual(await api.bindings.list({ identity: ["nobody"] }), [], "unknown identity: none");
    await expectRestError(api.bindings.list({ bindingType: ["sms"] }),
      { status: 400, code: 20001, message: 'Invalid BindingType: "sms" is not one of apn, gcm, fcm, twilsock' },
      "unknown binding type filter");
    // Bindings belong to their service.
    assert.deepEqual(await v1.services(env.defaultServiceSid).bindings.list(), [], "default service: none");
    await expectRestError(v1.services(env.defaultServiceSid).bindings(b.apnAlice.sid).fetch(),
      notFound(`/Services/${env.defaultServiceSid}/Bindings/${b.apnAlice.sid}`), "fetch from another service");
  });

  await step("bindings: a device registering again moves its binding", async () => {
    const raw = await register(svc, { Identity: "bob", BindingType: "fcm", Address: "fcm-token-alice",
      CredentialSid: cred.fcm.sid }, "fcm device to bob");
    assert.equal(raw.sid, b.fcmAlice.sid, "same binding");
    const moved = await api.bindings(raw.sid).fetch();
    checkBinding(moved, { ...wants.fcmAlice, identity: "bob", credentialSid: cred.fcm.sid }, "moved");
    assert.equal(moved.dateCreated.getTime(), b.fcmAlice.dateCreated.getTime(), "date_created kept");
    const back = await register(svc, { Identity: "alice", BindingType: "fcm", Address: "fcm-token-alice",
      CredentialSid: cred.gcm.sid }, "fcm device back to alice");
    assert.equal(back.sid, b.fcmAlice.sid, "same binding again");
    checkBinding(await api.bindings(back.sid).fetch(), wants.fcmAlice, "moved back");
  });

  await step("bindings: is_notifiable follows the bindings with reachability on", async () => {
    assert.deepEqual([await notifiable("alice"), await notifiable("bob")], [null, null], "reachability off: null");
    const cfg = await api.configuration().update({ reachabilityEnabled: true });
    assert.equal(cfg.reachabilityEnabled, true, "reachability on");
    assert.deepEqual([await notifiable("alice"), await notifiable("bob")], [true, true], "registered: true");

    const carol = await api.users.create({ identity: "carol" });
    assert.equal(carol.isNotifiable, null, "carol, never registered");
    const raw = await register(svc, { Identity: "carol", BindingType: "apn", Address: "apn-device-token-carol",
      CredentialSid: cred.apn.sid }, "register carol");
    assert.equal(await notifiable("carol"), true, "carol after registering");
    assert.equal(await api.bindings(raw.sid).remove(), true, "unregister carol");
    assert.equal(await notifiable("carol"), false, "carol after her last binding is deleted");
    assert.equal(await api.users(carol.sid).remove(), true);

    // alice has two devices: notifiable until both are gone.
    assert.equal(expectHTTP(await api.bindings(b.apnAlice.sid).removeWithHttpInfo(), 204, "delete"), true);
    assert.equal(await notifiable("alice"), true, "alice with one binding left");
    await expectRestError(api.bindings(b.apnAlice.sid).fetch(),
      notFound(`/Services/${svc}/Bindings/${b.apnAlice.sid}`), "fetch deleted");
    await expectRestError(api.bindings(b.apnAlice.sid).remove(),
      notFound(`/Services/${svc}/Bindings/${b.apnAlice.sid}`), "delete again");
    assert.equal(await api.bindings(b.fcmAlice.sid).remove(), true);
    assert.equal(await notifiable("alice"), false, "alice after her last binding is deleted");
    assert.deepEqual((await api.bindings.list({ identity: ["alice"] })), [], "alice has none");

    // With reachability off the value is hidden again.
    await api.configuration().update({ reachabilityEnabled: false });
    assert.deepEqual([await notifiable("alice"), await notifiable("bob")], [null, null], "reachability off again");
  });

  await step("bindings: go with their user", async () => {
    assert.equal(await api.users("bob").remove(), true);
    assert.deepEqual(await api.bindings.list(), [], "bob's bindings went with him");
    await expectRestError(api.bindings(b.gcmBob.sid).fetch(),
      notFound(`/Services/${svc}/Bindings/${b.gcmBob.sid}`), "bob's binding");
    assert.equal(await api.users("alice").remove(), true);
  });
}

// ---- Notification settings

function checkNotifications(n, svc, want, what) {
  assert.deepEqual(
    {
      accountSid: n.accountSid,
      chatServiceSid: n.chatServiceSid,
      logEnabled: n.logEnabled,
      newMessage: n.newMessage,
      addedToConversation: n.addedToConversation,
      removedFromConversation: n.removedFromConversation,
    },
    { accountSid: env.accountSid, chatServiceSid: svc, ...want },
    `${what}: fields`,
  );
  expectURL(env, n.url, `/v1/Services/${svc}/Configuration/Notifications`, `${what}: url`);
}

const NOTIFICATION_DEFAULTS = {
  logEnabled: false,
  newMessage: {
    enabled: false,
    template: null,
    sound: null,
    badge_count_enabled: false,
    with_media: { enabled: false, template: null },
  },
  addedToConversation: { enabled: false, template: null, sound: null },
  removedFromConversation: { enabled: false, template: null, sound: null },
};

async function notifications(svc) {
  const n = v1.services(svc).configuration.notifications();

  await step("notifications: defaults of a fresh service", async () => {
    checkNotifications(expectHTTP(await n.fetchWithHttpInfo(), 200, "fetch"), svc, NOTIFICATION_DEFAULTS, "defaults");
  });

  let want;
  await step("notifications: update every setting", async () => {
    want = {
      logEnabled: true,
      newMessage: {
        enabled: true,
        template: "${PARTICIPANT}: ${MESSAGE}",
        sound: "new.caf",
        badge_count_enabled: true,
        with_media: { enabled: true, template: "${PARTICIPANT} sent ${MEDIA_COUNT} file(s)" },
      },
      addedToConversation: { enabled: true, template: "You joined ${CONVERSATION}", sound: "added.caf" },
      removedFromConversation: { enabled: true, template: "You left ${CONVERSATION}", sound: "removed.caf" },
    };
    const u = expectHTTP(await n.updateWithHttpInfo({
      logEnabled: true,
      "newMessage.enabled": true,
      "newMessage.template": want.newMessage.template,
      "newMessage.sound": "new.caf",
      "newMessage.badgeCountEnabled": true,
      "newMessage.withMedia.enabled": true,
      "newMessage.withMedia.template": want.newMessage.with_media.template,
      "addedToConversation.enabled": true,
      "addedToConversation.template": want.addedToConversation.template,
      "addedToConversation.sound": "added.caf",
      "removedFromConversation.enabled": true,
      "removedFromConversation.template": want.removedFromConversation.template,
      "removedFromConversation.sound": "removed.caf",
    }), 200, "update");
    checkNotifications(u, svc, want, "update all");
    checkNotifications(await n.fetch(), svc, want, "fetch after update");
  });

  await step("notifications: a partial update keeps the rest", async () => {
    const u = await n.update({
      "newMessage.sound": "other.caf",
      "newMessage.withMedia.enabled": false,
      "removedFromConversation.enabled": false,
      "addedToConversation.template": "", // back to Twilio's default: null
    });
    want = {
      ...want,
      newMessage: { ...want.newMessage, sound: "other.caf", with_media: { ...want.newMessage.with_media, enabled: false } },
      removedFromConversation: { ...want.removedFromConversation, enabled: false },
      addedToConversation: { ...want.addedToConversation, template: null },
    };
    checkNotifications(u, svc, want, "partial update");
    checkNotifications(await n.fetch(), svc, want, "fetch after partial update");
    checkNotifications(await n.update({ logEnabled: false }), svc, { ...want, logEnabled: false }, "log off");
  });

  await step("notifications: other services keep their own", async () => {
    const dflt = env.defaultServiceSid;
    checkNotifications(await v1.services(dflt).configuration.notifications().fetch(), dflt, NOTIFICATION_DEFAULTS,
      "default service untouched");
    const ghost = "IS" + "0".repeat(32);
    await expectRestError(v1.services(ghost).configuration.notifications().fetch(),
      notFound(`/Services/${ghost}/Configuration/Notifications`), "unknown service");
  });
}

// ---- Inbound messages

async function inbound(svc) {
  const FROM = "+15551230001";
  const TO = "+15550001111";
  let ac, first;

  const inboundSMS = (form) => control("/Inbound", form);
  const checkAnswer = (res, want, what) => {
    assert.equal(res.status, 201, `${what}: ${JSON.stringify(res.body)}`);
    const a = res.body;
    assert.deepEqual(Object.keys(a).sort(), ["account_sid", "address_configuration_sid", "chat_service_sid",
      "conversation_created", "conversation_sid", "message_sid", "participant_sid", "url"], `${what}: keys`);
    assert.match(a.conversation_sid, /^CH[0-9a-f]{32}$/, `${what}: conversation_sid`);
    assert.match(a.participant_sid, /^MB[0-9a-f]{32}$/, `${what}: participant_sid`);
    assert.match(a.message_sid, /^IM[0-9a-f]{32}$/, `${what}: message_sid`);
    assert.deepEqual(
      [a.account_sid, a.chat_service_sid, a.address_configuration_sid, a.conversation_created],
      [env.accountSid, want.svc, want.addressConfigurationSid, want.created],
      `${what}: answer`,
    );
    expectURL(env, a.url, `/v1/Services/${want.svc}/Conversations/${a.conversation_sid}/Messages/${a.message_sid}`,
      `${what}: url`);
    return a;
  };

  await step("inbound: the first message creates a conversation", async () => {
    ac = await v1.addressConfigurations.create({
      type: "sms",
      address: TO,
      "autoCreation.enabled": true,
      "autoCreation.type": "default",
      "autoCreation.conversationServiceSid": svc,
    });
    checkAddress(ac, { type: "sms", address: TO, autoCreation: { enabled: true, type: "default" } }, "config");
    first = checkAnswer(await inboundSMS({ From: FROM, To: TO, Body: "Hi, I need help" }),
      { svc, addressConfigurationSid: ac.sid, created: true }, "first message");

    const api = v1.services(svc);
    const conv = await api.conversations(first.conversation_sid).fetch();
    assert.deepEqual([conv.sid, conv.chatServiceSid, conv.accountSid, conv.state],
      [first.conversation_sid, svc, env.accountSid, "active"], "conversation");
    const parts = await api.conversations(conv.sid).participants.list();
    assert.deepEqual(parts.map((p) => [p.sid, p.identity, p.messagingBinding]),
      [[first.participant_sid, null, { type: "sms", address: FROM, proxy_address: TO }]], "participants");
    const msgs = await api.conversations(conv.sid).messages.list();
    assert.deepEqual(msgs.map((m) => [m.sid, m.index, m.author, m.participantSid, m.body]),
      [[first.message_sid, 0, FROM, first.participant_sid, "Hi, I need help"]], "messages");
    assert.deepEqual(await v1.services(env.defaultServiceSid).conversations.list(), [],
      "nothing in the default service");
  });

  await step("inbound: the same pair lands in the same conversation", async () => {
    const second = checkAnswer(await inboundSMS({ From: FROM, To: TO, Body: "Anyone there?" }),
      { svc, addressConfigurationSid: null, created: false }, "second message");
    assert.deepEqual([second.conversation_sid, second.participant_sid], [first.conversation_sid, first.participant_sid],
      "same conversation and participant");
    assert.notEqual(second.message_sid, first.message_sid, "a new message");
    const msgs = await v1.services(svc).conversations(first.conversation_sid).messages.list();
    assert.deepEqual(msgs.map((m) => [m.sid, m.index, m.author, m.participantSid, m.body]), [
      [first.message_sid, 0, FROM, first.participant_sid, "Hi, I need help"],
      [second.message_sid, 1, FROM, first.participant_sid, "Anyone there?"],
    ], "messages");
    // Another sender to the same address gets a conversation of its own.
    const other = checkAnswer(await inboundSMS({ From: "+15551230002", To: TO, Body: "Hello" }),
      { svc, addressConfigurationSid: ac.sid, created: true }, "another sender");
    assert.notEqual(other.conversation_sid, first.conversation_sid, "its own conversation");
    assert.equal((await v1.services(svc).conversations.list()).length, 2, "two conversations");
  });

  await step("inbound: without the service, auto-creation uses the default one", async () => {
    const dflt = env.defaultServiceSid;
    const plainAc = await v1.addressConfigurations.create({ type: "sms", address: "+15550002222",
      "autoCreation.enabled": true });
    checkAddress(plainAc, { type: "sms", address: "+15550002222", autoCreation: { enabled: true, type: "default" } },
      "config without service");
    const a = checkAnswer(await inboundSMS({ From: FROM, To: "+15550002222", Body: "to the default" }),
      { svc: dflt, addressConfigurationSid: plainAc.sid, created: true }, "default service");
    const conv = await v1.conversations(a.conversation_sid).fetch();
    assert.equal(conv.chatServiceSid, dflt, "conversation in the default service");
    assert.equal(await v1.conversations(conv.sid).remove(), true);
    assert.equal(await v1.addressConfigurations(plainAc.sid).remove(), true);
  });

  await step("inbound: no configuration (or auto-creation off) is 404 20404", async () => {
    expectControlError(await inboundSMS({ From: FROM, To: "+15559999999", Body: "lost" }), {
      status: 404, code: 20404,
      message: "No open conversation holds the pair (From, To), and +15559999999 has no address configuration to create one",
    }, "unconfigured address");
    const off = await v1.addressConfigurations.create({ type: "sms", address: "+15550003333" });
    expectControlError(await inboundSMS({ From: FROM, To: "+15550003333", Body: "lost" }), {
      status: 404, code: 20404,
      message: `No open conversation holds the pair (From, To), and auto-creation is off in +15550003333's address configuration ${off.sid}`,
    }, "auto-creation off");
    expectControlError(await inboundSMS({ To: TO, Body: "x" }),
      { status: 400, code: 20001, message: "Missing required parameter From in the post body" }, "no From");
    assert.equal(await v1.addressConfigurations(off.sid).remove(), true);
    // Deleting the configuration keeps the conversations it created, and
    // the pair still reaches its conversation.
    assert.equal(await v1.addressConfigurations(TO).remove(), true);
    checkAnswer(await inboundSMS({ From: FROM, To: TO, Body: "still here" }),
      { svc, addressConfigurationSid: null, created: false }, "after the configuration is deleted");
    assert.equal((await v1.services(svc).conversations.list()).length, 2, "conversations kept");
  });
}

run("push-addresses", async () => {
  const svc = (await v1.services.create({ friendlyName: "sdktest push" })).sid;
  assert.match(svc, SID.service);
  // The notification defaults are checked on the fresh service first.
  await notifications(svc);
  const cred = await credentials();
  await addresses(svc);
  await bindings(svc, cred);
  await inbound(svc);
  await step("cleanup", async () => {
    for (const c of Object.values(cred)) {
      if (c.sid !== undefined && c.friendlyName !== "temp") await v1.credentials(c.sid).remove();
    }
    assert.deepEqual(await v1.credentials.list(), [], "no credentials left");
    assert.equal(await v1.services(svc).remove(), true);
  });
});
