package parley

import (
	"slices"
	"time"
)

// RoleType says what a role applies to: a whole service (held by users) or a
// conversation (held by participants).
type RoleType string

// The two role types.
const (
	RoleTypeService      RoleType = "service"
	RoleTypeConversation RoleType = "conversation"
)

// Role is a named set of permissions in one service.
type Role struct {
	Seq          int64
	Sid          string
	ServiceSid   string
	FriendlyName string
	Type         RoleType
	Permissions  []string
	DateCreated  time.Time
	DateUpdated  time.Time
}

// Permissions Twilio documents per role type, plus four accepted in practice
// (editAnyParticipantAttributes, editOwnParticipantAttributes,
// addNonChatParticipant, editNotificationLevel); see
// ../shared/reference/semantics.md §5.
var (
	servicePermissions = []string{
		"addParticipant", "createConversation", "deleteAnyMessage", "deleteConversation",
		"editAnyMessage", "editAnyMessageAttributes", "editAnyUserInfo",
		"editConversationAttributes", "editConversationName", "editOwnMessage",
		"editOwnMessageAttributes", "editOwnUserInfo", "joinConversation", "removeParticipant",
	}
	conversationPermissions = []string{
		"addParticipant", "deleteAnyMessage", "deleteOwnMessage", "deleteConversation",
		"editAnyMessage", "editAnyMessageAttributes", "editAnyUserInfo",
		"editConversationAttributes", "editConversationName", "editOwnMessage",
		"editOwnMessageAttributes", "editOwnUserInfo", "leaveConversation",
		"removeParticipant", "sendMediaMessage", "sendMessage",
	}
	practicePermissions = []string{
		"editAnyParticipantAttributes", "editOwnParticipantAttributes",
		"addNonChatParticipant", "editNotificationLevel",
	}
)

// PermissionAllowed reports whether perm may be granted by a role of type t.
func PermissionAllowed(t RoleType, perm string) bool {
	if slices.Contains(practicePermissions, perm) {
		return true
	}
	switch t {
	case RoleTypeService:
		return slices.Contains(servicePermissions, perm)
	case RoleTypeConversation:
		return slices.Contains(conversationPermissions, perm)
	}
	return false
}

// DefaultRoles are the roles every new service starts with. Twilio does not
// document them for Conversations; these follow Programmable Chat's names
// (semantics.md §5, a parley decision) with permission sets chosen to match
// each name: admins get everything of their type, members the everyday
// subset.
func DefaultRoles() (serviceAdmin, serviceUser, channelAdmin, channelUser Role) {
	serviceAdmin = Role{FriendlyName: "service admin", Type: RoleTypeService,
		Permissions: slices.Clone(servicePermissions)}
	serviceUser = Role{FriendlyName: "service user", Type: RoleTypeService,
		Permissions: []string{"createConversation", "editOwnMessage", "editOwnMessageAttributes",
			"editOwnUserInfo", "joinConversation"}}
	channelAdmin = Role{FriendlyName: "channel admin", Type: RoleTypeConversation,
		Permissions: slices.Clone(conversationPermissions)}
	channelUser = Role{FriendlyName: "channel user", Type: RoleTypeConversation,
		Permissions: []string{"deleteOwnMessage", "editOwnMessage", "editOwnMessageAttributes",
			"editOwnUserInfo", "leaveConversation", "sendMediaMessage", "sendMessage"}}
	return
}
