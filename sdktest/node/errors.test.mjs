// Error bodies as twilio-node reads them (RestException: status from HTTP,
// code, message and more_info from the body) for the situations in
// semantics.md §2 that the SDK lets through to the server.

import { assert, expectRestError, run, setup, step, twilio } from "./lib.mjs";

const { env, v1 } = setup();

run("errors", async () => {
  await step("wrong credentials are 401 20003", async () => {
    const bad = twilio(env.accountSid, env.authToken + "x");
    bad.conversations.baseUrl = env.url;
    const err = await expectRestError(bad.conversations.v1.users.list(),
      { status: 401, code: 20003, message: "Authenticate" }, "wrong auth token");
    assert.ok(err instanceof twilio.RestException);
    const other = twilio("AC" + "0".repeat(32), env.authToken);
    other.conversations.baseUrl = env.url;
    await expectRestError(other.conversations.v1.services.list(),
      { status: 401, code: 20003, message: "Authenticate" }, "unknown account");
  });

  await step("user validation errors", async () => {
    const cases = [
      [{ identity: "x".repeat(257) }, 400, 50207, "Identity too long"],
      [{ identity: "US" + "0123456789abcdef".repeat(2) }, 400, 50206, "Identity should not match user SID pattern"],
      [{ identity: "long-name", friendlyName: "n".repeat(257) }, 400, 50003, "Friendly name too long"],
      [{ identity: "big", attributes: JSON.stringify({ a: "y".repeat(16 * 1024) }) }, 400, 50303, "Attributes too long"],
      [{ identity: "bad-role", roleSid: "not-a-role" }, 400, 20001, "Invalid RoleSid"],
      [{ identity: "ghost-role", roleSid: "RL" + "0".repeat(32) }, 400, 50100, "Role not found"],
    ];
    for (const [params, status, code, message] of cases) {
      await expectRestError(v1.users.create(params), { status, code, message },
        `create ${JSON.stringify(params).slice(0, 60)}`);
    }
    // Exactly at the limits is fine.
    const ok = await v1.users.create({ identity: "i".repeat(256), friendlyName: "f".repeat(256) });
    assert.equal(ok.identity.length, 256);
    assert.equal(await v1.users(ok.sid).remove(), true);
    assert.deepEqual(await v1.users.list(), [], "nothing was created by the failed calls");
  });

  await step("unknown SIDs are 404 20404", async () => {
    const u = "US" + "0".repeat(32);
    const r = "RL" + "0".repeat(32);
    const s = "IS" + "0".repeat(32);
    const nf = (path) => ({ status: 404, code: 20404, message: `The requested resource ${path} was not found` });
    await expectRestError(v1.users(u).fetch(), nf(`/Users/${u}`), "fetch user");
    await expectRestError(v1.users(u).update({ friendlyName: "x" }), nf(`/Users/${u}`), "update user");
    await expectRestError(v1.users(u).remove(), nf(`/Users/${u}`), "remove user");
    await expectRestError(v1.roles(r).fetch(), nf(`/Roles/${r}`), "fetch role");
    await expectRestError(v1.services(s).fetch(), nf(`/Services/${s}`), "fetch service");
    await expectRestError(v1.services(s).users.list(), nf(`/Services/${s}/Users`), "users of unknown service");
    await expectRestError(v1.services(s).users.create({ identity: "x" }), nf(`/Services/${s}/Users`),
      "create user in unknown service");
    await expectRestError(v1.services(s).roles.list(), nf(`/Services/${s}/Roles`), "roles of unknown service");
  });

  await step("paging errors", async () => {
    await expectRestError(v1.users.page({ pageToken: "PTnotatoken" }),
      { status: 400, code: 21481, message: "Invalid PageToken" }, "forged PageToken");
    await expectRestError(v1.users.page({ pageSize: 0 }), { status: 400, code: 20001 }, "PageSize=0");
    // A token from one list does not work on another.
    for (let i = 0; i < 3; i++) await v1.users.create({ identity: `p${i}` });
    const p = await v1.users.page({ pageSize: 1 });
    const token = new URL(p.nextPageUrl).searchParams.get("PageToken");
    assert.ok(token, `next_page_url has a PageToken: ${p.nextPageUrl}`);
    const again = await v1.users.page({ pageSize: 1, pageToken: token, pageNumber: 1 });
    assert.deepEqual(again.instances.map((x) => x.identity), ["p1"], "the token works on its own list");
    await expectRestError(v1.roles.page({ pageSize: 1, pageToken: token }),
      { status: 400, code: 21481, message: "Invalid PageToken" }, "a users token on roles");
  });

  await step("role validation errors", async () => {
    await expectRestError(
      v1.roles.create({ friendlyName: "r".repeat(65), type: "service", permission: ["editOwnUserInfo"] }),
      { status: 400, code: 50003 }, "role friendlyName over 64 characters");
  });
});
