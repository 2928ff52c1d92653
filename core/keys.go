package core

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"

	"github.com/parleyhq/parley"
)

// errAuth is Twilio's 401 for missing or wrong credentials.
var errAuth = &parley.Error{Kind: parley.KindUnauthorized, Code: 20003, Message: "Authenticate",
	Detail: "Your AccountSid or AuthToken was incorrect."}

// ErrAuthenticate returns Twilio's 401 20003.
func ErrAuthenticate() *parley.Error { return errAuth }

// Authenticate checks HTTP Basic credentials: the account SID with its auth
// token, or an API key SID (SK…) with its secret. Comparisons are in
// constant time, so the content of a secret does not leak through timing.
func (a *App) Authenticate(ctx context.Context, username, password string) error {
	if username == a.account.Sid {
		if equalSecret(password, a.account.AuthToken) {
			return nil
		}
		return errAuth
	}
	if !parley.IsSID(parley.PrefixAPIKey, username) {
		return errAuth
	}
	var key parley.APIKey
	err := a.store.View(ctx, func(tx parley.Tx) error {
		var err error
		key, err = tx.APIKey(ctx, username)
		return err
	})
	if errors.Is(err, parley.ErrNotFound) {
		return errAuth
	}
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(password))
	if key.DateRevoked != nil || subtle.ConstantTimeCompare(sum[:], key.SecretHash) != 1 {
		return errAuth
	}
	return nil
}

// equalSecret compares in constant time for equal lengths; a length
// mismatch returns at once, which reveals only the token's length, and
// every Twilio auth token is 32 characters anyway.
func equalSecret(given, want string) bool {
	return subtle.ConstantTimeCompare([]byte(given), []byte(want)) == 1
}

// CreateAPIKey mints an API key and returns it with its secret, which is
// never stored: only its SHA-256 hash is. A slow password hash would add
// nothing here, because the secret is 32 random characters (about 190 bits),
// far beyond guessing; it would only slow every request signed with a key.
func (a *App) CreateAPIKey(ctx context.Context, name string) (parley.APIKey, string, error) {
	secret := newSecret()
	sum := sha256.Sum256([]byte(secret))
	key := parley.APIKey{Sid: a.sids.New(parley.PrefixAPIKey), FriendlyName: name,
		SecretHash: sum[:], DateCreated: a.clock()}
	err := a.store.Update(ctx, func(tx parley.Tx) error { return tx.CreateAPIKey(ctx, key) })
	return key, secret, err
}

// ListAPIKeys returns every key, revoked ones included.
func (a *App) ListAPIKeys(ctx context.Context) ([]parley.APIKey, error) {
	var keys []parley.APIKey
	err := a.store.View(ctx, func(tx parley.Tx) error {
		var err error
		keys, err = tx.ListAPIKeys(ctx)
		return err
	})
	return keys, err
}

// RevokeAPIKey revokes a key; requests signed with it fail from the next
// one on, on every node, because keys are read from the database each time.
func (a *App) RevokeAPIKey(ctx context.Context, sid string) error {
	return a.store.Update(ctx, func(tx parley.Tx) error {
		return notFound(tx.RevokeAPIKey(ctx, sid, a.clock()))
	})
}
