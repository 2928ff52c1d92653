package core

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

// Fixtures (emulator mode): a JSON document of services, roles, users,
// conversations, participants and messages that POST /parley/v1/Import
// (and parley --seed FILE) loads and GET /parley/v1/Export writes, in the
// same format, so that what one parley exports another imports and then
// answers the same (docs/fixtures.schema.json, docs/emulator.md). Field
// names are the API's. SIDs and dates may be given or left out (minted,
// and the clock's time); what refers to what goes by SID, or, for roles,
// users and participants, by the names a test writes (a role's friendly
// name, a user's identity).
//
// Import is idempotent: an item that is already there (by SID; without
// one, by its service's name, role's name, user's identity,
// conversation's unique name, participant's identity or address, or a
// message index the conversation has reached) is left as it is, and only
// what is missing is written, all in one transaction: a document with an
// error writes nothing, and the error names the item and field by their
// path in the document ("services[0].users[3].identity: …"). An import
// is a restore, not the API's actions: it sends no webhooks and logs no
// client events; connected clients are told to reconnect (OnReplaced).

// Fixture is the document. Configuration, when given, is applied to the
// account's (each field given replaces the one there).
type Fixture struct {
	Configuration *FixtureConfiguration `json:"configuration,omitempty"`
	Services      []FixtureService      `json:"services"`
}

// FixtureConfiguration is the account's configuration but its default
// service (which a service's "default" names).
type FixtureConfiguration struct {
	DefaultMessagingServiceSid *string          `json:"default_messaging_service_sid,omitempty"`
	DefaultInactiveTimer       *string          `json:"default_inactive_timer,omitempty"`
	DefaultClosedTimer         *string          `json:"default_closed_timer,omitempty"`
	Webhooks                   *FixtureWebhooks `json:"webhooks,omitempty"`
}

// FixtureWebhooks is a webhook configuration, the account's or a
// service's (Target: the account's only).
type FixtureWebhooks struct {
	Method         *string  `json:"method,omitempty"`
	Filters        []string `json:"filters,omitempty"`
	PreWebhookURL  *string  `json:"pre_webhook_url,omitempty"`
	PostWebhookURL *string  `json:"post_webhook_url,omitempty"`
	Target         *string  `json:"target,omitempty"`
}

// FixtureNotifications are a service's push notification settings.
type FixtureNotifications struct {
	LogEnabled                  bool             `json:"log_enabled,omitempty"`
	NewMessage                  *FixtureTemplate `json:"new_message,omitempty"`
	NewMessageBadgeCountEnabled bool             `json:"new_message_badge_count_enabled,omitempty"`
	NewMessageWithMedia         *FixtureTemplate `json:"new_message_with_media,omitempty"`
	AddedToConversation         *FixtureTemplate `json:"added_to_conversation,omitempty"`
	RemovedFromConversation     *FixtureTemplate `json:"removed_from_conversation,omitempty"`
}

// FixtureTemplate is one kind of push.
type FixtureTemplate struct {
	Enabled  bool    `json:"enabled,omitempty"`
	Template *string `json:"template,omitempty"`
	Sound    *string `json:"sound,omitempty"`
}

// FixtureConversationWebhook is a conversation-scoped webhook; found by
// SID, or by target and URL.
type FixtureConversationWebhook struct {
	Sid         string     `json:"sid,omitempty"`
	Target      string     `json:"target"`
	URL         *string    `json:"url,omitempty"`
	Method      *string    `json:"method,omitempty"`
	Filters     []string   `json:"filters,omitempty"`
	Triggers    []string   `json:"triggers,omitempty"`
	FlowSid     *string    `json:"flow_sid,omitempty"`
	DateCreated *time.Time `json:"date_created,omitempty"`
	DateUpdated *time.Time `json:"date_updated,omitempty"`
}

// FixtureService is a Conversation Service and all it holds. Without
// roles, it gets the four default roles; with them, the default role SIDs
// name its roles (or default to the roles named "service user", "channel
// user" and "channel admin").
type FixtureService struct {
	Sid                               string                `json:"sid,omitempty"`
	FriendlyName                      string                `json:"friendly_name"`
	Default                           bool                  `json:"default,omitempty"`
	ReachabilityEnabled               bool                  `json:"reachability_enabled,omitempty"`
	DefaultChatServiceRoleSid         string                `json:"default_chat_service_role_sid,omitempty"`
	DefaultConversationRoleSid        string                `json:"default_conversation_role_sid,omitempty"`
	DefaultConversationCreatorRoleSid string                `json:"default_conversation_creator_role_sid,omitempty"`
	Webhooks                          *FixtureWebhooks      `json:"webhooks,omitempty"`
	Notifications                     *FixtureNotifications `json:"notifications,omitempty"`
	DateCreated                       *time.Time            `json:"date_created,omitempty"`
	DateUpdated                       *time.Time            `json:"date_updated,omitempty"`
	Roles                             []FixtureRole         `json:"roles,omitempty"`
	Users                             []FixtureUser         `json:"users,omitempty"`
	Conversations                     []FixtureConversation `json:"conversations,omitempty"`
}

// FixtureRole is a role of the service.
type FixtureRole struct {
	Sid          string     `json:"sid,omitempty"`
	FriendlyName string     `json:"friendly_name"`
	Type         string     `json:"type"`
	Permissions  []string   `json:"permissions"`
	DateCreated  *time.Time `json:"date_created,omitempty"`
	DateUpdated  *time.Time `json:"date_updated,omitempty"`
}

// FixtureUser is a user of the service; RoleSid is a role's SID or name.
type FixtureUser struct {
	Sid          string     `json:"sid,omitempty"`
	Identity     string     `json:"identity"`
	FriendlyName *string    `json:"friendly_name,omitempty"`
	Attributes   string     `json:"attributes,omitempty"`
	RoleSid      string     `json:"role_sid,omitempty"`
	DateCreated  *time.Time `json:"date_created,omitempty"`
	DateUpdated  *time.Time `json:"date_updated,omitempty"`
}

