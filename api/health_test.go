package api_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/parleyhq/parley/parleytest"
)

// TestReadiness: /readyz is 200 without credentials while the database
// answers, and 503 once the server is shutting down, before its
// connections have gone (a balancer stops sending new requests first).
func TestReadiness(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t)
	get := func() (int, string) {
		res, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if status, body := get(); status != 200 || body != `{"status":"ready"}` {
		t.Fatalf("serving: %d %s", status, body)
	}
	h := srv.HTTP.Config.Handler.(interface{ Shutdown(context.Context) error })
	if err := h.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if status, body := get(); status != 503 || body != `{"status":"shutting down"}` {
		t.Fatalf("shutting down: %d %s", status, body)
	}
	res, err := http.Get(srv.URL + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz while shutting down: %v %v", res, err)
	}
	res.Body.Close()
}

// TestReadinessWithoutDatabase: a database that does not answer makes
// /readyz 503.
func TestReadinessWithoutDatabase(t *testing.T) {
	t.Parallel()
	store := parleytest.NewStore(t)
	srv := parleytest.NewWith(t, parleytest.Options{Store: store})
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 503 || string(b) != `{"status":"database unavailable"}` {
		t.Fatalf("readyz with the database closed: %d %s", res.StatusCode, b)
	}
}
