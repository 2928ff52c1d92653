package core

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding"
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
// never stored. What is kept: its SHA-256 hash, for HTTP Basic (a slow
// password hash would add nothing, because the secret is 32 random
// characters, about 190 bits, far beyond guessing; it would only slow every
// request signed with a key); and its HMAC-SHA256 key schedule, so that
// access tokens signed with the secret (HS256) can be verified.
func (a *App) CreateAPIKey(ctx context.Context, name string) (parley.APIKey, string, error) {
	secret := newSecret()
	sum := sha256.Sum256([]byte(secret))
	key := parley.APIKey{Sid: a.sids.New(parley.PrefixAPIKey), FriendlyName: name,
		SecretHash: sum[:], SigningState: keySchedule([]byte(secret)), DateCreated: a.clock()}
	err := a.store.Update(ctx, func(tx parley.Tx) error { return tx.CreateAPIKey(ctx, key) })
	return key, secret, err
}

// ListAPIKeys returns every key, revoked ones included.
func (a *App) ListAPIKeys(ctx context.Context) ([]parley.APIKey, error) {
	return read(ctx, a, func(tx parley.Tx) ([]parley.APIKey, error) { return tx.ListAPIKeys(ctx) })
}

// RevokeAPIKey revokes a key; requests signed with it fail from the next
// one on, on every node, because keys are read from the database each time.
func (a *App) RevokeAPIKey(ctx context.Context, sid string) error {
	return a.store.Update(ctx, func(tx parley.Tx) error {
		return notFound(tx.RevokeAPIKey(ctx, sid, a.clock()))
	})
}

// ErrKeyCannotSign is what CheckKeySignature returns for a key created before
// parley kept key schedules: it authenticates REST calls, but parley cannot
// check what it signed. Create a new key to sign access tokens.
var ErrKeyCannotSign = errors.New("core: this API key was created before parley could verify what it signs; create a new key")

// errBadSignature is CheckKeySignature's answer for a signature the key did
// not make, or a key that does not exist or was revoked.
var errBadSignature = errors.New("core: invalid signature")

// CheckKeySignature checks an HS256 signature (HMAC-SHA256), as twilio-go
// and twilio-node make for access tokens with an API key's secret, of
// signed by the key keySid. It returns nil when the signature is the key's,
// ErrKeyCannotSign for a key without a key schedule, and an error
// otherwise (no such key, revoked, wrong signature). The comparison is in
// constant time.
func (a *App) CheckKeySignature(ctx context.Context, keySid string, signed, signature []byte) error {
	if !parley.IsSID(parley.PrefixAPIKey, keySid) {
		return errBadSignature
	}
	key, err := read(ctx, a, func(tx parley.Tx) (parley.APIKey, error) { return tx.APIKey(ctx, keySid) })
	switch {
	case errors.Is(err, parley.ErrNotFound):
		return errBadSignature
	case err != nil:
		return err
	case key.DateRevoked != nil:
		return errBadSignature
	case key.SigningState == nil:
		return ErrKeyCannotSign
	}
	mac, err := scheduledMAC(key.SigningState, signed)
	if err != nil {
		return err
	}
	if !hmac.Equal(mac, signature) {
		return errBadSignature
	}
	return nil
}

// An HMAC-SHA256 key schedule. HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) ||
// m)), where K is the key zero-padded to SHA-256's 64-byte block (or its
// hash, when longer). Both inner and outer hashes start by absorbing one
// block that depends only on K; the SHA-256 states after those blocks (the
// "key schedule", 2 × 108 bytes in crypto/sha256's marshalled form) are
// all HMAC needs of K. Keeping them instead of the secret means a leaked
// database lets one forge access tokens, but not call the REST API as the
// key: HTTP Basic needs the secret itself, which the schedule does not
// reveal (SHA-256 is not invertible).
const hmacBlock = 64

func keySchedule(key []byte) []byte {
	if len(key) > hmacBlock {
		sum := sha256.Sum256(key)
		key = sum[:]
	}
	var out []byte
	for _, pad := range []byte{0x36, 0x5c} { // ipad, opad
		block := make([]byte, hmacBlock)
		copy(block, key)
		for i := range block {
			block[i] ^= pad
		}
		h := sha256.New()
		h.Write(block)
		state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
		if err != nil {
			panic("core: crypto/sha256 cannot marshal its state: " + err.Error())
		}
		out = append(out, byte(len(state)))
		out = append(out, state...)
	}
	return out
}

// scheduledMAC is HMAC-SHA256 of msg under the key whose schedule this is.
func scheduledMAC(schedule, msg []byte) ([]byte, error) {
	var states [2][]byte
	for i := range states {
		if len(schedule) == 0 || len(schedule) < 1+int(schedule[0]) {
			return nil, errors.New("core: damaged key schedule")
		}
		n := int(schedule[0])
		states[i], schedule = schedule[1:1+n], schedule[1+n:]
	}
	inner, outer := sha256.New(), sha256.New()
	if inner.(encoding.BinaryUnmarshaler).UnmarshalBinary(states[0]) != nil ||
		outer.(encoding.BinaryUnmarshaler).UnmarshalBinary(states[1]) != nil {
		return nil, errors.New("core: damaged key schedule")
	}
	inner.Write(msg)
	outer.Write(inner.Sum(nil))
	return outer.Sum(nil), nil
}
