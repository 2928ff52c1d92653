package core

import (
	"context"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

// addressTypes are the address types Twilio's spec lists
// (configuration_address_enum_type).
var addressTypes = []string{"sms", "whatsapp", "messenger", "gbm", "email", "rcs", "apple", "chat"}

// Limits of address configurations: the spec's 256 characters of friendly
// name and Twilio's documented 0–3 Studio retries (the address itself has
// MaxAddress, as a participant's).
const (
	MaxAddressFriendlyName = 256
	MaxStudioRetryCount    = 3
)

// AddressConfigInput is an address configuration create or update; nil is
// a parameter not sent. Type, Address and AddressCountry are create only.
type AddressConfigInput struct {
	Type, Address, FriendlyName, AddressCountry *string
	Enabled                                     *bool
	AutoType, ServiceSid                        *string
	WebhookURL, WebhookMethod                   *string
	WebhookFilters                              []string
	StudioFlowSid                               *string
	StudioRetryCount                            *int64
}

// errAddressTaken is decision 7's answer to a second configuration of an
// address.
var errAddressTaken = parley.Errorf(parley.KindConflict, 20001, "Address configuration already exists")

// apply checks in and writes it into c; the result is checked as a whole,
// so that an update is judged by the configuration it leaves. Errors are
// 400 20001 naming the parameter (decision 7), 50003 for a long name.
func (in AddressConfigInput) apply(c *parley.AddressConfig) error {
	if err := checkFriendlyName(in.FriendlyName, MaxAddressFriendlyName); err != nil {
		return err
	}
	if in.FriendlyName != nil {
		c.FriendlyName = emptyIsNil(in.FriendlyName)
	}
	ac := &c.AutoCreation
	if in.Enabled != nil {
		ac.Enabled = *in.Enabled
	}
	if in.AutoType != nil {
		t := strings.ToLower(*in.AutoType)
		if t != "webhook" && t != "studio" && t != "default" {
			return parley.InvalidParam("Invalid AutoCreation.Type: must be webhook, studio or default")
		}
		ac.Type = t
	}
	if in.ServiceSid != nil {
		if *in.ServiceSid != "" && !parley.IsSID(parley.PrefixService, *in.ServiceSid) {
			return parley.InvalidParam("Invalid AutoCreation.ConversationServiceSid: %q is not a Conversation Service SID", *in.ServiceSid)
		}
		ac.ServiceSid = *in.ServiceSid
	}
	if in.WebhookURL != nil {
		ac.WebhookURL = emptyIsNil(in.WebhookURL)
		if ac.WebhookURL != nil {
			if err := checkWebhookURL(20001, "AutoCreation.WebhookUrl", *ac.WebhookURL); err != nil {
				return err
			}
		}
	}
	if in.WebhookMethod != nil {
		m := strings.ToUpper(*in.WebhookMethod)
		if m != "GET" && m != "POST" {
			return parley.InvalidParam("Invalid AutoCreation.WebhookMethod: must be get or post")
		}
		ac.WebhookMethod = m
	}
	if in.WebhookFilters != nil {
		filters, err := canonicalFilters("AutoCreation.WebhookFilters", in.WebhookFilters, 20001)
		if err != nil {
			return err
		}
		ac.WebhookFilters = filters
	}
	if in.StudioFlowSid != nil {
		ac.StudioFlowSid = emptyIsNil(in.StudioFlowSid)
		if ac.StudioFlowSid != nil && !parley.IsSID("FW", *ac.StudioFlowSid) {
			return parley.InvalidParam("Invalid AutoCreation.StudioFlowSid: %q is not a Studio flow SID (FW…)", *in.StudioFlowSid)
		}
	}
	if in.StudioRetryCount != nil {
		if n := *in.StudioRetryCount; n < 0 || n > MaxStudioRetryCount {
			return parley.InvalidParam("Invalid AutoCreation.StudioRetryCount: must be 0 to %d", MaxStudioRetryCount)
		}
		ac.StudioRetryCount = in.StudioRetryCount
	}
	if ac.Type == "" {
		ac.Type = "default"
	}
	if ac.WebhookMethod == "" {
		ac.WebhookMethod = "POST"
	}
	// An enabled auto-creation must be able to do what its type says.
	switch {
	case !ac.Enabled:
	case ac.Type == "webhook" && ac.WebhookURL == nil:
		return parley.InvalidParam("AutoCreation.WebhookUrl is required when auto-creation of type webhook is enabled")
	case ac.Type == "studio" && ac.StudioFlowSid == nil:
		return parley.InvalidParam("AutoCreation.StudioFlowSid is required when auto-creation of type studio is enabled")
	}
	return nil
}

// canonicalFilters checks a list of conversation post-event names (any
// case) and writes them as Twilio spells them.
func canonicalFilters(param string, filters []string, code int) ([]string, error) {
	out := make([]string, len(filters))
	for i, f := range filters {
		j := slices.IndexFunc(scopedEvents, func(e parley.EventType) bool { return strings.EqualFold(string(e), f) })
		if j < 0 {
			return nil, parley.Errorf(parley.KindInvalid, code, "Invalid %s: %q is not a conversation event", param, f)
		}
		out[i] = string(scopedEvents[j])
	}
	return out, nil
}

// checkAutoCreationService checks that the service auto-created
// conversations go to exists, and keeps it from being deleted until the
// write commits.
func checkAutoCreationService(ctx context.Context, tx parley.Tx, c parley.AddressConfig) error {
	svc := c.AutoCreation.ServiceSid
	if svc == "" {
		return nil
	}
	if _, err := tx.ForShare().Service(ctx, svc); err != nil {
		if errors.Is(err, parley.ErrNotFound) {
			return parley.InvalidParam("Invalid AutoCreation.ConversationServiceSid: there is no service %s", svc)
		}
		return err
	}
	return nil
}

// CreateAddressConfig configures an address of the account. Errors: 20001
// (a parameter missing or wrong; 409 when the address has a
// configuration), 50003.
func (a *App) CreateAddressConfig(ctx context.Context, in AddressConfigInput) (parley.AddressConfig, error) {
	var c parley.AddressConfig
	if in.Type == nil || *in.Type == "" {
		return c, parley.MissingParam("Type")
	}
	if in.Address == nil || *in.Address == "" {
		return c, parley.MissingParam("Address")
	}
	c.Type = strings.ToLower(*in.Type)
	if !slices.Contains(addressTypes, c.Type) {
		return c, parley.InvalidParam("Invalid Type: must be one of %s", strings.Join(addressTypes, ", "))
	}
	c.Address = *in.Address
	if utf8.RuneCountInString(c.Address) > MaxAddress || strings.ContainsFunc(c.Address, isControl) {
		return c, parley.InvalidParam("Invalid Address: at most %d printable characters", MaxAddress)
	}
	if v := in.AddressCountry; v != nil && *v != "" {
		cc := strings.ToUpper(*v)
		if len(cc) != 2 || strings.ContainsFunc(cc, func(r rune) bool { return r < 'A' || r > 'Z' }) {
			return c, parley.InvalidParam("Invalid AddressCountry: %q is not an ISO 3166-1 alpha-2 country code", *v)
		}
		c.AddressCountry = &cc
	}
	if err := in.apply(&c); err != nil {
		return c, err
	}
	c.Sid = a.sids.New(parley.PrefixAddress)
	c.DateCreated = a.clock()
	c.DateUpdated = c.DateCreated
	err := a.update(ctx, func(tx parley.Tx, _ *events) error {
		if err := checkAutoCreationService(ctx, tx, c); err != nil {
			return err
		}
		if err := tx.CreateAddressConfig(ctx, c); errors.Is(err, parley.ErrConflict) {
			return errAddressTaken
		} else if err != nil {
			return err
		}
		return nil
	})
	return c, err
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// findAddressConfig reads a configuration by SID or by its address (the
// path's {Sid} takes either, "+" sent as %2B).
func findAddressConfig(ctx context.Context, tx parley.Tx, key string) (parley.AddressConfig, error) {
	if parley.IsSID(parley.PrefixAddress, key) {
		return found(tx.AddressConfig(ctx, key))
	}
	return found(tx.AddressConfigByAddress(ctx, key))
}

// FetchAddressConfig returns the configuration with SID or address key.
func (a *App) FetchAddressConfig(ctx context.Context, key string) (parley.AddressConfig, error) {
	return read(ctx, a, func(tx parley.Tx) (parley.AddressConfig, error) { return findAddressConfig(ctx, tx, key) })
}

// UpdateAddressConfig changes a configuration's name and auto-creation.
func (a *App) UpdateAddressConfig(ctx context.Context, key string, in AddressConfigInput) (parley.AddressConfig, error) {
	var c parley.AddressConfig
	err := a.update(ctx, func(tx parley.Tx, _ *events) error {
		var err error
		if c, err = findAddressConfig(ctx, tx, key); err != nil {
			return err
		}
		next := c
		next.AutoCreation.WebhookFilters = slices.Clone(c.AutoCreation.WebhookFilters)
		if err := in.apply(&next); err != nil {
			return err
		}
		if in.ServiceSid != nil {
			// Checked when sent: a configuration whose service was deleted
			// since can still be renamed, or pointed elsewhere.
			if err := checkAutoCreationService(ctx, tx, next); err != nil {
				return err
			}
		}
		// Locked after the service it refers to (parent first), then read
		// again so that a concurrent update's change is kept.
		if c, err = findAddressConfig(ctx, tx.ForUpdate(), c.Sid); err != nil {
			return err
		}
		if err := in.apply(&c); err != nil {
			return err
		}
		if c.AutoCreation.ServiceSid != next.AutoCreation.ServiceSid {
			return errLostRace // changed in between: check its new service
		}
		c.DateUpdated = a.clock()
		return notFound(tx.UpdateAddressConfig(ctx, c))
	})
	return c, err
}

// DeleteAddressConfig removes a configuration; conversations it created
// stay.
func (a *App) DeleteAddressConfig(ctx context.Context, key string) error {
	return a.update(ctx, func(tx parley.Tx, _ *events) error {
		c, err := findAddressConfig(ctx, tx, key)
		if err != nil {
			return err
		}
		return notFound(tx.DeleteAddressConfig(ctx, c.Sid))
	})
}

// ListAddressConfigs lists the account's configurations, of one type when
// typ is set (any case).
func (a *App) ListAddressConfigs(ctx context.Context, typ *string, q parley.PageQuery) (parley.Page[parley.AddressConfig], error) {
	t := ""
	if typ != nil {
		t = strings.ToLower(*typ)
		if !slices.Contains(addressTypes, t) {
			return parley.Page[parley.AddressConfig]{}, parley.InvalidParam("Invalid Type: must be one of %s", strings.Join(addressTypes, ", "))
		}
	}
	return read(ctx, a, func(tx parley.Tx) (parley.Page[parley.AddressConfig], error) { return tx.ListAddressConfigs(ctx, t, q) })
}
