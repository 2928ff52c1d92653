package parley

import "time"

// User is a Conversations user: an identity, unique and case-sensitive within
// its service, holding one service-type role.
type User struct {
	Seq          int64
	Sid          string
	ServiceSid   string
	RoleSid      string
	Identity     string
	FriendlyName *string // nil until set; shown as null
	Attributes   string  // JSON text, stored byte for byte; "{}" when unset
	// IsOnline and IsNotifiable are nil until a client connects or registers
	// for push, which parley's REST surface never does; they are kept so
	// that the null rules are enforced in one place (package core) as soon
	// as something sets them.
	IsOnline     *bool
	IsNotifiable *bool
	DateCreated  time.Time
	DateUpdated  time.Time
}