// FixtureTimers are a conversation's timers and the times they were set
// to fire.
type FixtureTimers struct {
	Inactive     *string    `json:"inactive,omitempty"`
	Closed       *string    `json:"closed,omitempty"`
	DateInactive *time.Time `json:"date_inactive,omitempty"`
	DateClosed   *time.Time `json:"date_closed,omitempty"`
}

// FixtureConversation is a conversation with its participants and
// messages (in index order). LastMessageIndex, when above the last
// message's, keeps the place of messages deleted at the end.
type FixtureConversation struct {
	Sid                 string                       `json:"sid,omitempty"`
	UniqueName          *string                      `json:"unique_name,omitempty"`
	FriendlyName        *string                      `json:"friendly_name,omitempty"`
	Attributes          string                       `json:"attributes,omitempty"`
	MessagingServiceSid *string                      `json:"messaging_service_sid,omitempty"`
	State               string                       `json:"state,omitempty"`
	Timers              *FixtureTimers               `json:"timers,omitempty"`
	CreatedBy           string                       `json:"created_by,omitempty"`
	LastMessageIndex    *int64                       `json:"last_message_index,omitempty"`
	DateCreated         *time.Time                   `json:"date_created,omitempty"`
	DateUpdated         *time.Time                   `json:"date_updated,omitempty"`
	Participants        []FixtureParticipant         `json:"participants,omitempty"`
	Messages            []FixtureMessage             `json:"messages,omitempty"`
	Webhooks            []FixtureConversationWebhook `json:"webhooks,omitempty"`
}

// FixtureBinding is a non-chat participant's messaging binding.
type FixtureBinding struct {
	Type             string  `json:"type,omitempty"`
	Address          *string `json:"address"`
	ProxyAddress     *string `json:"proxy_address,omitempty"`
	ProjectedAddress *string `json:"projected_address,omitempty"`
}

// FixtureParticipant is a chat participant (Identity; its user is made
// when the service has none of that identity) or a non-chat one
// (MessagingBinding). RoleSid is a role's SID or name.
type FixtureParticipant struct {
	Sid                  string          `json:"sid,omitempty"`
	Identity             *string         `json:"identity,omitempty"`
	MessagingBinding     *FixtureBinding `json:"messaging_binding,omitempty"`
	Attributes           string          `json:"attributes,omitempty"`
	RoleSid              string          `json:"role_sid,omitempty"`
	LastReadMessageIndex *int64          `json:"last_read_message_index,omitempty"`
	LastReadTimestamp    *string         `json:"last_read_timestamp,omitempty"`
	NotificationLevel    string          `json:"notification_level,omitempty"`
	DateCreated          *time.Time      `json:"date_created,omitempty"`
	DateUpdated          *time.Time      `json:"date_updated,omitempty"`
}

// FixtureMessage is a message; Index defaults to the one after the
// previous message's in the document (0 for the first).
type FixtureMessage struct {
	Sid            string     `json:"sid,omitempty"`
	Index          *int64     `json:"index,omitempty"`
	Author         string     `json:"author,omitempty"`
	Body           *string    `json:"body,omitempty"`
	Attributes     string     `json:"attributes,omitempty"`
	ParticipantSid *string    `json:"participant_sid,omitempty"`
	Subject        *string    `json:"subject,omitempty"`
	DateCreated    *time.Time `json:"date_created,omitempty"`
	DateUpdated    *time.Time `json:"date_updated,omitempty"`
}

// ImportCounts says how many items of each kind an import wrote, or found
// there already.
type ImportCounts struct {
	Services, Roles, Users, Conversations, Participants, Messages, Webhooks int
}

// ImportResult is what an import did.
type ImportResult struct {
	Created, Existing ImportCounts
}

// Import loads a fixture (see the top of this file) in one transaction.
func (a *App) Import(ctx context.Context, f Fixture) (ImportResult, error) {
	defaults := 0
	for _, s := range f.Services {
		if s.Default {
			defaults++
		}
	}
	if defaults > 1 {
		return ImportResult{}, parley.InvalidParam("services: at most one service is the default")
	}
	var res ImportResult
	var err error
	// What another write took meanwhile (the same document imported at
	// once, on PostgreSQL) is a conflict on insert: running again finds
	// it there, and leaves it as it is.
	for range importAttempts {
		err = a.store.Update(ctx, func(tx parley.Tx) error {
			res = ImportResult{}
			im := importer{a: a, ctx: ctx, tx: tx, now: a.clock(), res: &res}
			for i, s := range f.Services {
				if err := im.service(fmt.Sprintf("services[%d]", i), s); err != nil {
					return err
				}
			}
			if f.Configuration != nil {
				return im.configuration("configuration", *f.Configuration)
			}
			return nil
		})
		if !errors.Is(err, parley.ErrConflict) {
			if err == nil && res.Created != (ImportCounts{}) {
				a.replaced()
			}
			return res, err
		}
	}
	var pe *parley.Error
	if !errors.As(err, &pe) {
		err = parley.Errorf(parley.KindConflict, 20001, "The document's SIDs or names collide with what is there")
	}
	return ImportResult{}, err
}

// importAttempts bounds the runs of an import that meets conflicts.
const importAttempts = 4

