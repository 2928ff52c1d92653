package sdktest

import (
	"context"
	"encoding/base64"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/nodetest"
	"github.com/parleyhq/parley/parleytest"
)

// TestNodeAccessTokenVerifies: an access token twilio-node signs with an
// API key's secret (HS256) verifies against the key as parley stored it,
// which never held the secret, and passes every rule of client sign-in; a
// tampered one does not.
func TestNodeAccessTokenVerifies(t *testing.T) {
	node := nodetest.Require(t, "node")
	ctx := context.Background()
	srv := parleytest.New(t)
	key, secret, err := srv.App.CreateAPIKey(ctx, "tokens")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ctx, nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Base("access-token.mjs"), srv.AccountSid, key.Sid, secret, "alice", srv.DefaultServiceSid)
	cmd.Dir = "node"
	cmd.Env = nodetest.Env(cmd.Environ())
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node access-token.mjs: %v", err)
	}
	parts := strings.Split(strings.TrimSpace(string(out)), ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", out)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	signed := []byte(parts[0] + "." + parts[1])
	if err := srv.App.CheckKeySignature(ctx, key.Sid, signed, sig); err != nil {
		t.Fatalf("twilio-node's token does not verify: %v", err)
	}
	// The whole check, header, claims and grants, as client sign-in runs
	// it.
	tok, err := srv.App.VerifyAccessToken(ctx, strings.TrimSpace(string(out)))
	if err != nil || tok.Identity != "alice" || tok.ServiceSid != srv.DefaultServiceSid || tok.KeySid != key.Sid ||
		tok.Expires.Sub(time.Now()) < 59*time.Minute {
		t.Fatalf("twilio-node's token: %+v, %v", tok, err)
	}
	signed[len(signed)-1] ^= 1
	if err := srv.App.CheckKeySignature(ctx, key.Sid, signed, sig); err == nil {
		t.Fatal("a tampered token verified")
	}
}
