// Package sdktest runs the official Twilio SDKs against parley.
//
// The twilio-node scripts live in sdktest/node. They need node ≥ 20 and the
// pinned twilio package:
//
//	npm ci --prefix sdktest/node
//	go test ./sdktest/
//
// Without node or node_modules the tests skip; with PARLEY_REQUIRE_NODE=1
// (as in CI) they fail instead.
package sdktest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/nodetest"
	"github.com/parleyhq/parley/parleytest"
)

// nodeTimeout bounds one script; the slowest (users: some 400 users created
// and deleted through the SDK) takes about 10 s under -race.
const nodeTimeout = 60 * time.Second

// TestNode runs every sdktest/node/*.test.mjs script, each against its own
// parley.
func TestNode(t *testing.T) {
	node := nodetest.Require(t, "node")
	scripts, err := filepath.Glob(filepath.Join("node", "*.test.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	if len(scripts) == 0 {
		t.Fatal("no sdktest/node/*.test.mjs scripts found")
	}
	for _, script := range scripts {
		name := strings.TrimSuffix(filepath.Base(script), ".test.mjs")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runNode(t, node, script)
		})
	}
}

// runNode starts a parley and runs one script against it.
func runNode(t *testing.T, node, script string) {
	var opts []parleytest.Option
	if strings.HasPrefix(filepath.Base(script), "emulator") {
		opts = append(opts, parleytest.Emulator()) // the controls it shows
	}
	srv := parleytest.New(t, opts...)
	// An API key, for scripts that mint access tokens as an app's backend
	// does (twilio-node's AccessToken).
	key, secret, err := srv.App.CreateAPIKey(context.Background(), "node")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", nodetest.Script(t, node, filepath.Dir(script), filepath.Base(script), []string{
		"PARLEY_URL=" + srv.URL,
		"PARLEY_ACCOUNT_SID=" + srv.AccountSid,
		"PARLEY_AUTH_TOKEN=" + srv.AuthToken,
		"PARLEY_DEFAULT_SERVICE_SID=" + srv.DefaultServiceSid,
		"PARLEY_API_KEY_SID=" + key.Sid,
		"PARLEY_API_KEY_SECRET=" + secret,
	}, nodeTimeout, nil))
}
