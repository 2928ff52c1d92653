// Package pgtest gives each test a PostgreSQL schema of its own, so that
// tests, and the test binaries of several packages, can share one server
// and run in parallel without seeing each other's rows.
//
// The server is named by PARLEY_TEST_POSTGRES. Without it the PostgreSQL
// tests skip, so `go test ./...` passes on a machine with no database; CI
// sets PARLEY_REQUIRE_POSTGRES=1 as well, so that a missing or unreachable
// server fails the run instead of silently skipping it.
package pgtest

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley"
)

const (
	envDSN     = "PARLEY_TEST_POSTGRES"
	envRequire = "PARLEY_REQUIRE_POSTGRES"

	skipMessage = "PostgreSQL suites skipped: set PARLEY_TEST_POSTGRES=postgres://USER@127.0.0.1:5432/DB?sslmode=disable to run them (.ci/run does)"

	// connectTimeout bounds the wait for a server that does not answer,
	// which every test calling DSN would otherwise pay in full; timeout
	// bounds the rest (connecting, creating or dropping a schema).
	connectTimeout = 10 * time.Second
	timeout        = 30 * time.Second
)

// DSN creates a fresh schema (parley_test_<random hex>) on the server named
// by PARLEY_TEST_POSTGRES, drops it with everything in it when t ends, and
// returns the server's DSN with search_path set to that schema. Objects
// created unqualified through the DSN land in the schema.
//
// Without PARLEY_TEST_POSTGRES, or when the server cannot be reached, t is
// skipped, or failed if PARLEY_REQUIRE_POSTGRES=1.
func DSN(t testing.TB) string {
	t.Helper()
	return dsn(t, os.Getenv)
}

func dsn(t testing.TB, getenv func(string) string) string {
	t.Helper()
	base := getenv(envDSN)
	required := getenv(envRequire) == "1"
	if base == "" {
		if required {
			t.Fatal(envRequire + "=1 but " + envDSN + " is not set: set it to postgres://USER@127.0.0.1:5432/DB?sslmode=disable")
		}
		t.Skip(skipMessage)
	}
	cfg, err := connConfig(base)
	if err != nil {
		// A DSN that does not parse is a mistake to fix, not a reason to skip.
		t.Fatalf("%s: %v", envDSN, err)
	}
	schema := "parley_test_" + parley.NewSID("")[:16]
	out, err := withSearchPath(base, schema)
	if err != nil {
		t.Fatalf("%s: %v", envDSN, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	connectCtx, cancelConnect := context.WithTimeout(ctx, connectTimeout)
	defer cancelConnect()
	conn, err := pgx.ConnectConfig(connectCtx, cfg)
	if err != nil {
		if required {
			t.Fatalf("%s=1 but PostgreSQL cannot be reached: %v", envRequire, err)
		}
		t.Skipf("%s (%v)", skipMessage, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("pgtest: create schema: %v", err)
	}
	t.Cleanup(func() { dropSchema(t, cfg, schema) })
	return out
}

func dropSchema(t testing.TB, cfg *pgx.ConnConfig, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Errorf("pgtest: drop schema %s: %v", schema, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
		t.Errorf("pgtest: drop schema %s: %v", schema, err)
	}
}

// connConfig parses the base DSN for pgtest's own connection, leaving out
// pool settings (pool_max_conns, …): a plain connection would send them to
// the server, which refuses unknown parameters.
func connConfig(dsn string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	for k := range cfg.RuntimeParams {
		if strings.HasPrefix(k, "pool_") {
			delete(cfg.RuntimeParams, k)
		}
	}
	return cfg, nil
}

// withSearchPath sets search_path in a DSN of either form pgx accepts: a
// URL, whose query may already hold parameters (search_path included), or
// key=value pairs, where a later key overrides an earlier one.
func withSearchPath(dsn, schema string) (string, error) {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " search_path=" + schema, nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
