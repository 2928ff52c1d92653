package core

import (
	"context"
	"encoding/pem"
	"strings"

	"github.com/parleyhq/parley"
)

// CredentialInput is a credential create or update request; nil is a
// parameter not sent.
type CredentialInput struct {
	Type         *string
	FriendlyName *string
	Certificate  *string // APN
	PrivateKey   *string // APN
	Sandbox      *bool   // APN
	APIKey       *string // GCM
	Secret       *string // FCM
}

// MaxCredentialFriendlyName is the spec's limit ("up to 64 characters").
const MaxCredentialFriendlyName = 64

// apply checks in and applies it to c. Twilio documents no codes for
// credential validation; parley answers 400 20001 naming the parameter
// (docs/compatibility.md), and 50003 for a long name as elsewhere.
func (in CredentialInput) apply(c *parley.Credential) error {
	if in.Type != nil {
		t := parley.CredentialType(strings.ToLower(*in.Type))
		if t != parley.CredentialAPN && t != parley.CredentialGCM && t != parley.CredentialFCM {
			return parley.InvalidParam("Invalid Type: must be apn, gcm or fcm")
		}
		if t != c.Type {
			// Another push service: the old one's secrets mean nothing.
			*c = parley.Credential{Seq: c.Seq, Sid: c.Sid, FriendlyName: c.FriendlyName, Type: t,
				DateCreated: c.DateCreated, DateUpdated: c.DateUpdated}
		}
	}
	if err := checkFriendlyName(in.FriendlyName, MaxCredentialFriendlyName); err != nil {
		return err
	}
	if in.FriendlyName != nil {
		c.FriendlyName = emptyIsNil(in.FriendlyName)
	}
	// Each secret belongs to one push service: sent for another, it is a
	// mistake worth reporting, not a value to drop silently.
	secrets := []struct {
		param string
		value *string
		typ   parley.CredentialType
		dst   *string
		check func(string) bool
	}{
		{"Certificate", in.Certificate, parley.CredentialAPN, &c.APNCertificate, pemOf("CERTIFICATE")},
		{"PrivateKey", in.PrivateKey, parley.CredentialAPN, &c.APNPrivateKey, pemOf("PRIVATE KEY")},
		{"ApiKey", in.APIKey, parley.CredentialGCM, &c.GCMAPIKey, nonEmpty},
		{"Secret", in.Secret, parley.CredentialFCM, &c.FCMSecret, nonEmpty},
	}
	for _, s := range secrets {
		switch {
		case s.value == nil:
		case s.typ != c.Type:
			return parley.InvalidParam("Invalid %s: only %s credentials take it", s.param, s.typ)
		case !s.check(*s.value):
			return parley.InvalidParam("Invalid %s: %s", s.param, describe(s.param))
		default:
			*s.dst = *s.value
		}
	}
	if in.Sandbox != nil {
		if c.Type != parley.CredentialAPN {
			return parley.InvalidParam("Invalid Sandbox: only apn credentials take it")
		}
		c.Sandbox = *in.Sandbox
	}
	for _, s := range secrets {
		if s.typ == c.Type && *s.dst == "" {
			return parley.MissingParam(s.param)
		}
	}
	return nil
}

// pemOf accepts text holding a PEM block whose type ends with kind
// ("CERTIFICATE"; "PRIVATE KEY" covers RSA, EC and PKCS #8 keys).
func pemOf(kind string) func(string) bool {
	return func(v string) bool {
		block, _ := pem.Decode([]byte(strings.TrimSpace(v)))
		return block != nil && strings.HasSuffix(block.Type, kind)
	}
}

func nonEmpty(v string) bool { return v != "" }

func describe(param string) string {
	switch param {
	case "Certificate":
		return "must be a PEM-encoded certificate (-----BEGIN CERTIFICATE-----…)"
	case "PrivateKey":
		return "must be a PEM-encoded private key (-----BEGIN RSA PRIVATE KEY-----…)"
	}
	return "must not be empty"
}

// CreateCredential adds a push credential. Errors: 20001 (Type missing or
// wrong, a secret missing, malformed or of another type), 50003.
func (a *App) CreateCredential(ctx context.Context, in CredentialInput) (parley.Credential, error) {
	if in.Type == nil {
		return parley.Credential{}, parley.MissingParam("Type")
	}
	now := a.clock()
	c := parley.Credential{DateCreated: now, DateUpdated: now}
	if err := in.apply(&c); err != nil {
		return parley.Credential{}, err
	}
	c.Sid = a.sids.New(parley.PrefixCredential)
	err := a.update(ctx, func(tx parley.Tx, _ *events) error { return tx.CreateCredential(ctx, c) })
	return c, err
}

// FetchCredential returns a credential; 404 20404 if there is none.
func (a *App) FetchCredential(ctx context.Context, sid string) (parley.Credential, error) {
	return read(ctx, a, func(tx parley.Tx) (parley.Credential, error) { return found(tx.Credential(ctx, sid)) })
}

// UpdateCredential changes a credential: its name, its secrets, or its
// type (which then needs the new type's secrets).
func (a *App) UpdateCredential(ctx context.Context, sid string, in CredentialInput) (parley.Credential, error) {
	var c parley.Credential
	err := a.update(ctx, func(tx parley.Tx, _ *events) error {
		var err error
		if c, err = tx.ForUpdate().Credential(ctx, sid); err != nil {
			return notFound(err)
		}
		if err := in.apply(&c); err != nil {
			return err
		}
		c.DateUpdated = a.clock()
		return notFound(tx.UpdateCredential(ctx, c))
	})
	return c, err
}

// DeleteCredential removes a credential.
func (a *App) DeleteCredential(ctx context.Context, sid string) error {
	return a.update(ctx, func(tx parley.Tx, _ *events) error { return notFound(tx.DeleteCredential(ctx, sid)) })
}

// ListCredentials returns one page of the account's credentials in
// creation order.
func (a *App) ListCredentials(ctx context.Context, q parley.PageQuery) (parley.Page[parley.Credential], error) {
	return read(ctx, a, func(tx parley.Tx) (parley.Page[parley.Credential], error) { return tx.ListCredentials(ctx, q) })
}
