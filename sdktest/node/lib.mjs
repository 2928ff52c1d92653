// Shared helpers for the twilio-node compatibility scripts. Each script is
// run by sdktest/node_test.go against its own in-process parley, with:
//
//	PARLEY_URL                  e.g. http://127.0.0.1:41234
//	PARLEY_ACCOUNT_SID          AC…
//	PARLEY_AUTH_TOKEN
//	PARLEY_DEFAULT_SERVICE_SID  IS…
//
// The client is the stock one, pointed at parley with the documented
// one-liner `client.conversations.baseUrl = PARLEY_URL`.

import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { inspect } from "node:util";
import twilio from "twilio";

export { assert, twilio };

// setup reads the environment and returns a stock client aimed at parley.
export function setup() {
  const names = [
    "PARLEY_URL",
    "PARLEY_ACCOUNT_SID",
    "PARLEY_AUTH_TOKEN",
    "PARLEY_DEFAULT_SERVICE_SID",
  ];
  const missing = names.filter((n) => !process.env[n]);
  if (missing.length > 0) {
    throw new Error(
      `missing environment: ${missing.join(", ")} (run through go test ./sdktest/)`,
    );
  }
  // TWILIO_EDGE / TWILIO_REGION would rewrite the host (127.0.0.1 becomes
  // 127.0.<edge>.<region>.0.1); HTTP_PROXY would send loopback requests
  // through a proxy. None of them belong in this test.
  for (const n of ["TWILIO_EDGE", "TWILIO_REGION", "HTTP_PROXY"]) {
    if (process.env[n]) throw new Error(`${n} must be unset for these tests`);
  }
  const env = {
    url: process.env.PARLEY_URL.replace(/\/+$/, ""),
    accountSid: process.env.PARLEY_ACCOUNT_SID,
    authToken: process.env.PARLEY_AUTH_TOKEN,
    defaultServiceSid: process.env.PARLEY_DEFAULT_SERVICE_SID,
  };
  env.host = new URL(env.url).host;
  const client = twilio(env.accountSid, env.authToken);
  client.conversations.baseUrl = env.url;
  return { client, env, v1: client.conversations.v1 };
}

// ---- Steps and reporting

let currentStep = "(setup)";
let steps = 0;

// step runs one named part of a script; a failure names the step.
export async function step(name, fn) {
  currentStep = name;
  steps++;
  await fn();
}

// run is a script's entry point: it runs main and exits non-zero with a
// readable message on any failure.
export function run(script, main) {
  const started = Date.now();
  main().then(
    () => {
      console.log(`ok ${script}: ${steps} steps in ${Date.now() - started} ms`);
      process.exit(0);
    },
    (err) => {
      console.error(`FAIL ${script}\n  step: ${currentStep}\n${describe(err)}`);
      process.exit(1);
    },
  );
}

function describe(err) {
  const lines = [];
  if (err instanceof assert.AssertionError) {
    lines.push(`  assertion: ${err.message.split("\n").join("\n    ")}`);
  } else if (err instanceof twilio.RestException) {
    lines.push(
      `  unexpected RestException: status=${err.status} code=${err.code} ` +
        `message=${JSON.stringify(err.message)} moreInfo=${err.moreInfo}`,
    );
  } else {
    lines.push(`  error: ${inspect(err, { depth: 4 })}`);
  }
  if (err && err.stack && !(err instanceof assert.AssertionError)) {
    lines.push(`  stack: ${err.stack.split("\n").slice(1, 6).join("\n        ")}`);
  }
  if (err && err.stack && err instanceof assert.AssertionError) {
    const frames = err.stack.split("\n").filter((l) => l.includes(".mjs:"));
    const at = frames.find((l) => l.includes(".test.mjs:")) ?? frames[0];
    if (at) lines.push(`  at: ${at.trim()}`);
  }
  return lines.join("\n");
}

// ---- Assertions

// expectRestError awaits a call that must fail with Twilio's error: a
// RestException with the HTTP status, the body's code and message, and
// more_info pointing at the code's page.
export async function expectRestError(promise, { status, code, message }, what) {
  let err;
  try {
    const got = await promise;
    assert.fail(
      `${what}: expected RestException ${status}/${code}, got success: ${inspect(plain(got), { depth: 3 })}`,
    );
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e;
  }
  assert.ok(
    err instanceof twilio.RestException,
    `${what}: expected a twilio.RestException, got ${inspect(err)}`,
  );
  const got = { status: err.status, code: err.code, moreInfo: err.moreInfo };
  const want = { status, code, moreInfo: `https://www.twilio.com/docs/errors/${code}` };
  if (message !== undefined) {
    got.message = err.message;
    want.message = message;
  }
  assert.deepEqual(got, want, `${what}: error`);
  return err;
}

// expectDate checks a deserialized date: a real Date (twilio-node turns
// RFC 3339 strings into Dates), whole seconds, and close to now.
export function expectDate(d, what) {
  assert.ok(d instanceof Date, `${what}: want a Date, got ${inspect(d)}`);
  assert.ok(!Number.isNaN(d.getTime()), `${what}: invalid Date`);
  assert.equal(d.getUTCMilliseconds(), 0, `${what}: second precision`);
  const skew = Math.abs(Date.now() - d.getTime());
  assert.ok(skew < 10 * 60 * 1000, `${what}: ${d.toISOString()} is not near now`);
}

// expectURL checks an absolute URL on the server's own host.
export function expectURL(env, got, path, what) {
  assert.equal(got, env.url + path, `${what}: URL`);
  assert.equal(new URL(got).host, env.host, `${what}: host`);
}

