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
// the account's auth token. Only a SHA-256 hash of the secret is kept.
type APIKey struct {
	Sid          string
	FriendlyName string
	SecretHash   []byte
	DateCreated  time.Time
	DateRevoked  *time.Time // set once revoked; a revoked key never authenticates
}
