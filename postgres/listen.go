package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// Listen implements parley.Listener with LISTEN on a connection of its
// own, taken from the pool for as long as it listens. A lost connection
// is replaced (retrying every second). missed is called each time LISTEN
// takes effect, the first time too: what was notified before it is gone,
// and whoever was waiting for it then catches up.
func (s *Store) Listen(ctx context.Context, channel string, heard func(payload string), missed func()) error {
	for {
		err := s.listenOnce(ctx, channel, heard, missed)
		if ctx.Err() != nil {
			return nil
		}
		if s.closed.Load() {
			return errors.New("postgres: listen: the store is closed")
		}
		_ = err // the connection failed: listen again on another
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

// listenOnce listens on one connection until it fails or ctx ends;
// listening is called once LISTEN has taken effect.
func (s *Store) listenOnce(ctx context.Context, channel string, heard func(string), listening func()) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// A connection that has listened is not given back to the pool: it
	// would carry the LISTEN to whoever takes it next.
	pc := conn.Hijack()
	defer pc.Close(context.WithoutCancel(ctx))
	if _, err := pc.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	listening()
	for {
		n, err := pc.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		heard(n.Payload)
	}
}
