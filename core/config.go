package core

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/parleyhq/parley"
)

// ServiceConfigUpdate changes a service's configuration; nil leaves a field
// unchanged.
type ServiceConfigUpdate struct {
	DefaultChatServiceRoleSid         *string
	DefaultConversationRoleSid        *string
	DefaultConversationCreatorRoleSid *string
	ReachabilityEnabled               *bool
}

// FetchServiceConfig returns svc's configuration.
func (a *App) FetchServiceConfig(ctx context.Context, svc string) (parley.ServiceConfig, error) {
	ref, err := serviceRef(svc)
	if err != nil {
		return parley.ServiceConfig{}, err
	}
	return read(ctx, a, func(tx parley.Tx) (parley.ServiceConfig, error) { return found(tx.ServiceConfig(ctx, ref)) })
}

// UpdateServiceConfig sets the default roles and reachability. Each role
// must exist in the service (50100) and be of the right type (50105): a
// service role for users, conversation roles for participants.
func (a *App) UpdateServiceConfig(ctx context.Context, svc string, in ServiceConfigUpdate) (parley.ServiceConfig, error) {
	roles := []struct {
		param string
		value *string
		typ   parley.RoleType
	}{
		{"DefaultChatServiceRoleSid", in.DefaultChatServiceRoleSid, parley.RoleTypeService},
		{"DefaultConversationRoleSid", in.DefaultConversationRoleSid, parley.RoleTypeConversation},
		{"DefaultConversationCreatorRoleSid", in.DefaultConversationCreatorRoleSid, parley.RoleTypeConversation},
	}
	for _, r := range roles {
		if r.value != nil && !parley.IsSID(parley.PrefixRole, *r.value) {
			return parley.ServiceConfig{}, parley.InvalidParam("Invalid %s", r.param)
		}
	}
	var cfg parley.ServiceConfig
	err := a.update(ctx, func(tx parley.Tx, _ *events) error {
		ref, err := serviceRef(svc)
		if err != nil {
			return err
		}
		// Refer before you rewrite (see App.update): the roles first, then
		// the configuration's row; an unknown service is still the first
		// error.
		if _, err := tx.ServiceConfig(ctx, ref); err != nil {
			return notFound(err)
		}
		for _, r := range roles {
			if r.value == nil {
				continue
			}
			if err := checkRole(ctx, tx.ForShare(), ref, *r.value, r.typ); err != nil {
				return err
			}
		}
		if cfg, err = tx.ForUpdate().ServiceConfig(ctx, ref); err != nil {
			return notFound(err)
		}
		setIf(&cfg.DefaultChatServiceRoleSid, in.DefaultChatServiceRoleSid)
		setIf(&cfg.DefaultConversationRoleSid, in.DefaultConversationRoleSid)
		setIf(&cfg.DefaultConversationCreatorRoleSid, in.DefaultConversationCreatorRoleSid)
		setIf(&cfg.ReachabilityEnabled, in.ReachabilityEnabled)
		return tx.PutServiceConfig(ctx, cfg)
	})
	return cfg, err
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// AccountConfigUpdate changes the account configuration; nil leaves a
// field unchanged, and an empty string clears an optional one.
type AccountConfigUpdate struct {
	DefaultChatServiceSid      *string
	DefaultMessagingServiceSid *string
	DefaultInactiveTimer       *string
	DefaultClosedTimer         *string
}

// FetchAccountConfig returns the account configuration.
func (a *App) FetchAccountConfig(ctx context.Context) (parley.AccountConfig, error) {
	return read(ctx, a, func(tx parley.Tx) (parley.AccountConfig, error) { return tx.AccountConfig(ctx) })
}

// check refuses malformed SIDs and timers (20001, 50375, 50376).
func (in AccountConfigUpdate) check() error {
	if in.DefaultChatServiceSid != nil && !parley.IsSID(parley.PrefixService, *in.DefaultChatServiceSid) {
		return parley.InvalidParam("Invalid DefaultChatServiceSid")
	}
	if v := in.DefaultMessagingServiceSid; v != nil && *v != "" && !parley.IsSID("MG", *v) {
		return parley.InvalidParam("Invalid DefaultMessagingServiceSid")
	}
	timers := []struct {
		param   string
		value   *string
		minimum time.Duration
		code    int
	}{
		{"DefaultInactiveTimer", in.DefaultInactiveTimer, MinInactiveTimer, 50375},
		{"DefaultClosedTimer", in.DefaultClosedTimer, MinClosedTimer, 50376},
	}
	for _, t := range timers {
		if t.value != nil && *t.value != "" {
			if err := checkTimer(t.param, *t.value, t.minimum, t.code, 20001); err != nil {
				return err
			}
		}
	}
	return nil
}

// UpdateAccountConfig sets the default service (which shortened URLs follow
// at once), the default messaging service and the timers.
func (a *App) UpdateAccountConfig(ctx context.Context, in AccountConfigUpdate) (parley.AccountConfig, error) {
	if err := in.check(); err != nil {
		return parley.AccountConfig{}, err
	}
	var cfg parley.AccountConfig
	err := a.update(ctx, func(tx parley.Tx, _ *events) error {
		// Refer before you rewrite (see App.update): the new default
		// service first, then the configuration's row.
		if v := in.DefaultChatServiceSid; v != nil {
			if _, err := tx.ForShare().Service(ctx, *v); errors.Is(err, parley.ErrNotFound) {
				return parley.InvalidParam("Invalid DefaultChatServiceSid: no Conversation Service %s", *v)
			} else if err != nil {
				return err
			}
		}
		var err error
		if cfg, err = tx.ForUpdate().AccountConfig(ctx); err != nil {
			return err
		}
		setIf(&cfg.DefaultChatServiceSid, in.DefaultChatServiceSid)
		in.apply(&cfg)
		// A concurrent delete of the named service makes this write fail
		// with ErrDangling, and the store runs fn again, where the check
		// above answers.
		return tx.PutAccountConfig(ctx, cfg)
	})
	return cfg, err
}

// apply sets the optional fields given in in (all but the default chat
// service, which must be checked to exist first).
func (in AccountConfigUpdate) apply(cfg *parley.AccountConfig) {
	setOptional(&cfg.DefaultMessagingServiceSid, in.DefaultMessagingServiceSid)
	setOptional(&cfg.DefaultInactiveTimer, in.DefaultInactiveTimer)
	setOptional(&cfg.DefaultClosedTimer, in.DefaultClosedTimer)
}

// setOptional applies an optional string parameter: absent keeps, empty
// clears, anything else sets.
func setOptional(dst **string, v *string) {
	switch {
	case v == nil:
	case *v == "":
		*dst = nil
	default:
		s := *v
		*dst = &s
	}
}

// WebhookUpdate changes a webhook configuration; nil leaves a field
// unchanged, an empty URL clears it.
type WebhookUpdate struct {
	Method         *string
	Filters        []string // nil: unchanged
	PreWebhookURL  *string
	PostWebhookURL *string
	Target         *string // account level only
}

// Webhook event names a configuration's Filters may list: Twilio's
// Conversations events, plus parley's onUserRemoved extension.
var webhookEvents = []string{
	"onMessageAdd", "onMessageAdded", "onMessageUpdate", "onMessageUpdated", "onMessageRemove", "onMessageRemoved",
	"onConversationAdd", "onConversationAdded", "onConversationUpdate", "onConversationUpdated",
	"onConversationRemove", "onConversationRemoved", "onConversationStateUpdated",
	"onParticipantAdd", "onParticipantAdded", "onParticipantUpdate", "onParticipantUpdated",
	"onParticipantRemove", "onParticipantRemoved", "onDeliveryUpdated",
	string(parley.EventUserAdded), string(parley.EventUserUpdate), string(parley.EventUserUpdated),
	string(parley.EventUserRemoved),
}

func (in WebhookUpdate) check(account bool) error {
	if in.Method != nil && *in.Method != "GET" && *in.Method != "POST" {
		return parley.InvalidParam("Invalid Method: must be GET or POST")
	}
	for _, f := range in.Filters {
		if f != "" && !slices.Contains(webhookEvents, f) {
			return parley.InvalidParam("Invalid Filters: unknown event %q", f)
		}
	}
	if v := in.PreWebhookURL; v != nil && *v != "" {
		if err := checkWebhookURL(50077, "PreWebhookUrl", *v); err != nil {
			return err
		}
	}
	if v := in.PostWebhookURL; v != nil && *v != "" {
		if err := checkWebhookURL(50078, "PostWebhookUrl", *v); err != nil {
			return err
		}
	}
	if in.Target != nil {
		if !account {
			return parley.InvalidParam("Target is only set on the account-level webhook configuration")
		}
		if *in.Target != "webhook" && *in.Target != "flex" {
			return parley.InvalidParam("Invalid Target: must be webhook or flex")
		}
	}
	return nil
}

func (in WebhookUpdate) apply(c *parley.WebhookConfig) {
	if in.Method != nil {
		m := *in.Method
		c.Method = &m
	}
	if in.Filters != nil {
		c.Filters = distinctFilters(in.Filters)
	}
	setOptional(&c.PreWebhookURL, in.PreWebhookURL)
	setOptional(&c.PostWebhookURL, in.PostWebhookURL)
	if in.Target != nil {
		t := *in.Target
		c.Target = &t
	}
}

// distinctFilters keeps each event once, in first-seen order, and drops
// empty values; nothing left means every event again (nil), so that
// Filters= clears a filter list.
func distinctFilters(filters []string) []string {
	var out []string
	for _, f := range filters {
		if f != "" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// UpdateAccountWebhooks changes the account-level webhook configuration
// (fetch it with FetchAccountConfig; it shares the row). Errors: 20001,
// 50077 (bad PreWebhookUrl), 50078 (bad PostWebhookUrl).
func (a *App) UpdateAccountWebhooks(ctx context.Context, in WebhookUpdate) (parley.AccountConfig, error) {
	if err := in.check(true); err != nil {
		return parley.AccountConfig{}, err
	}
	var cfg parley.AccountConfig
	err := a.update(ctx, func(tx parley.Tx, _ *events) error {
		var err error
		if cfg, err = tx.ForUpdate().AccountConfig(ctx); err != nil {
			return err
		}
		in.apply(&cfg.Webhooks)
		return tx.PutAccountConfig(ctx, cfg)
	})
	return cfg, err
}

// UpdateServiceWebhooks changes a service's webhook configuration (fetch it
// with FetchServiceConfig; it shares the row). Errors: 20001, 50077, 50078,
// 404 20404.
func (a *App) UpdateServiceWebhooks(ctx context.Context, svc string, in WebhookUpdate) (parley.ServiceConfig, error) {
	if err := in.check(false); err != nil {
		return parley.ServiceConfig{}, err
	}
	var cfg parley.ServiceConfig
	err := a.update(ctx, func(tx parley.Tx, _ *events) error {
		ref, err := serviceRef(svc)
		if err != nil {
			return err
		}
		if cfg, err = tx.ForUpdate().ServiceConfig(ctx, ref); err != nil {
			return notFound(err)
		}
		in.apply(&cfg.Webhooks)
		return tx.PutServiceConfig(ctx, cfg)
	})
	return cfg, err
}
