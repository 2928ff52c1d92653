package core_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/parleytest"
	"github.com/twilio/twilio-go/client/jwt"
)

// goToken is an access token as an app's backend mints one with
// twilio-go: identity in the service, signed with a key's secret.
func goToken(t testing.TB, srv *parleytest.Server, keySid, secret, identity string, ttl float64) string {
	t.Helper()
	tok := jwt.CreateAccessToken(jwt.AccessTokenParams{AccountSid: srv.AccountSid, SigningKeySid: keySid,
		Secret: secret, Identity: identity, Ttl: ttl})
	tok.AddGrant(&jwt.ChatGrant{ServiceSid: srv.DefaultServiceSid})
	s, err := tok.ToJwt()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// apiKey creates an API key of srv.
func apiKey(t testing.TB, srv *parleytest.Server, name string) (parley.APIKey, string) {
	t.Helper()
	key, secret, err := srv.App.CreateAPIKey(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return key, secret
}

// TestCheckKeySignature: an access token signed by twilio-go with a key's
// secret verifies against the key parley stored, which never held the
// secret; tampering, another key, a revoked key and a key from before
// signing states are all refused.
func TestCheckKeySignature(t *testing.T) {
	ctx := context.Background()
	srv := parleytest.New(t)
	app := srv.App
	key, secret := apiKey(t, srv, "tokens")
	other, otherSecret := apiKey(t, srv, "other")
	sign := func(keySid, secret string) (signed, signature []byte) {
		t.Helper()
		s := goToken(t, srv, keySid, secret, "alice", 3600)
		parts := strings.Split(s, ".")
		if len(parts) != 3 {
			t.Fatalf("token %q", s)
		}
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		if err != nil {
			t.Fatal(err)
		}
		return []byte(parts[0] + "." + parts[1]), sig
	}
	signed, sig := sign(key.Sid, secret)
	if err := app.CheckKeySignature(ctx, key.Sid, signed, sig); err != nil {
		t.Fatalf("a token signed with the key's secret: %v", err)
	}
	tampered := append([]byte(nil), signed...)
	tampered[len(tampered)-2] ^= 1
	otherSigned, otherSig := sign(other.Sid, otherSecret)
	for what, err := range map[string]error{
		"tampered payload":           app.CheckKeySignature(ctx, key.Sid, tampered, sig),
		"another key's signature":    app.CheckKeySignature(ctx, key.Sid, otherSigned, otherSig),
		"signed with a wrong secret": func() error { s, g := sign(key.Sid, secret+"x"); return app.CheckKeySignature(ctx, key.Sid, s, g) }(),
		"unknown key":                app.CheckKeySignature(ctx, "SK"+strings.Repeat("0", 32), signed, sig),
		"not a key SID":              app.CheckKeySignature(ctx, "alice", signed, sig),
	} {
		if err == nil {
			t.Errorf("%s: accepted", what)
		}
	}
	if err := app.RevokeAPIKey(ctx, key.Sid); err != nil {
		t.Fatal(err)
	}
	if err := app.CheckKeySignature(ctx, key.Sid, signed, sig); err == nil {
		t.Fatal("a revoked key's token was accepted")
	}

	// A key created before parley kept signing states authenticates REST
	// calls but cannot verify tokens, and says so.
	old := parley.APIKey{Sid: "SK" + strings.Repeat("1", 32), FriendlyName: "old", SecretHash: key.SecretHash,
		DateCreated: time.Now().UTC().Truncate(time.Second)}
	if err := srv.Store.Update(ctx, func(tx parley.Tx) error { return tx.CreateAPIKey(ctx, old) }); err != nil {
		t.Fatal(err)
	}
	if err := app.CheckKeySignature(ctx, old.Sid, signed, sig); !errors.Is(err, core.ErrKeyCannotSign) {
		t.Fatalf("a key without a signing state: %v", err)
	}
	// The stored key holds neither the secret nor anything that
	// authenticates with HTTP Basic but its hash.
	stored, err := func() (k parley.APIKey, err error) {
		err = srv.Store.View(ctx, func(tx parley.Tx) error { k, err = tx.APIKey(ctx, other.Sid); return err })
		return
	}()
	if err != nil || stored.SigningState == nil || strings.Contains(string(stored.SigningState), otherSecret) {
		t.Fatalf("stored key %+v, %v", stored, err)
	}
}

// TestVerifyAccessToken holds the token rules of
// semantics-conversations.md §10 with a table: tokens minted by twilio-go
// and by parley itself pass; every way a token can be wrong gets its own
// Twilio code.
func TestVerifyAccessToken(t *testing.T) {
	ctx := context.Background()
	srv := parleytest.New(t)
	app := srv.App
	key, secret := apiKey(t, srv, "tokens")
	revoked, revokedSecret := apiKey(t, srv, "revoked")
	if err := app.RevokeAPIKey(ctx, revoked.Sid); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	// craft signs claims (JSON) under header, with secret, as any JWT
	// library would.
	craft := func(header map[string]any, claims map[string]any, secret string) string {
		tok := gojwt.NewWithClaims(gojwt.SigningMethodHS256, gojwt.MapClaims(claims))
		for k, v := range header {
			tok.Header[k] = v
		}
		s, err := tok.SignedString([]byte(secret))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	twilio := map[string]any{"cty": "twilio-fpa;v=1"}
	claims := func(change func(map[string]any)) map[string]any {
		c := map[string]any{"jti": key.Sid + "-1", "iss": key.Sid, "sub": srv.AccountSid, "nbf": now - 5, "exp": now + 3600,
			"grants": map[string]any{"identity": "alice", "chat": map[string]any{"service_sid": srv.DefaultServiceSid}}}
		if change != nil {
			change(c)
		}
		return c
	}
	minted, err := app.MintAccessToken(ctx, key.Sid, "alice", "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		token string
		code  int // 0: accepted
	}{
		{"twilio-go, one hour", goToken(t, srv, key.Sid, secret, "alice", 3600), 0},
		{"twilio-go, 24 hours", goToken(t, srv, key.Sid, secret, "alice", 86400), 0},
		{"parley token", minted, 0},
		{"crafted, legacy ip_messaging grant", craft(twilio, claims(func(c map[string]any) {
			c["grants"] = map[string]any{"identity": "alice", "ip_messaging": map[string]any{"service_sid": srv.DefaultServiceSid}}
		}), secret), 0},
		{"not a JWT", "hello", 20101},
		{"three garbage parts", "a.b.c", 20101},
		{"no cty", craft(nil, claims(nil), secret), 20102},
		{"HS512", func() string {
			tok := gojwt.NewWithClaims(gojwt.SigningMethodHS512, gojwt.MapClaims(claims(nil)))
			tok.Header["cty"] = "twilio-fpa;v=1"
			s, _ := tok.SignedString([]byte(secret))
			return s
		}(), 20102},
		{"issuer not a key", craft(twilio, claims(func(c map[string]any) { c["iss"] = "alice" }), secret), 20103},
		{"another account", craft(twilio, claims(func(c map[string]any) { c["sub"] = "AC" + strings.Repeat("0", 32) }), secret), 20103},
		{"wrong secret", craft(twilio, claims(nil), secret+"x"), 20107},
		{"revoked key", craft(twilio, claims(func(c map[string]any) { c["iss"] = revoked.Sid }), revokedSecret), 20107},
		{"unknown key", craft(twilio, claims(func(c map[string]any) { c["iss"] = "SK" + strings.Repeat("0", 32) }), secret), 20107},
		{"expired", craft(twilio, claims(func(c map[string]any) { c["nbf"], c["exp"] = now-7200, now-60 }), secret), 20104},
		{"no expiry", craft(twilio, claims(func(c map[string]any) { delete(c, "exp") }), secret), 20104},
		{"not yet valid", craft(twilio, claims(func(c map[string]any) { c["nbf"] = now + 600 }), secret), 20105},
		{"25 hours", craft(twilio, claims(func(c map[string]any) { c["exp"] = now - 5 + 25*3600 }), secret), 20157},
		{"25 hours from iat", craft(twilio, claims(func(c map[string]any) {
			delete(c, "nbf")
			c["iat"], c["exp"] = now-5, now-5+25*3600
		}), secret), 20157},
		{"no identity", craft(twilio, claims(func(c map[string]any) {
			c["grants"] = map[string]any{"chat": map[string]any{"service_sid": srv.DefaultServiceSid}}
		}), secret), 20106},
		{"no chat grant", craft(twilio, claims(func(c map[string]any) { c["grants"] = map[string]any{"identity": "alice"} }), secret), 20106},
		{"unknown service", craft(twilio, claims(func(c map[string]any) {
			c["grants"] = map[string]any{"identity": "alice", "chat": map[string]any{"service_sid": "IS" + strings.Repeat("0", 32)}}
		}), secret), 20106},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := app.VerifyAccessToken(ctx, tc.token)
			if tc.code == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got.Identity != "alice" || got.ServiceSid != srv.DefaultServiceSid || got.KeySid != key.Sid || got.Expires.Before(time.Now()) {
					t.Fatalf("verified %+v", got)
				}
				return
			}
			var pe *parley.Error
			if !errors.As(err, &pe) || pe.Code != tc.code || pe.Kind != parley.KindUnauthorized {
				t.Fatalf("got %v, want 401 %d", err, tc.code)
			}
		})
	}

	// Minting refuses what it could not sign or Twilio would not accept.
	for what, err := range map[string]error{
		"25 hours":    func() error { _, err := app.MintAccessToken(ctx, key.Sid, "alice", "", 25*time.Hour); return err }(),
		"no identity": func() error { _, err := app.MintAccessToken(ctx, key.Sid, "", "", time.Hour); return err }(),
		"revoked key": func() error { _, err := app.MintAccessToken(ctx, revoked.Sid, "alice", "", time.Hour); return err }(),
		"unknown key": func() error {
			_, err := app.MintAccessToken(ctx, "SK"+strings.Repeat("0", 32), "alice", "", time.Hour)
			return err
		}(),
		"unknown service": func() error {
			_, err := app.MintAccessToken(ctx, key.Sid, "alice", "IS"+strings.Repeat("0", 32), time.Hour)
			return err
		}(),
	} {
		if err == nil {
			t.Errorf("minting with %s: accepted", what)
		}
	}
}

// FuzzVerifyAccessToken: whatever a client sends as a token, the answer
// is a verified token or a 401 with one of Twilio's token codes, never a
// panic or another error.
func FuzzVerifyAccessToken(f *testing.F) {
	ctx := context.Background()
	srv := parleytest.New(f)
	key, secret := apiKey(f, srv, "fuzz")
	minted, err := srv.App.MintAccessToken(ctx, key.Sid, "alice", "", time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{minted, goToken(f, srv, key.Sid, secret, "bob", 3600), "", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.", strings.Repeat(".", 100)} {
		f.Add(seed)
	}
	codes := map[int]bool{20101: true, 20102: true, 20103: true, 20104: true, 20105: true, 20106: true, 20107: true, 20157: true}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := srv.App.VerifyAccessToken(ctx, raw)
		if err == nil {
			if got.Identity == "" || got.ServiceSid != srv.DefaultServiceSid {
				t.Fatalf("accepted %q as %+v", raw, got)
			}
			return
		}
		var pe *parley.Error
		if !errors.As(err, &pe) || pe.Kind != parley.KindUnauthorized || !codes[pe.Code] {
			t.Fatalf("%q: %v", raw, err)
		}
	})
}
