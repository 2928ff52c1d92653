package parley

import "time"

// AddressConfig is an address configuration (/v1/Configuration/Addresses):
// what happens when a message arrives at one of the account's addresses
// (a phone number, a WhatsApp sender…) from someone who is in no
// conversation with it. With auto-creation on, that message starts a
// conversation.
type AddressConfig struct {
	Seq            int64
	Sid            string
	Type           string // sms, whatsapp, messenger, gbm, email, rcs, apple, chat (lower case)
	Address        string // unique in the account
	FriendlyName   *string
	AddressCountry *string // ISO 3166-1 alpha-2, upper case
	AutoCreation   AutoCreation
	DateCreated    time.Time
	DateUpdated    time.Time
}

// AutoCreation is how an address configuration creates conversations.
// Fields of another Type than the one set are kept but not shown.
type AutoCreation struct {
	Enabled bool
	Type    string // webhook, studio or default
	// ServiceSid is the Conversation Service of created conversations;
	// "" means the account's default service.
	ServiceSid       string
	WebhookURL       *string
	WebhookMethod    string // GET or POST
	WebhookFilters   []string
	StudioFlowSid    *string
	StudioRetryCount *int64
}

// Binding is a push registration of one of a user's devices in a
// service (/v1/Services/IS…/Bindings). Client SDKs create them; parley's
// emulator control does for tests.
type Binding struct {
	Seq           int64
	Sid           string
	ServiceSid    string
	UserSid       string
	Identity      string
	BindingType   string // apn, gcm, fcm or twilsock
	Endpoint      string // the device's push address
	CredentialSid *string
	MessageTypes  []string
	DateCreated   time.Time
	DateUpdated   time.Time
}

// BindingFilter narrows a listing of bindings: a binding matches when its
// type is one of BindingTypes and its identity one of Identities (an empty
// list matches all).
type BindingFilter struct {
	BindingTypes []string
	Identities   []string
}

// NotificationSettings are a service's push notification settings
// (/v1/Services/IS…/Configuration/Notifications). parley sends no pushes;
// it keeps them for apps that read them back.
type NotificationSettings struct {
	LogEnabled              bool
	NewMessage              NotificationTemplate
	NewMessageBadgeCount    bool
	NewMessageWithMedia     NotificationTemplate // its Sound is never set
	AddedToConversation     NotificationTemplate
	RemovedFromConversation NotificationTemplate
}

// NotificationTemplate is one kind of push: whether it is sent, its text
// and its sound.
type NotificationTemplate struct {
	Enabled  bool
	Template *string
	Sound    *string
}
