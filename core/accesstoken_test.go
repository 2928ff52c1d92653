package core_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/parleytest"
	"github.com/twilio/twilio-go/client/jwt"
)

// TestCheckKeySignature: an access token signed by twilio-go with a key's
// secret verifies against the key parley stored, which never held the
// secret; tampering, another key, a revoked key and a key from before
// signing states are all refused.
func TestCheckKeySignature(t *testing.T) {
	ctx := context.Background()
	srv := parleytest.New(t)
	app := srv.App
	key, secret, err := app.CreateAPIKey(ctx, "tokens")
	if err != nil {
		t.Fatal(err)
	}
	other, otherSecret, err := app.CreateAPIKey(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	sign := func(keySid, secret string) (signed, signature []byte) {
		t.Helper()
		tok := jwt.CreateAccessToken(jwt.AccessTokenParams{AccountSid: srv.AccountSid, SigningKeySid: keySid,
			Secret: secret, Identity: "alice", Ttl: 3600})
		tok.AddGrant(&jwt.ChatGrant{ServiceSid: srv.DefaultServiceSid})
		s, err := tok.ToJwt()
		if err != nil {
			t.Fatal(err)
		}
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