// configuration applies the fields given to the account's configuration,
// by the rules of its updates.
func (im *importer) configuration(path string, fc FixtureConfiguration) error {
	in := AccountConfigUpdate{DefaultMessagingServiceSid: fc.DefaultMessagingServiceSid,
		DefaultInactiveTimer: fc.DefaultInactiveTimer, DefaultClosedTimer: fc.DefaultClosedTimer}
	if err := in.check(); err != nil {
		return at(path, err)
	}
	// Locked, as UpdateAccountConfig locks it: a concurrent partial
	// update is not lost.
	cfg, err := im.tx.ForUpdate().AccountConfig(im.ctx)
	if err != nil {
		return err
	}
	in.apply(&cfg)
	if fc.Webhooks != nil {
		w := fc.Webhooks.update()
		if err := w.check(true); err != nil {
			return at(path+".webhooks", err)
		}
		w.apply(&cfg.Webhooks)
	}
	return im.tx.PutAccountConfig(im.ctx, cfg)
}

// update is a webhook configuration as the update that sets it.
func (fw FixtureWebhooks) update() WebhookUpdate {
	filters := fw.Filters
	if filters == nil {
		filters = []string{} // none given: every event
	}
	return WebhookUpdate{Method: fw.Method, Filters: filters, PreWebhookURL: fw.PreWebhookURL,
		PostWebhookURL: fw.PostWebhookURL, Target: fw.Target}
}

func exportWebhooks(w parley.WebhookConfig) *FixtureWebhooks {
	if w.Method == nil && w.Filters == nil && w.PreWebhookURL == nil && w.PostWebhookURL == nil && w.Target == nil {
		return nil
	}
	return &FixtureWebhooks{Method: w.Method, Filters: w.Filters, PreWebhookURL: w.PreWebhookURL,
		PostWebhookURL: w.PostWebhookURL, Target: w.Target}
}

// notifications checks and turns a fixture's push settings into a
// service's.
func (fn FixtureNotifications) settings(path string) (parley.NotificationSettings, error) {
	n := parley.NotificationSettings{LogEnabled: fn.LogEnabled, NewMessageBadgeCount: fn.NewMessageBadgeCountEnabled}
	for _, t := range []struct {
		name string
		from *FixtureTemplate
		to   *parley.NotificationTemplate
	}{
		{"new_message", fn.NewMessage, &n.NewMessage}, {"new_message_with_media", fn.NewMessageWithMedia, &n.NewMessageWithMedia},
		{"added_to_conversation", fn.AddedToConversation, &n.AddedToConversation},
		{"removed_from_conversation", fn.RemovedFromConversation, &n.RemovedFromConversation},
	} {
		if t.from == nil {
			continue
		}
		for _, v := range []*string{t.from.Template, t.from.Sound} {
			if v != nil && utf8.RuneCountInString(*v) > MaxNotificationText {
				return n, invalid(path+"."+t.name, "at most %d characters", MaxNotificationText)
			}
		}
		*t.to = parley.NotificationTemplate{Enabled: t.from.Enabled, Template: t.from.Template, Sound: t.from.Sound}
	}
	return n, nil
}

func exportNotifications(n parley.NotificationSettings) *FixtureNotifications {
	if n == (parley.NotificationSettings{}) {
		return nil
	}
	tmpl := func(t parley.NotificationTemplate) *FixtureTemplate {
		if t == (parley.NotificationTemplate{}) {
			return nil
		}
		return &FixtureTemplate{Enabled: t.Enabled, Template: t.Template, Sound: t.Sound}
	}
	return &FixtureNotifications{LogEnabled: n.LogEnabled, NewMessage: tmpl(n.NewMessage),
		NewMessageBadgeCountEnabled: n.NewMessageBadgeCount, NewMessageWithMedia: tmpl(n.NewMessageWithMedia),
		AddedToConversation: tmpl(n.AddedToConversation), RemovedFromConversation: tmpl(n.RemovedFromConversation)}
}

type importer struct {
	a   *App
	ctx context.Context
	tx  parley.Tx
	now time.Time
	res *ImportResult
	// roles of the service being imported, by SID and by name.
	roles map[string]parley.Role
}

// at names a field of the item at path in an error: the message of err
// (a core validation error, with its Twilio code) prefixed by the path.
func at(path string, err error) error {
	var pe *parley.Error
	if errors.As(err, &pe) && pe.Kind != parley.KindInternal {
		e := *pe
		e.Message = path + ": " + e.Message
		return &e
	}
	return err
}

func invalid(path, format string, args ...any) error {
	return parley.InvalidParam("%s: %s", path, fmt.Sprintf(format, args...))
}

// taken is invalid for a write a uniqueness constraint refused; it keeps
// ErrConflict, for Import to run again (another import may have written
// the same rows a moment before, which the next run finds).
func taken(path, format string, args ...any) error {
	e := parley.InvalidParam("%s: %s", path, fmt.Sprintf(format, args...))
	e.Err = parley.ErrConflict
	return e
}

// stamp is a given time, at Twilio's second precision, or the clock's.
func (im *importer) stamp(t *time.Time) time.Time {
	if t == nil {
		return im.now
	}
	return *stampPtr(t)
}

// stamps are a resource's dates: created as given or now, updated as
// given or when created.
func (im *importer) stamps(created, updated *time.Time) (time.Time, time.Time) {
	c := im.stamp(created)
	if updated == nil {
		return c, c
	}
	return c, im.stamp(updated)
}

// sid checks a given SID's prefix, or mints one.
func (im *importer) sid(path, prefix, given string) (string, error) {
	if given == "" {
		return im.a.sids.New(prefix), nil
	}
	if !parley.IsSID(prefix, given) {
		return "", invalid(path+".sid", "%q is not %s followed by 32 hex digits", given, prefix)
	}
	return given, nil
}

