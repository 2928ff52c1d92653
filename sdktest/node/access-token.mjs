// Signs an access token with twilio-node's own AccessToken, as an app's
// backend does for the client SDKs: the proof that parley verifies tokens
// twilio-node signs. Run by sdktest/accesstoken_test.go; not a *.test.mjs,
// so TestNode leaves it alone.
//
// argv: accountSid keySid secret identity serviceSid
// stdout: the token.

import twilio from "twilio";

const [accountSid, keySid, secret, identity, serviceSid] = process.argv.slice(2);
const token = new twilio.jwt.AccessToken(accountSid, keySid, secret, { identity, ttl: 3600 });
token.addGrant(new twilio.jwt.AccessToken.ChatGrant({ serviceSid }));
process.stdout.write(token.toJwt() + "\n");
