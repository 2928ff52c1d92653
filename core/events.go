package core

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
)

// Webhook event types parley sends for users (semantics.md §6).
// EventUserRemoved is a parley extension: Twilio has no user-removed event,
// so it is sent only when a configuration's Filters name it.
const (
	EventUserAdded   = "onUserAdded"
	EventUserUpdate  = "onUserUpdate" // pre-event
	EventUserUpdated = "onUserUpdated"
	EventUserRemoved = "onUserRemoved"
)

// events counts the deliveries one write transaction queued.
type events struct{ queued int }

// webhookTarget picks the configuration that governs a service's events:
// the service's own when it has any webhook URL, else the account's. On
// Twilio, "service-scoped webhooks override your global webhook settings
// such that only the service-scoped hooks will fire" (Per-Service Webhook
// Resource docs).
func webhookTarget(ctx context.Context, tx parley.Tx, svc string) (parley.WebhookConfig, error) {
	scfg, err := tx.ServiceConfig(ctx, svc)
	if err != nil {
		return parley.WebhookConfig{}, notFound(err)
	}
	if scfg.Webhooks.Configured() {
		return scfg.Webhooks, nil
	}
	acfg, err := tx.AccountConfig(ctx)
	if err != nil {
		return parley.WebhookConfig{}, err
	}
	return acfg.Webhooks, nil
}

// wants reports whether the configuration asks for event.
func wants(cfg parley.WebhookConfig, event string) bool {
	if event == EventUserRemoved {
		return slices.Contains(cfg.Filters, event)
	}
	return len(cfg.Filters) == 0 || slices.Contains(cfg.Filters, event)
}

func method(cfg parley.WebhookConfig) string {
	if cfg.Method != nil {
		return *cfg.Method
	}
	return "POST"
}

// postEvent queues a post-event delivery in tx, so that it commits (or not)
// with the change it reports.
func (a *App) postEvent(ctx context.Context, tx parley.Tx, ev *events, svc, event string, params url.Values) error {
	cfg, err := webhookTarget(ctx, tx, svc)
	if err != nil {
		return err
	}
	if cfg.PostWebhookURL == nil || !wants(cfg, event) {
		return nil
	}
	now := a.now().UTC()
	d := parley.Delivery{
		Sid:           a.sids.New(parley.PrefixDelivery),
		EventType:     event,
		ServiceSid:    svc,
		URL:           *cfg.PostWebhookURL,
		Method:        method(cfg),
		Params:        params.Encode(),
		Status:        parley.DeliveryPending,
		NextAttemptAt: now,
		DateCreated:   now,
		DateUpdated:   now,
	}
	if err := tx.EnqueueDelivery(ctx, d); err != nil {
		return err
	}
	ev.queued++
	return nil
}

// preEvents reports whether a REST write runs pre-event webhooks: only
// with the parley extension on and X-Twilio-Webhook-Enabled: true.
func (a *App) preEvents(opts WriteOptions) bool {
	return opts.Webhooks && a.restPreEvents && a.preHook != nil
}

// preEvent runs a pre-event webhook before a write (callers check
// preEvents first). A rejection comes back as the error to return to the
// caller.
func (a *App) preEvent(ctx context.Context, svc, event string, params url.Values) error {
	var cfg parley.WebhookConfig
	err := a.store.View(ctx, func(tx parley.Tx) error {
		var err error
		cfg, err = webhookTarget(ctx, tx, svc)
		return err
	})
	if err != nil {
		return err
	}
	if cfg.PreWebhookURL == nil || !wants(cfg, event) {
		return nil
	}
	return a.preHook.Call(ctx, Target{URL: *cfg.PreWebhookURL, Method: method(cfg)}, params)
}

// userParams are the form parameters of a user event, as Twilio's webhook
// documentation lists them: the common AccountSid, EventType and Source,
// then the user's fields. Unset values are sent empty.
func (a *App) userParams(event string, u parley.User) url.Values {
	v := url.Values{
		"AccountSid":     {a.account.Sid},
		"EventType":      {event},
		"Source":         {"API"},
		"ChatServiceSid": {u.ServiceSid},
		"UserSid":        {u.Sid},
		"Identity":       {u.Identity},
		"RoleSid":        {u.RoleSid},
		"Attributes":     {u.Attributes},
		"FriendlyName":   {deref(u.FriendlyName)},
	}
	switch event {
	case EventUserAdded:
		v.Set("DateCreated", formatTime(u.DateCreated))
	case EventUserUpdate:
		v.Set("DateUpdated", formatTime(u.DateUpdated))
	case EventUserUpdated:
		v.Set("DateCreated", formatTime(u.DateCreated))
		v.Set("DateUpdated", formatTime(u.DateUpdated))
		v.Set("isOnline", optBool(u.IsOnline))
		v.Set("isNotifiable", optBool(u.IsNotifiable))
	case EventUserRemoved:
		v.Set("DateCreated", formatTime(u.DateCreated))
		v.Set("DateUpdated", formatTime(u.DateUpdated))
		v.Set("DateRemoved", formatTime(a.clock()))
	}
	return v
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func optBool(p *bool) string {
	if p == nil {
		return ""
	}
	return strconv.FormatBool(*p)
}

// ListDeliveries returns one page of the webhook outbox, oldest first: what
// was sent where, how often, and how it went (a parley extension for people
// testing their webhook handlers).
func (a *App) ListDeliveries(ctx context.Context, q parley.PageQuery) (parley.Page[parley.Delivery], error) {
	var p parley.Page[parley.Delivery]
	err := a.store.View(ctx, func(tx parley.Tx) error {
		var err error
		p, err = tx.ListDeliveries(ctx, q)
		return err
	})
	return p, err
}