func (im *importer) service(path string, fs FixtureService) error {
	ctx, tx := im.ctx, im.tx
	svc, found, err := im.findService(fs)
	if err != nil {
		return err
	}
	if !found {
		if err := checkFriendlyName(&fs.FriendlyName, MaxFriendlyName); err != nil || fs.FriendlyName == "" {
			if err == nil {
				err = parley.MissingParam("friendly_name")
			}
			return at(path+".friendly_name", err)
		}
		sid, err := im.sid(path, parley.PrefixService, fs.Sid)
		if err != nil {
			return err
		}
		created, updated := im.stamps(fs.DateCreated, fs.DateUpdated)
		svc = parley.Service{Sid: sid, FriendlyName: fs.FriendlyName, DateCreated: created, DateUpdated: updated}
		if len(fs.Roles) == 0 {
			if svc, err = createService(ctx, tx, im.a.sids, sid, fs.FriendlyName, created); err != nil {
				return at(path, err)
			}
		} else if err := tx.CreateService(ctx, svc); err != nil {
			return at(path, err)
		}
		im.res.Created.Services++
	} else {
		im.res.Existing.Services++
	}
	if err := im.loadRoles(path, svc.Sid, fs.Roles); err != nil {
		return err
	}
	if !found {
		cfg := parley.ServiceConfig{ServiceSid: svc.Sid, ReachabilityEnabled: fs.ReachabilityEnabled}
		if fs.Webhooks != nil {
			w := fs.Webhooks.update()
			if err := w.check(false); err != nil {
				return at(path+".webhooks", err)
			}
			w.apply(&cfg.Webhooks)
		}
		if fs.Notifications != nil {
			if cfg.Notifications, err = fs.Notifications.settings(path + ".notifications"); err != nil {
				return err
			}
		}
		if len(fs.Roles) > 0 {
			for _, r := range []struct {
				field, given, name string
				typ                parley.RoleType
				dst                *string
			}{
				{"default_chat_service_role_sid", fs.DefaultChatServiceRoleSid, "service user", parley.RoleTypeService, &cfg.DefaultChatServiceRoleSid},
				{"default_conversation_role_sid", fs.DefaultConversationRoleSid, "channel user", parley.RoleTypeConversation, &cfg.DefaultConversationRoleSid},
				{"default_conversation_creator_role_sid", fs.DefaultConversationCreatorRoleSid, "channel admin", parley.RoleTypeConversation, &cfg.DefaultConversationCreatorRoleSid},
			} {
				ref := cmp.Or(r.given, r.name)
				role, err := im.role(path+"."+r.field, ref, r.typ)
				if err != nil {
					return err
				}
				*r.dst = role.Sid
			}
		} else {
			old, err := tx.ServiceConfig(ctx, svc.Sid)
			if err != nil {
				return err
			}
			cfg.DefaultChatServiceRoleSid, cfg.DefaultConversationRoleSid, cfg.DefaultConversationCreatorRoleSid =
				old.DefaultChatServiceRoleSid, old.DefaultConversationRoleSid, old.DefaultConversationCreatorRoleSid
		}
		if err := tx.PutServiceConfig(ctx, cfg); err != nil {
			return err
		}
	}
	if fs.Default {
		if err := im.makeDefault(svc.Sid); err != nil {
			return err
		}
	}
	for i, u := range fs.Users {
		if _, err := im.user(fmt.Sprintf("%s.users[%d]", path, i), svc, u, true); err != nil {
			return err
		}
	}
	for i, c := range fs.Conversations {
		if err := im.conversation(fmt.Sprintf("%s.conversations[%d]", path, i), svc, c); err != nil {
			return err
		}
	}
	return nil
}

// findService finds the service a fixture's service names: by SID, or by
// name when it has none.
func (im *importer) findService(fs FixtureService) (parley.Service, bool, error) {
	if fs.Sid != "" {
		s, err := im.tx.Service(im.ctx, fs.Sid)
		if errors.Is(err, parley.ErrNotFound) {
			return parley.Service{}, false, nil
		}
		return s, err == nil, err
	}
	services, err := all(func(q parley.PageQuery) (parley.Page[parley.Service], error) { return im.tx.ListServices(im.ctx, q) })
	if err != nil {
		return parley.Service{}, false, err
	}
	for _, s := range services {
		if s.FriendlyName == fs.FriendlyName {
			return s, true, nil
		}
	}
	return parley.Service{}, false, nil
}

