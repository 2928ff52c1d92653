package parley

import "time"

// CredentialType is the push service a credential is for.
type CredentialType string

// The push services Twilio's credentials serve.
const (
	CredentialAPN CredentialType = "apn" // Apple Push Notification service
	CredentialGCM CredentialType = "gcm" // Google Cloud Messaging (legacy)
	CredentialFCM CredentialType = "fcm" // Firebase Cloud Messaging
)

// Credential is a push credential of the account (/v1/Credentials): what a
// binding's push notifications would be sent with. Its secrets are kept
// for that and never shown.
type Credential struct {
	Seq          int64
	Sid          string
	FriendlyName *string // nil until set; shown as null
	Type         CredentialType
	// Sandbox sends APN pushes to Apple's sandbox; false for the others.
	Sandbox bool
	// The secrets of the credential's type; the others are empty.
	APNCertificate string // PEM
	APNPrivateKey  string // PEM
	GCMAPIKey      string
	FCMSecret      string // the project's server key
	DateCreated    time.Time
	DateUpdated    time.Time
}
