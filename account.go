package parley

import "time"

// Account is the one Twilio account a parley database serves. It is minted
// (or taken from flags) on the first start and reused ever after; every node
// sharing the database serves the same account.
type Account struct {
	Sid       string
	AuthToken string
	// PageKey signs PageTokens. It lives in the database, not in a node's
	// memory, so a token issued by one node pages correctly on another.
	PageKey     []byte
	DateCreated time.Time
}

// AccountConfig is the account-wide configuration (/v1/Configuration): the
// default Conversation Service that shortened URLs act on, conversation
// timers, and the account-level ("global") webhook settings.
type AccountConfig struct {
	DefaultChatServiceSid      string
	DefaultMessagingServiceSid *string
	DefaultInactiveTimer       *string // ISO 8601 duration
	DefaultClosedTimer         *string // ISO 8601 duration
	Webhooks                   WebhookConfig
}

// APIKey is a standard API key: HTTP Basic with SK…:secret authenticates like
// the account's auth token, and access tokens for the client SDKs are signed
// with the secret (HS256). The secret itself is never kept.
type APIKey struct {
	Sid          string
	FriendlyName string
	// SecretHash is the SHA-256 of the secret, checked for HTTP Basic.
	SecretHash []byte
	// SigningState is the HMAC-SHA256 key schedule of the secret (see
	// core): enough to check, and make, an HS256 signature with the secret,
	// but not to recover the secret, so it cannot authenticate REST calls.
	// Nil for keys created before parley kept it: those cannot verify
	// access tokens.
	SigningState []byte
	DateCreated  time.Time
	DateRevoked  *time.Time // set once revoked; a revoked key never authenticates
}