// makeDefault makes sid the account's default service. The one it
// replaces goes if it holds nothing (a fresh parley's), so that an
// export imported into a fresh parley lists the services it listed.
func (im *importer) makeDefault(sid string) error {
	ctx, tx := im.ctx, im.tx
	cfg, err := tx.ForUpdate().AccountConfig(ctx)
	if err != nil {
		return err
	}
	old := cfg.DefaultChatServiceSid
	if old == sid {
		return nil
	}
	cfg.DefaultChatServiceSid = sid
	if err := tx.PutAccountConfig(ctx, cfg); err != nil {
		return err
	}
	// A delete takes its row first: no user or conversation can then be
	// added to the old service between the check that it is empty and its
	// delete (which would take them along). Gone already (another import
	// replaced it): nothing to do.
	if _, err := tx.ForUpdate().Service(ctx, old); errors.Is(err, parley.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	users, err := tx.ListUsers(ctx, old, parley.PageQuery{Size: 1})
	if err != nil {
		return err
	}
	convs, err := tx.ListConversations(ctx, old, parley.ConversationFilter{}, parley.PageQuery{Size: 1})
	if err != nil {
		return err
	}
	if len(users.Items) == 0 && len(convs.Items) == 0 {
		return tx.DeleteService(ctx, old)
	}
	return nil
}

// loadRoles reads the service's roles, then writes the fixture's missing
// ones.
func (im *importer) loadRoles(path, svc string, roles []FixtureRole) error {
	ctx, tx := im.ctx, im.tx
	im.roles = map[string]parley.Role{}
	existing, err := all(func(q parley.PageQuery) (parley.Page[parley.Role], error) { return tx.ListRoles(ctx, svc, q) })
	if err != nil {
		return err
	}
	for _, r := range existing {
		im.roles[r.Sid], im.roles[r.FriendlyName] = r, r
	}
	for i, fr := range roles {
		rp := fmt.Sprintf("%s.roles[%d]", path, i)
		if _, ok := im.roles[cmp.Or(fr.Sid, fr.FriendlyName)]; ok {
			im.res.Existing.Roles++
			continue
		}
		if err := checkFriendlyName(&fr.FriendlyName, MaxRoleFriendlyName); err != nil || fr.FriendlyName == "" {
			if err == nil {
				err = parley.MissingParam("friendly_name")
			}
			return at(rp+".friendly_name", err)
		}
		typ := parley.RoleType(fr.Type)
		if typ != parley.RoleTypeService && typ != parley.RoleTypeConversation {
			return invalid(rp+".type", "%q is neither service nor conversation", fr.Type)
		}
		perms, err := checkPermissions(typ, fr.Permissions)
		if err != nil {
			return at(rp+".permissions", err)
		}
		sid, err := im.sid(rp, parley.PrefixRole, fr.Sid)
		if err != nil {
			return err
		}
		created, updated := im.stamps(fr.DateCreated, fr.DateUpdated)
		r := parley.Role{Sid: sid, ServiceSid: svc, FriendlyName: fr.FriendlyName, Type: typ,
			Permissions: perms, DateCreated: created, DateUpdated: updated}
		if err := tx.CreateRole(ctx, r); err != nil {
			return at(rp, err)
		}
		im.roles[r.Sid], im.roles[r.FriendlyName] = r, r
		im.res.Created.Roles++
	}
	return nil
}

// role resolves a role reference (SID or name) of the service.
func (im *importer) role(path, ref string, typ parley.RoleType) (parley.Role, error) {
	r, ok := im.roles[ref]
	if !ok {
		return parley.Role{}, invalid(path, "no role %q in this service", ref)
	}
	if r.Type != typ {
		return parley.Role{}, invalid(path, "role %q is a %s role, not a %s role", ref, r.Type, typ)
	}
	return r, nil
}

// user writes a user the service lacks; an existing one counts as such
// only when the fixture lists it (counted), not when a participant names
// it.
func (im *importer) user(path string, svc parley.Service, fu FixtureUser, counted bool) (parley.User, error) {
	ctx, tx := im.ctx, im.tx
	if err := checkIdentity(fu.Identity); err != nil {
		return parley.User{}, at(path+".identity", err)
	}
	if u, err := tx.UserByIdentity(ctx, svc.Sid, fu.Identity); err == nil {
		if counted {
			im.res.Existing.Users++
		}
		return u, nil
	} else if !errors.Is(err, parley.ErrNotFound) {
		return parley.User{}, err
	}
	fields := UserUpdate{FriendlyName: fu.FriendlyName}
	if fu.Attributes != "" {
		fields.Attributes = &fu.Attributes
	}
	if err := fields.check(); err != nil {
		return parley.User{}, at(path, err)
	}
	cfg, err := tx.ServiceConfig(ctx, svc.Sid)
	if err != nil {
		return parley.User{}, err
	}
	role := cfg.DefaultChatServiceRoleSid
	if fu.RoleSid != "" {
		r, err := im.role(path+".role_sid", fu.RoleSid, parley.RoleTypeService)
		if err != nil {
			return parley.User{}, err
		}
		role = r.Sid
	}
	sid, err := im.sid(path, parley.PrefixUser, fu.Sid)
	if err != nil {
		return parley.User{}, err
	}
	created, updated := im.stamps(fu.DateCreated, fu.DateUpdated)
	u := fields.apply(parley.User{Sid: sid, ServiceSid: svc.Sid, RoleSid: role, Identity: fu.Identity,
		Attributes: "{}", DateCreated: created}, updated)
	if err := tx.CreateUser(ctx, u); err != nil {
		if errors.Is(err, parley.ErrConflict) {
			return parley.User{}, taken(path+".sid", "%s is another service's user", sid)
		}
		return parley.User{}, err
	}
	im.res.Created.Users++
	return u, nil
}

func (im *importer) conversation(path string, svc parley.Service, fc FixtureConversation) error {
	ctx, tx := im.ctx, im.tx
	var c parley.Conversation
	var err error
	switch {
	case fc.Sid != "":
		c, err = tx.ConversationBySid(ctx, svc.Sid, fc.Sid)
	case fc.UniqueName != nil:
		c, err = tx.ConversationByUniqueName(ctx, svc.Sid, *fc.UniqueName)
	default:
		err = parley.ErrNotFound
	}
	switch {
	case err == nil:
		im.res.Existing.Conversations++
	case !errors.Is(err, parley.ErrNotFound):
		return err
	default:
		if c, err = im.newConversation(path, svc, fc); err != nil {
			return err
		}
		im.res.Created.Conversations++
	}
	cfg, err := tx.ServiceConfig(ctx, svc.Sid)
	if err != nil {
		return err
	}
	for i, fp := range fc.Participants {
		if err := im.participant(fmt.Sprintf("%s.participants[%d]", path, i), svc, cfg, c, fp); err != nil {
			return err
		}
	}
	last := int64(-1)
	if c.LastMessageIndex != nil {
		last = *c.LastMessageIndex
	}
	// A message without an index follows the one before it in the
	// document (the first is 0): the same document always means the same
	// messages, so importing it again writes none.
	want := int64(-1)
	for i, fm := range fc.Messages {
		if fm.Index == nil {
			next := want + 1
			fm.Index = &next
		}
		want = *fm.Index
		if last, err = im.message(fmt.Sprintf("%s.messages[%d]", path, i), c, fm, last); err != nil {
			return err
		}
	}
	for i, fw := range fc.Webhooks {
		if err := im.conversationWebhook(fmt.Sprintf("%s.webhooks[%d]", path, i), c, fw); err != nil {
			return err
		}
	}
	if fc.LastMessageIndex != nil {
		if *fc.LastMessageIndex < last {
			return invalid(path+".last_message_index", "%d is below the last message's index, %d", *fc.LastMessageIndex, last)
		}
		if err := tx.RaiseMessageIndex(ctx, c.Sid, *fc.LastMessageIndex); err != nil {
			return err
		}
	}
	return nil
}

func (im *importer) newConversation(path string, svc parley.Service, fc FixtureConversation) (parley.Conversation, error) {
	in := ConversationInput{UniqueName: fc.UniqueName, FriendlyName: fc.FriendlyName, MessagingServiceSid: fc.MessagingServiceSid}
	if fc.Attributes != "" {
		in.Attributes = &fc.Attributes
	}
	if fc.State != "" {
		in.State = &fc.State
	}
	if t := fc.Timers; t != nil {
		in.TimerInactive, in.TimerClosed = t.Inactive, t.Closed
	}
	if _, err := in.check(); err != nil {
		return parley.Conversation{}, at(path, err)
	}
	sid, err := im.sid(path, parley.PrefixConversation, fc.Sid)
	if err != nil {
		return parley.Conversation{}, err
	}
	created, updated := im.stamps(fc.DateCreated, fc.DateUpdated)
	c := parley.Conversation{Sid: sid, ServiceSid: svc.Sid, UniqueName: fc.UniqueName, FriendlyName: fc.FriendlyName,
		Attributes: cmp.Or(fc.Attributes, "{}"), MessagingServiceSid: fc.MessagingServiceSid, State: parley.StateActive,
		CreatedBy: fc.CreatedBy, DateCreated: created, DateUpdated: updated}
	if fc.State != "" {
		c.State = parley.ConversationState(fc.State)
	}
	if t := fc.Timers; t != nil {
		c.TimerInactive, c.TimerClosed = t.Inactive, t.Closed
		if t.DateInactive != nil || t.DateClosed != nil {
			c.DateInactive, c.DateClosed = stampPtr(t.DateInactive), stampPtr(t.DateClosed)
		} else {
			restartTimers(&c, c.DateUpdated)
		}
	}
	if err := im.tx.CreateConversation(im.ctx, c); err != nil {
		if errors.Is(err, parley.ErrConflict) {
			return parley.Conversation{}, taken(path, "the SID or unique name is another conversation's")
		}
		return parley.Conversation{}, err
	}
	return c, nil
}

func stampPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Truncate(time.Second)
	return &u
}