// expectHTTP checks a *WithHttpInfo result: the exact status (201 create,
// 200 fetch/update, 204 delete), a JSON body unless 204, and Twilio's
// request id header.
export function expectHTTP(res, status, what) {
  assert.equal(res.statusCode, status, `${what}: HTTP status`);
  const h = res.headers || {};
  assert.match(String(h["twilio-request-id"]), /^RQ[0-9a-f]{32}$/, `${what}: Twilio-Request-Id`);
  if (status === 204) {
    assert.equal(res.body, true, `${what}: remove result`);
  } else {
    assert.match(String(h["content-type"]), /^application\/json\b/, `${what}: Content-Type`);
  }
  return res.body;
}

// plain returns an instance's fields without the SDK's internals, for
// comparing a fetch with a create.
export function plain(x) {
  if (x && typeof x.toJSON === "function") return x.toJSON();
  return x;
}

// sorted returns a sorted copy (permissions are a set).
export function sorted(a) {
  return [...a].sort();
}

export const SID = {
  user: /^US[0-9a-f]{32}$/,
  service: /^IS[0-9a-f]{32}$/,
  role: /^RL[0-9a-f]{32}$/,
  account: /^AC[0-9a-f]{32}$/,
};

// defaultRoles returns a service's default roles by name and its
// configuration (semantics.md §5: service admin / service user of type
// service, channel admin / channel user of type conversation).
export async function defaultRoles(v1, serviceSid) {
  const roles = await v1.services(serviceSid).roles.list();
  const byName = Object.fromEntries(roles.map((r) => [r.friendlyName, r]));
  const cfg = await v1.services(serviceSid).configuration().fetch();
  return { roles, byName, cfg };
}

// forEachScope runs suite once for each way a service-scoped resource
// (users, roles) is addressed: the shortened v1.<name> on the default
// service, v1.services(default).<name>, and a service of its own, which it
// creates and returns.
export async function forEachScope(v1, env, name, suite) {
  const dflt = env.defaultServiceSid;
  await suite({ label: `v1.${name}`, [name]: v1[name], serviceSid: dflt, prefix: "/v1" });
  await suite({
    label: `v1.services(default).${name}`,
    [name]: v1.services(dflt)[name],
    serviceSid: dflt,
    prefix: `/v1/Services/${dflt}`,
  });
  const svc = await v1.services.create({ friendlyName: `sdktest ${name}` });
  await suite({
    label: `v1.services(new).${name}`,
    [name]: v1.services(svc.sid)[name],
    serviceSid: svc.sid,
    prefix: `/v1/Services/${svc.sid}`,
  });
  return svc;
}

// shutdownLeftover reports whether an unhandled rejection is one the SDK
// leaves behind when a client is shut down with requests still pending:
// its transport's TransportUnavailableError ("Connection is not
// initialized"), or twilio-sync's SyncError "disconnected" (status 0). A
// browser logs them; anything else fails the script.
export function shutdownLeftover(err) {
  const name = err?.constructor?.name;
  return name === "TransportUnavailableError" ||
    (name === "SyncError" && err.message === "disconnected (status: 0, code: 0)" && err.status === 0);
}

// ---- The client SDK (@twilio/conversations) scripts

const require = createRequire(import.meta.url);

// conversationsSDKs are the client SDK versions tested, by version.
export const conversationsSDKs = {
  "2.7.0": require("@twilio/conversations"),
  "3.0.1": require("conversations3"),
};

// clientToken mints an access token for identity with the API key that
// sdktest made for the script (PARLEY_API_KEY_SID and _SECRET), as an
// app's backend does with twilio-node.
export function clientToken(env, identity, { serviceSid = env.defaultServiceSid, ttl = 3600, secret, pushCredentialSid } = {}) {
  const t = new twilio.jwt.AccessToken(env.accountSid, process.env.PARLEY_API_KEY_SID,
    secret ?? process.env.PARLEY_API_KEY_SECRET, { identity, ttl });
  t.addGrant(new twilio.jwt.AccessToken.ChatGrant({ serviceSid, pushCredentialSid }));
  return t.toJwt();
}

// failOnUnhandledRejections fails the script on an unhandled rejection,
// but those a shut-down client leaves behind (shutdownLeftover).
export function failOnUnhandledRejections() {
  process.on("unhandledRejection", (err) => {
    if (shutdownLeftover(err)) return;
    console.error("unhandled rejection:", err);
    process.exit(1);
  });
}

// connectClient makes a client of an SDK's Client class on the socket at
// uri, and resolves with it and its state once it is initialized or has
// failed, or rejects after 15 s.
export function connectClient(Client, jwt, uri) {
  const client = new Client(jwt, { Twilsock: { uri }, logLevel: "silent" });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the client neither initialized nor failed in 15 s")), 15000);
    client.on("stateChanged", (state) => {
      if (state === "initialized" || state === "failed") {
        clearTimeout(timer);
        resolve({ client, state });
      }
    });
  });
}

// waitFor resolves with the arguments of the first event of name on
// emitter for which match is true, or rejects after ms.
export function waitFor(emitter, name, match = () => true, ms = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${name} in ${ms / 1000} s`)), ms);
    const listener = (...args) => {
      if (!match(...args)) return;
      clearTimeout(timer);
      emitter.removeListener(name, listener);
      resolve(args.length > 1 ? args : args[0]);
    };
    emitter.on(name, listener);
  });
}
