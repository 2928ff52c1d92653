package api_test

import (
	"fmt"
	"strings"
	"testing"
)

const (
	testCert = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUPZ4=\n-----END CERTIFICATE-----\n"
	testKey  = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpQIBAAKCAQEAuyf=\n-----END RSA PRIVATE KEY-----\n"
)

// credentialBody is the expected JSON of credential $CR<n>.
func credentialBody(n int, name, typ, sandbox string) string {
	return fmt.Sprintf(`{"sid":"$CR%d","account_sid":"$AC","friendly_name":%s,"type":%q,"sandbox":%q,
		"date_created":"%s","date_updated":"%s","url":"$BASE/v1/Credentials/$CR%d"}`, n, name, typ, sandbox, stamp, stamp, n)
}

func TestCredentials(t *testing.T) {
	t.Parallel()
	apn := form("Type", "apn", "FriendlyName", "iOS", "Certificate", testCert, "PrivateKey", testKey, "Sandbox", "true")
	e := newEnv(t)
	e.run(
		want(post("/v1/Credentials", apn), 201, credentialBody(1, `"iOS"`, "apn", "True")),
		// Type in any case, echoed lowercase; no name is null; secrets are never shown.
		want(post("/v1/Credentials", "Type=GcM&ApiKey=gcm-secret"), 201, credentialBody(2, "null", "gcm", "False")),
		want(post("/v1/Credentials", "Type=FCM&Secret=fcm-server-key&FriendlyName=Android"), 201,
			credentialBody(3, `"Android"`, "fcm", "False")),
		want(get("/v1/Credentials/$CR1"), 200, credentialBody(1, `"iOS"`, "apn", "True")),
		want(get("/v1/Credentials"), 200, listBody("/v1/Credentials", "credentials", 50,
			credentialBody(1, `"iOS"`, "apn", "True"), credentialBody(2, "null", "gcm", "False"),
			credentialBody(3, `"Android"`, "fcm", "False"))),
		// Update: absent fields unchanged; FriendlyName= clears the name.
		want(post("/v1/Credentials/$CR1", "Sandbox=false"), 200, credentialBody(1, `"iOS"`, "apn", "False")),
		want(post("/v1/Credentials/$CR1", "FriendlyName="), 200, credentialBody(1, "null", "apn", "False")),
		// Another type needs that type's secret.
		want(post("/v1/Credentials/$CR2", "Type=fcm"), 400, errBody(400, 20001, "Missing required parameter Secret in the post body")),
		want(post("/v1/Credentials/$CR2", "Type=fcm&Secret=s"), 200, credentialBody(2, "null", "fcm", "False")),
		want(del("/v1/Credentials/$CR3"), 204, ""),
		want(get("/v1/Credentials/$CR3"), 404, notFoundBody("/Credentials/$CR3")),
		want(del("/v1/Credentials/$CR3"), 404, notFoundBody("/Credentials/$CR3")),
		want(post("/v1/Credentials/$CR3", "FriendlyName=x"), 404, notFoundBody("/Credentials/$CR3")),
		want(get("/v1/Credentials/nope"), 404, notFoundBody("/Credentials/nope")),
	)
}

func TestCredentialValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bad := func(form string, code int, message string) step {
		return want(post("/v1/Credentials", form), 400, errBody(400, code, message))
	}
	e.run(
		bad("", 20001, "Missing required parameter Type in the post body"),
		bad("Type=sms", 20001, "Invalid Type: must be one of apn, gcm, fcm"),
		bad("Type=apn", 20001, "Missing required parameter Certificate in the post body"),
		bad(form("Type", "apn", "Certificate", testCert), 20001, "Missing required parameter PrivateKey in the post body"),
		bad(form("Type", "apn", "Certificate", "not pem", "PrivateKey", testKey), 20001,
			"Invalid Certificate: must be a PEM-encoded certificate (-----BEGIN CERTIFICATE-----…)"),
		bad(form("Type", "apn", "Certificate", testKey, "PrivateKey", testKey), 20001,
			"Invalid Certificate: must be a PEM-encoded certificate (-----BEGIN CERTIFICATE-----…)"),
		bad(form("Type", "apn", "Certificate", testCert, "PrivateKey", testCert), 20001,
			"Invalid PrivateKey: must be a PEM-encoded private key (-----BEGIN RSA PRIVATE KEY-----…)"),
		bad("Type=gcm", 20001, "Missing required parameter ApiKey in the post body"),
		bad("Type=gcm&ApiKey=", 20001, "Invalid ApiKey: must not be empty"),
		bad("Type=gcm&ApiKey=k&Secret=s", 20001, "Invalid Secret: only fcm credentials take it"),
		bad("Type=fcm&Secret=s&Sandbox=true", 20001, "Invalid Sandbox: only apn credentials take it"),
		bad("Type=fcm&Secret=s&Sandbox=maybe", 20001, "Invalid Sandbox: must be true or false"),
		bad(form("Type", "fcm", "Secret", "s", "FriendlyName", strings.Repeat("n", 65)), 50003, "Friendly name too long"),
		ok(post("/v1/Credentials", form("Type", "fcm", "Secret", "s", "FriendlyName", strings.Repeat("n", 64))), 201),
		// Nothing of the refused creates was written.
		want(get("/v1/Credentials"), 200, listBody("/v1/Credentials", "credentials", 50,
			credentialBody(1, `"`+strings.Repeat("n", 64)+`"`, "fcm", "False"))),
		want(post("/v1/Credentials/$CR1", "Type=gcm&Secret=s"), 400, errBody(400, 20001, "Invalid Secret: only fcm credentials take it")),
		want(get("/v1/Credentials/$CR1"), 200, credentialBody(1, `"`+strings.Repeat("n", 64)+`"`, "fcm", "False")),
	)
}
