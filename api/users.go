package api

import (
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
)

// userFields is how users appear on the wire (conversations.v1.user and
// its service-scoped twin); url and links come from each operation's
// templates.
var userFields = fields[parley.User]{
	"sid":              str(func(u *parley.User) string { return u.Sid }),
	"chat_service_sid": str(func(u *parley.User) string { return u.ServiceSid }),
	"role_sid":         str(func(u *parley.User) string { return u.RoleSid }),
	"identity":         str(func(u *parley.User) string { return u.Identity }),
	"friendly_name":    optStr(func(u *parley.User) *string { return u.FriendlyName }),
	"attributes":       str(func(u *parley.User) string { return u.Attributes }),
	"is_online":        optBool(func(u *parley.User) *bool { return u.IsOnline }),
	"is_notifiable":    optBool(func(u *parley.User) *bool { return u.IsNotifiable }),
	"date_created":     date(func(u *parley.User) time.Time { return u.DateCreated }),
	"date_updated":     date(func(u *parley.User) time.Time { return u.DateUpdated }),
}

func (s *Server) createUser(q *req) call[parley.User] {
	svc, opts := q.service(), q.webhooks()
	in := core.UserCreate{Identity: q.text("Identity"), FriendlyName: q.str("FriendlyName"),
		Attributes: q.str("Attributes"), RoleSid: q.str("RoleSid")}
	return func() (parley.User, error) { return s.app.CreateUser(q.ctx, svc, in, opts) }
}

func (s *Server) updateUser(q *req) call[parley.User] {
	svc, key, opts := q.service(), q.path("Sid"), q.webhooks()
	in := core.UserUpdate{FriendlyName: q.str("FriendlyName"), Attributes: q.str("Attributes"), RoleSid: q.str("RoleSid")}
	return func() (parley.User, error) { return s.app.UpdateUser(q.ctx, svc, key, in, opts) }
}