func (im *importer) participant(path string, svc parley.Service, cfg parley.ServiceConfig, c parley.Conversation, fp FixtureParticipant) error {
	ctx, tx := im.ctx, im.tx
	if (fp.Identity == nil) == (fp.MessagingBinding == nil) {
		return invalid(path, "give identity (a chat participant) or messaging_binding, not both")
	}
	var existing error
	switch {
	case fp.Sid != "":
		_, existing = tx.ParticipantBySid(ctx, c.Sid, fp.Sid)
	case fp.Identity != nil:
		_, existing = tx.ParticipantByIdentity(ctx, c.Sid, *fp.Identity)
	case fp.MessagingBinding.Address != nil:
		_, existing = tx.ParticipantByAddress(ctx, c.Sid, *fp.MessagingBinding.Address)
	default:
		return invalid(path+".messaging_binding.address", "missing")
	}
	if existing == nil {
		im.res.Existing.Participants++
		return nil
	} else if !errors.Is(existing, parley.ErrNotFound) {
		return existing
	}
	attrs := cmp.Or(fp.Attributes, "{}")
	if err := checkAttributes(attrs, MaxParticipantAttributes); err != nil {
		return at(path+".attributes", err)
	}
	sid, err := im.sid(path, parley.PrefixParticipant, fp.Sid)
	if err != nil {
		return err
	}
	created, updated := im.stamps(fp.DateCreated, fp.DateUpdated)
	p := parley.Participant{Sid: sid, ServiceSid: svc.Sid, ConversationSid: c.Sid, Attributes: attrs,
		LastReadMessageIndex: fp.LastReadMessageIndex, LastReadTimestamp: fp.LastReadTimestamp,
		NotificationLevel: cmp.Or(fp.NotificationLevel, "default"), DateCreated: created, DateUpdated: updated}
	if p.NotificationLevel != "default" && p.NotificationLevel != "muted" {
		return invalid(path+".notification_level", "%q is neither default nor muted", p.NotificationLevel)
	}
	if fp.Identity != nil {
		u, err := im.user(path, svc, FixtureUser{Identity: *fp.Identity}, false)
		if err != nil {
			return err
		}
		role := cfg.DefaultConversationRoleSid
		if fp.RoleSid != "" {
			r, err := im.role(path+".role_sid", fp.RoleSid, parley.RoleTypeConversation)
			if err != nil {
				return err
			}
			role = r.Sid
		}
		p.Identity, p.UserSid, p.RoleSid = &u.Identity, &u.Sid, &role
	} else {
		b := fp.MessagingBinding
		p.Binding = parley.MessagingBinding{Type: cmp.Or(b.Type, "sms"), Address: b.Address, ProxyAddress: b.ProxyAddress,
			ProjectedAddress: b.ProjectedAddress}
		if fp.RoleSid != "" {
			r, err := im.role(path+".role_sid", fp.RoleSid, parley.RoleTypeConversation)
			if err != nil {
				return err
			}
			p.RoleSid = &r.Sid
		}
	}
	if err := tx.CreateParticipant(ctx, p); err != nil {
		if errors.Is(err, parley.ErrConflict) {
			return taken(path, "the SID or address pair is another participant's")
		}
		return err
	}
	im.res.Created.Participants++
	return nil
}

