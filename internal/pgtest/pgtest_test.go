package pgtest

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestWithSearchPath(t *testing.T) {
	for _, tc := range []struct{ dsn, want string }{
		{"postgres://u@h:5432/db", "postgres://u@h:5432/db?search_path=s1"},
		{"postgres://u@h/db?sslmode=disable&application_name=x",
			"postgres://u@h/db?application_name=x&search_path=s1&sslmode=disable"},
		{"postgresql://u@h/db?search_path=other", "postgresql://u@h/db?search_path=s1"},
		{"host=h user=u dbname=db", "host=h user=u dbname=db search_path=s1"},
	} {
		got, err := withSearchPath(tc.dsn, "s1")
		if err != nil || got != tc.want {
			t.Errorf("withSearchPath(%q) = %q, %v; want %q", tc.dsn, got, err, tc.want)
		}
		cfg, err := pgx.ParseConfig(got)
		if err != nil {
			t.Fatal(err)
		}
		if sp := cfg.RuntimeParams["search_path"]; sp != "s1" {
			t.Errorf("pgx reads search_path %q from %q", sp, got)
		}
	}
}

// recorder is a testing.TB whose Skip and Fatal are recorded instead of
// ending the real test; like the real ones, they end the calling goroutine.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Skip(args ...any) {
	r.skipped = fmt.Sprint(args...)
	runtime.Goexit()
}

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) {
	r.failed = fmt.Sprint(args...)
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) run(env map[string]string) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		dsn(r, func(k string) string { return env[k] })
	}()
	<-done
}

func TestMissingServer(t *testing.T) {
	// Port 1 on loopback: nothing listens, the connection is refused.
	unreachable := "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=5"
	for _, tc := range []struct {
		name          string
		env           map[string]string
		skip, fail    bool
		mustMentionIn string
	}{
		{"unset", nil, true, false, ""},
		{"unset, required", map[string]string{envRequire: "1"}, false, true, envDSN + " is not set"},
		{"unreachable", map[string]string{envDSN: unreachable}, true, false, "127.0.0.1"},
		{"unreachable, required", map[string]string{envDSN: unreachable, envRequire: "1"}, false, true, "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{TB: t}
			r.run(tc.env)
			if (r.skipped != "") != tc.skip || (r.failed != "") != tc.fail {
				t.Fatalf("skipped %q, failed %q; want skip=%v fail=%v", r.skipped, r.failed, tc.skip, tc.fail)
			}
			if tc.skip && !strings.HasPrefix(r.skipped, skipMessage) {
				t.Errorf("skip message %q does not start with %q", r.skipped, skipMessage)
			}
			if !strings.Contains(r.skipped+r.failed, tc.mustMentionIn) {
				t.Errorf("message %q does not mention %q", r.skipped+r.failed, tc.mustMentionIn)
			}
		})
	}
}

func schemaExists(t *testing.T, conn *pgx.Conn, schema string) bool {
	t.Helper()
	var ok bool
	err := conn.QueryRow(context.Background(),
		"SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&ok)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestDSN(t *testing.T) {
	ctx := context.Background()
	const n = 8
	schemas := make([]string, n)
	// Parallel subtests call DSN at once; each gets its own schema, which
	// its unqualified tables land in, and which is gone when it ends.
	t.Run("group", func(t *testing.T) {
		for i := range n {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				conn, err := pgx.Connect(ctx, DSN(t))
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close(ctx)
				if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schemas[i]); err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(schemas[i], "parley_test_") {
					t.Fatalf("current_schema() = %q", schemas[i])
				}
				if _, err := conn.Exec(ctx, "CREATE TABLE t (x int); INSERT INTO t VALUES (1)"); err != nil {
					t.Fatal(err)
				}
			})
		}
	})
	if t.Skipped() || t.Failed() || schemas[0] == "" {
		return
	}
	seen := map[string]bool{}
	for _, s := range schemas {
		if seen[s] {
			t.Fatalf("schema %s handed out twice", s)
		}
		seen[s] = true
	}

	// DSN of the parent test: a plain connection to the server, to look.
	conn, err := pgx.Connect(ctx, DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, s := range schemas {
		if schemaExists(t, conn, s) {
			t.Errorf("schema %s survived its test", s)
		}
	}
}
