package parley

import "time"

// ConversationState is where a conversation stands: active (the default),
// inactive (idle, but reactivated by new activity), closed (final: no more
// writes), or initializing (only while participants are added by Twilio's
// asynchronous flows; parley never leaves a conversation in it).
type ConversationState string

// The states of a conversation.
const (
	StateActive       ConversationState = "active"
	StateInactive     ConversationState = "inactive"
	StateClosed       ConversationState = "closed"
	StateInitializing ConversationState = "initializing"
)

// Conversation is a conversation of a service.
type Conversation struct {
	Seq                 int64
	Sid                 string
	ServiceSid          string
	UniqueName          *string // unique per service; nil until set
	FriendlyName        *string
	Attributes          string // JSON text, byte for byte; "{}" when unset
	MessagingServiceSid *string
	State               ConversationState
	// Timers: the durations (ISO 8601, as given; nil or "PT0S" is off) and
	// when each next fires, measured from the last activity. The dates stay
	// after a timer fired, as Twilio shows them, until activity restarts
	// the timers.
	TimerInactive *string
	TimerClosed   *string
	DateInactive  *time.Time
	DateClosed    *time.Time
	// EmailAddress and EmailName are the email binding (Bindings.Email.*).
	EmailAddress *string
	EmailName    *string
	// LastMessageIndex is the index of the newest message ever sent (nil
	// before the first); stores raise it, never lower it.
	LastMessageIndex *int64
	// CreatedBy is the identity of the SDK user who created it, or "system"
	// for REST.
	CreatedBy   string
	DateCreated time.Time
	DateUpdated time.Time
}

// ConversationFilter narrows a list of conversations; zero fields match
// all. With Start or End set, the list runs newest first (the spec).
type ConversationFilter struct {
	State ConversationState
	Start *time.Time // created on or after
	End   *time.Time // created on or before
}

// Participant is a member of a conversation: a chat participant (an
// Identity, whose User exists) or a non-chat one (an SMS, WhatsApp or RCS
// address through a proxy address of the account).
type Participant struct {
	Seq             int64
	Sid             string
	ServiceSid      string
	ConversationSid string
	Identity        *string // chat participants
	UserSid         *string // the User of Identity
	Attributes      string  // JSON text; "{}" when unset
	RoleSid         *string // null for non-chat participants created without one
	// Binding is the messaging binding; its Type is empty for a chat
	// participant without a projected address (shown as null).
	Binding              MessagingBinding
	LastReadMessageIndex *int64
	LastReadTimestamp    *string // a string on the wire, as given
	NotificationLevel    string  // "default" or "muted" (UserConversations)
	DateCreated          time.Time
	DateUpdated          time.Time
}

// MessagingBinding is how a participant is reached outside the chat SDK.
type MessagingBinding struct {
	Type             string // "sms", "whatsapp", "rcs"; "" for none
	Address          *string
	ProxyAddress     *string
	ProjectedAddress *string // Group MMS
}

// IsChat reports whether p is a chat (SDK) participant.
func (p Participant) IsChat() bool { return p.Identity != nil }

// NextTimer is when the conversation's next timer fires: the inactive
// timer while it is active, the closed timer until it is closed; nil when
// neither is pending. Stores keep it beside the row, indexed, so that due
// timers are found without scanning every conversation.
func (c Conversation) NextTimer() *time.Time {
	var next *time.Time
	if c.State == StateActive && c.DateInactive != nil {
		next = c.DateInactive
	}
	if c.State != StateClosed && c.DateClosed != nil && (next == nil || c.DateClosed.Before(*next)) {
		next = c.DateClosed
	}
	return next
}

// PairKey is the (address, proxy address) pair a non-chat participant
// holds across the account while its conversation is open: Twilio lets
// one pair be in one open conversation only. Nil for participants without
// both addresses.
func (p Participant) PairKey() *string {
	if p.Binding.Address == nil || p.Binding.ProxyAddress == nil {
		return nil
	}
	k := *p.Binding.Address + " " + *p.Binding.ProxyAddress
	return &k
}

// Membership is a participant with its conversation: an item of the
// UserConversations and ParticipantConversations lists, which show both.
type Membership struct {
	Participant  Participant
	Conversation Conversation
}

// MembershipFilter picks the participants a ParticipantConversations list
// shows: those with this identity (chat) or this address (non-chat);
// exactly one is set.
type MembershipFilter struct {
	Identity string
	Address  string
}

// ParticipantCounts are a conversation's participants by kind, for the
// per-conversation limits.
type ParticipantCounts struct {
	Chat    int // with an identity
	NonChat int // reached by address only
}