// message writes a message the conversation has not reached yet, at its
// index (indexes only grow), and returns the conversation's last index.
func (im *importer) message(path string, c parley.Conversation, fm FixtureMessage, last int64) (int64, error) {
	ctx, tx := im.ctx, im.tx
	if fm.Sid != "" {
		if _, err := tx.MessageBySid(ctx, c.Sid, fm.Sid); err == nil {
			im.res.Existing.Messages++
			return last, nil
		} else if !errors.Is(err, parley.ErrNotFound) {
			return last, err
		}
	}
	index := *fm.Index
	if index <= last {
		if fm.Sid == "" {
			im.res.Existing.Messages++ // the conversation has reached it
			return last, nil
		}
		return last, invalid(path+".index", "%d is not after the conversation's last index, %d", index, last)
	}
	attrs := cmp.Or(fm.Attributes, "{}")
	if err := checkAttributes(attrs, MaxMessageAttributes); err != nil {
		return last, at(path+".attributes", err)
	}
	if fm.Body != nil && len(*fm.Body) > MaxBody {
		return last, invalid(path+".body", "longer than %d bytes", MaxBody)
	}
	sid, err := im.sid(path, parley.PrefixMessage, fm.Sid)
	if err != nil {
		return last, err
	}
	if last < index {
		if err := tx.RaiseMessageIndex(ctx, c.Sid, index); err != nil {
			return last, err
		}
		last = index
	}
	created, updated := im.stamps(fm.DateCreated, fm.DateUpdated)
	m := parley.Message{Sid: sid, ServiceSid: c.ServiceSid, ConversationSid: c.Sid, Index: index,
		Author: cmp.Or(fm.Author, "system"), Body: fm.Body, Attributes: attrs, ParticipantSid: fm.ParticipantSid,
		Subject: fm.Subject, DateCreated: created, DateUpdated: updated}
	if err := tx.CreateMessage(ctx, m); err != nil {
		if errors.Is(err, parley.ErrConflict) {
			return last, taken(path+".sid", "%s is another conversation's message", sid)
		}
		return last, err
	}
	im.res.Created.Messages++
	return last, nil
}

// Export writes everything (or the service svc, when not "") as a
// fixture that Import takes back: every SID, date and field the API shows
// of services, roles, users, conversations, participants and messages.
// It reads committed data statement by statement, like any list: a write
// running beside it may or may not be in it.
func (a *App) Export(ctx context.Context, svc string) (Fixture, error) {
	if svc != "" && !parley.IsSID(parley.PrefixService, svc) {
		return Fixture{}, parley.NotFound()
	}
	var f Fixture
	err := a.store.View(ctx, func(tx parley.Tx) error {
		f = Fixture{Services: []FixtureService{}}
		acct, err := tx.AccountConfig(ctx)
		if err != nil {
			return err
		}
		if svc == "" {
			f.Configuration = &FixtureConfiguration{DefaultMessagingServiceSid: acct.DefaultMessagingServiceSid,
				DefaultInactiveTimer: acct.DefaultInactiveTimer, DefaultClosedTimer: acct.DefaultClosedTimer,
				Webhooks: exportWebhooks(acct.Webhooks)}
		}
		services, err := all(func(q parley.PageQuery) (parley.Page[parley.Service], error) { return tx.ListServices(ctx, q) })
		if err != nil {
			return err
		}
		found := false
		for _, s := range services {
			if svc != "" && s.Sid != svc {
				continue
			}
			found = true
			fs, err := exportService(ctx, tx, s, s.Sid == acct.DefaultChatServiceSid)
			if err != nil {
				return err
			}
			f.Services = append(f.Services, fs)
		}
		if !found && svc != "" {
			return parley.NotFound()
		}
		return nil
	})
	return f, err
}

// all reads every page of a list.
func all[T any](list func(parley.PageQuery) (parley.Page[T], error)) ([]T, error) {
	var out []T
	for q := (parley.PageQuery{Size: 1000}); ; {
		p, err := list(q)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if !p.HasNext || len(p.Items) == 0 {
			return out, nil
		}
		q.After, q.Key = p.LastSeq, p.LastKey
	}
}

func timePtr(t time.Time) *time.Time { return &t }

func exportService(ctx context.Context, tx parley.Tx, s parley.Service, isDefault bool) (FixtureService, error) {
	cfg, err := tx.ServiceConfig(ctx, s.Sid)
	if err != nil {
		return FixtureService{}, err
	}
	fs := FixtureService{Sid: s.Sid, FriendlyName: s.FriendlyName, Default: isDefault, ReachabilityEnabled: cfg.ReachabilityEnabled,
		DefaultChatServiceRoleSid: cfg.DefaultChatServiceRoleSid, DefaultConversationRoleSid: cfg.DefaultConversationRoleSid,
		DefaultConversationCreatorRoleSid: cfg.DefaultConversationCreatorRoleSid,
		Webhooks:                          exportWebhooks(cfg.Webhooks), Notifications: exportNotifications(cfg.Notifications),
		DateCreated: timePtr(s.DateCreated), DateUpdated: timePtr(s.DateUpdated)}
	roles, err := all(func(q parley.PageQuery) (parley.Page[parley.Role], error) { return tx.ListRoles(ctx, s.Sid, q) })
	if err != nil {
		return fs, err
	}
	for _, r := range roles {
		fs.Roles = append(fs.Roles, FixtureRole{Sid: r.Sid, FriendlyName: r.FriendlyName, Type: string(r.Type),
			Permissions: r.Permissions, DateCreated: timePtr(r.DateCreated), DateUpdated: timePtr(r.DateUpdated)})
	}
	users, err := all(func(q parley.PageQuery) (parley.Page[parley.User], error) { return tx.ListUsers(ctx, s.Sid, q) })
	if err != nil {
		return fs, err
	}
	for _, u := range users {
		fs.Users = append(fs.Users, FixtureUser{Sid: u.Sid, Identity: u.Identity, FriendlyName: u.FriendlyName,
			Attributes: u.Attributes, RoleSid: u.RoleSid, DateCreated: timePtr(u.DateCreated), DateUpdated: timePtr(u.DateUpdated)})
	}
	convs, err := all(func(q parley.PageQuery) (parley.Page[parley.Conversation], error) {
		return tx.ListConversations(ctx, s.Sid, parley.ConversationFilter{}, q)
	})
	if err != nil {
		return fs, err
	}
	for _, c := range convs {
		fc, err := exportConversation(ctx, tx, c)
		if err != nil {
			return fs, err
		}
		fs.Conversations = append(fs.Conversations, fc)
	}
	return fs, nil
}

