package clientapi

import (
	"encoding/json"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/twilsock"
)

// Push registrations: @twilio/notifications registers a device's push
// token (setPushRegistrationId) with Twilio's registrar, ERS
// (ers.us1.twilio.com/v1/registrations), through the socket. parley keeps
// each as a binding of the user (core.RegisterBinding), which makes them
// notifiable; it sends no pushes (docs/compatibility.md).

// registerPush is POST v1/registrations: {channel_type, data:
// {registration_id}, message_types…}, with the credential of the
// token's chat grant (push_credential_sid). It answers the binding's SID
// as the registration's id.
func (h *Handler) registerPush(r *request) (twilsock.Response, error) {
	b, err := parseBody(r)
	if err != nil {
		return twilsock.Response{}, err
	}
	channel, err := b.str("channel_type")
	if err != nil {
		return twilsock.Response{}, err
	}
	var address *string
	if raw, ok := b["data"]; ok {
		var data body
		if err := json.Unmarshal(raw, &data); err != nil {
			return twilsock.Response{}, parley.InvalidParam("Invalid data: must be an object")
		}
		if address, err = data.str("registration_id"); err != nil {
			return twilsock.Response{}, err
		}
	}
	// The device pushes through the credential the token names.
	if r.grant.PushCredentialSid == "" && (channel == nil || *channel != "twilsock") {
		return twilsock.Response{}, parley.InvalidParam("The access token's chat grant names no push_credential_sid to register the device with")
	}
	identity, cred := r.grant.Identity, r.grant.PushCredentialSid
	bind, err := h.App.RegisterBinding(r.ctx, r.grant.ServiceSid,
		core.BindingInput{Identity: &identity, BindingType: channel, Address: address, CredentialSid: &cred}, r.sdk())
	return made(map[string]any{"id": bind.Sid, "channel_type": bind.BindingType, "message_types": bind.MessageTypes}, err)
}

// unregisterPush is DELETE v1/registrations/{id}: the client's own
// registration.
func (h *Handler) unregisterPush(r *request, id string) (twilsock.Response, error) {
	bind, err := h.App.FetchBinding(r.ctx, r.grant.ServiceSid, id)
	if err == nil && bind.UserSid != r.grant.UserSid {
		err = parley.NotFound() // another user's device is none of its business
	}
	if err == nil {
		err = h.App.DeleteBinding(r.ctx, r.grant.ServiceSid, bind.Sid, r.sdk())
	}
	return empty(err)
}

// unregisterDevice is DELETE v1/registrations with {binding_type,
// address}: a device's registration, whoever registered it last (the
// SDK sends it to clear a token it no longer trusts).
func (h *Handler) unregisterDevice(r *request) (twilsock.Response, error) {
	b, err := parseBody(r)
	if err != nil {
		return twilsock.Response{}, err
	}
	var typ, address *string
	if err := b.strs(map[string]**string{"binding_type": &typ, "address": &address}); err != nil {
		return twilsock.Response{}, err
	}
	if typ == nil || address == nil {
		return twilsock.Response{}, parley.InvalidParam("binding_type and address are required")
	}
	bind, err := h.App.FetchBindingByDevice(r.ctx, r.grant.ServiceSid, *typ, *address)
	if err == nil {
		err = h.App.DeleteBinding(r.ctx, r.grant.ServiceSid, bind.Sid, r.sdk())
	}
	return empty(err)
}
