// Answers whether twilio-node's own validator accepts webhook signatures:
// the oracle for parley's webhook.Signature with repeated parameters, which
// twilio-go's validator (one value per name) cannot judge. Run by
// sdktest/signature_test.go; not a *.test.mjs, so TestNode leaves it alone.
//
// stdin: a JSON array of cases, each
//
//	{"url": "...", "params": [["Name", "value"], ...], "authToken": "...", "signature": "..."}
//
// where params keeps repeated names, in the order sent. They reach the
// validator as a body parser hands them over: a name sent once as a string,
// a name sent several times as the array of its values.
// stdout: a JSON array of booleans, twilio.validateRequest's verdicts.

import twilio from "twilio";

let input = "";
for await (const chunk of process.stdin) input += chunk;

const verdicts = JSON.parse(input).map(({ url, params, authToken, signature }) => {
  const body = {};
  for (const [name, value] of params) {
    if (!Object.hasOwn(body, name)) body[name] = value;
    else if (Array.isArray(body[name])) body[name].push(value);
    else body[name] = [body[name], value];
  }
  return twilio.validateRequest(authToken, signature, url, body);
});
process.stdout.write(JSON.stringify(verdicts) + "\n");
