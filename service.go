package parley

import "time"

// Service is a Conversation Service: the container of users, roles and
// (later) conversations. Deleting one removes everything in it.
type Service struct {
	Seq          int64 // creation order, for keyset paging; never shown
	Sid          string
	FriendlyName string
	DateCreated  time.Time
	DateUpdated  time.Time
}

// ServiceConfig is a service's configuration (/v1/Services/IS…/Configuration)
// and its service-level webhook settings. Every service has exactly one,
// created with it.
type ServiceConfig struct {
	ServiceSid                        string
	DefaultChatServiceRoleSid         string // given to users created without RoleSid
	DefaultConversationRoleSid        string
	DefaultConversationCreatorRoleSid string
	// ReachabilityEnabled gates is_online/is_notifiable on user fetches.
	ReachabilityEnabled bool
	Notifications       NotificationSettings
	Webhooks            WebhookConfig
}