func exportConversation(ctx context.Context, tx parley.Tx, c parley.Conversation) (FixtureConversation, error) {
	fc := FixtureConversation{Sid: c.Sid, UniqueName: c.UniqueName, FriendlyName: c.FriendlyName, Attributes: c.Attributes,
		MessagingServiceSid: c.MessagingServiceSid, State: string(c.State), CreatedBy: c.CreatedBy,
		LastMessageIndex: c.LastMessageIndex, DateCreated: timePtr(c.DateCreated), DateUpdated: timePtr(c.DateUpdated)}
	if c.TimerInactive != nil || c.TimerClosed != nil || c.DateInactive != nil || c.DateClosed != nil {
		fc.Timers = &FixtureTimers{Inactive: c.TimerInactive, Closed: c.TimerClosed, DateInactive: c.DateInactive, DateClosed: c.DateClosed}
	}
	parts, err := all(func(q parley.PageQuery) (parley.Page[parley.Participant], error) {
		return tx.ListParticipants(ctx, c.Sid, q)
	})
	if err != nil {
		return fc, err
	}
	for _, p := range parts {
		fp := FixtureParticipant{Sid: p.Sid, Identity: p.Identity, Attributes: p.Attributes,
			LastReadMessageIndex: p.LastReadMessageIndex, LastReadTimestamp: p.LastReadTimestamp,
			NotificationLevel: p.NotificationLevel, DateCreated: timePtr(p.DateCreated), DateUpdated: timePtr(p.DateUpdated)}
		if p.RoleSid != nil {
			fp.RoleSid = *p.RoleSid
		}
		if !p.IsChat() {
			b := p.Binding
			fp.MessagingBinding = &FixtureBinding{Type: b.Type, Address: b.Address, ProxyAddress: b.ProxyAddress, ProjectedAddress: b.ProjectedAddress}
		}
		fc.Participants = append(fc.Participants, fp)
	}
	msgs, err := all(func(q parley.PageQuery) (parley.Page[parley.Message], error) { return tx.ListMessages(ctx, c.Sid, q) })
	if err != nil {
		return fc, err
	}
	hooks, err := tx.ConversationWebhooks(ctx, c.Sid)
	if err != nil {
		return fc, err
	}
	for _, w := range hooks {
		fc.Webhooks = append(fc.Webhooks, FixtureConversationWebhook{Sid: w.Sid, Target: w.Target, URL: w.URL, Method: w.Method,
			Filters: w.Filters, Triggers: w.Triggers, FlowSid: w.FlowSid, DateCreated: timePtr(w.DateCreated), DateUpdated: timePtr(w.DateUpdated)})
	}
	for _, m := range msgs {
		fc.Messages = append(fc.Messages, FixtureMessage{Sid: m.Sid, Index: &m.Index, Author: m.Author, Body: m.Body,
			Attributes: m.Attributes, ParticipantSid: m.ParticipantSid, Subject: m.Subject,
			DateCreated: timePtr(m.DateCreated), DateUpdated: timePtr(m.DateUpdated)})
	}
	return fc, nil
}

func (im *importer) conversationWebhook(path string, c parley.Conversation, fw FixtureConversationWebhook) error {
	ctx, tx := im.ctx, im.tx
	existing, err := tx.ConversationWebhooks(ctx, c.Sid)
	if err != nil {
		return err
	}
	for _, w := range existing {
		if w.Sid == fw.Sid || fw.Sid == "" && w.Target == fw.Target && ptrEqual(w.URL, fw.URL) {
			im.res.Existing.Webhooks++
			return nil
		}
	}
	if len(existing) >= MaxConversationWebhooks {
		return parley.Errorf(parley.KindInvalid, 50361, "%s: at most %d webhooks per conversation", path, MaxConversationWebhooks)
	}
	if fw.Target != "webhook" && fw.Target != "trigger" && fw.Target != "studio" {
		return invalid(path+".target", "%q is none of webhook, trigger and studio", fw.Target)
	}
	sid, err := im.sid(path, parley.PrefixWebhook, fw.Sid)
	if err != nil {
		return err
	}
	created, updated := im.stamps(fw.DateCreated, fw.DateUpdated)
	w := parley.ConversationWebhook{Sid: sid, ServiceSid: c.ServiceSid, ConversationSid: c.Sid, Target: fw.Target,
		DateCreated: created, DateUpdated: updated}
	in := ConversationWebhookInput{URL: fw.URL, Method: fw.Method, Filters: fw.Filters, Triggers: fw.Triggers, FlowSid: fw.FlowSid}
	if err := in.apply(&w); err != nil {
		return at(path, err)
	}
	if err := tx.CreateConversationWebhook(ctx, w); err != nil {
		return at(path, err)
	}
	im.res.Created.Webhooks++
	return nil
}

func ptrEqual(a, b *string) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }
