package core

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parleyhq/parley"
)

// Access tokens are how client SDKs sign in (semantics-conversations.md
// §10): a JWT that the app's backend signs, HS256, with the secret of one
// of the account's API keys, naming the user (grants.identity) and the
// Conversation Service (grants.chat.service_sid). parley keeps no key
// secrets, only their HMAC key schedules (keys.go), which both check a
// signature and make one.

// MaxTokenLifetime is Twilio's limit: tokens live "up to 24 hours" (20157
// beyond).
const MaxTokenLifetime = 24 * time.Hour

// AccessToken is a verified access token.
type AccessToken struct {
	KeySid     string // iss: the API key that signed it
	Identity   string
	ServiceSid string // the Conversation Service it signs into
	// PushCredentialSid is the chat grant's push credential, if any.
	PushCredentialSid string
	Expires           time.Time
}

// accessClaims are the claims Twilio's SDKs put in a token.
type accessClaims struct {
	jwt.RegisteredClaims
	Grants struct {
		Identity any        `json:"identity"`
		Chat     *chatGrant `json:"chat"`
		// ip_messaging is the chat grant's old name, which twilio-go still
		// decodes.
		IPMessaging *chatGrant `json:"ip_messaging"`
	} `json:"grants"`
}

type chatGrant struct {
	ServiceSid        string `json:"service_sid"`
	EndpointID        string `json:"endpoint_id,omitempty"`
	PushCredentialSid string `json:"push_credential_sid,omitempty"`
}

// tokenError is a refused token: 401 with one of Twilio's 2010x codes.
func tokenError(code int, format string, args ...any) *parley.Error {
	return parley.Errorf(parley.KindUnauthorized, code, format, args...)
}

// tokenType is the header's cty of Twilio access tokens.
const tokenType = "twilio-fpa;v=1"

// VerifyAccessToken checks an access token and returns what it grants.
// Refusals are 401s with Twilio's codes: 20101 not a token, 20102 a
// header other than Twilio's (alg HS256, cty twilio-fpa;v=1), 20103 an
// issuer that is no API key SID or a subject that is not this account,
// 20107 a signature that is not the key's (unknown or revoked key, other
// secret), 20104 expired or without expiry, 20105 not yet valid, 20157 a
// lifetime over 24 hours, 20106 grants without identity or chat service,
// or naming a service that does not exist.
func (a *App) VerifyAccessToken(ctx context.Context, raw string) (AccessToken, error) {
	var claims accessClaims
	tok, parts, err := jwt.NewParser().ParseUnverified(raw, &claims)
	if err != nil || len(parts) != 3 {
		return AccessToken{}, tokenError(20101, "Invalid Access Token")
	}
	if tok.Header["alg"] != "HS256" || tok.Header["cty"] != tokenType {
		return AccessToken{}, tokenError(20102, "Invalid Access Token header: want alg HS256 and cty %s", tokenType)
	}
	if !parley.IsSID(parley.PrefixAPIKey, claims.Issuer) || claims.Subject != a.account.Sid {
		return AccessToken{}, tokenError(20103, "Invalid Access Token issuer/subject: iss must be an API key SID and sub this account's SID")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return AccessToken{}, tokenError(20107, "Invalid Access Token signature")
	}
	switch err := a.CheckKeySignature(ctx, claims.Issuer, []byte(parts[0]+"."+parts[1]), sig); {
	case errors.Is(err, ErrKeyCannotSign):
		return AccessToken{}, tokenError(20107, "Invalid Access Token signature: API key %s was created before parley could check tokens; create a new key", claims.Issuer)
	case errors.Is(err, errBadSignature):
		return AccessToken{}, tokenError(20107, "Invalid Access Token signature: not signed by an active API key of this account")
	case err != nil:
		return AccessToken{}, err
	}
	now := a.now()
	err = jwt.NewValidator(jwt.WithTimeFunc(func() time.Time { return now }), jwt.WithExpirationRequired()).Validate(claims)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired), errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return AccessToken{}, tokenError(20104, "Access Token expired or expiration date invalid")
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return AccessToken{}, tokenError(20105, "Access Token not yet valid")
	case err != nil:
		return AccessToken{}, tokenError(20101, "Invalid Access Token")
	}
	start := now
	switch {
	case claims.NotBefore != nil:
		start = claims.NotBefore.Time
	case claims.IssuedAt != nil:
		start = claims.IssuedAt.Time
	}
	if claims.ExpiresAt.Sub(start) > MaxTokenLifetime {
		return AccessToken{}, tokenError(20157, "Expiration Time Exceeds Maximum Time Allowed: an Access Token lives at most 24 hours")
	}
	identity, _ := claims.Grants.Identity.(string)
	grant := claims.Grants.Chat
	if grant == nil {
		grant = claims.Grants.IPMessaging
	}
	if identity == "" || grant == nil || !parley.IsSID(parley.PrefixService, grant.ServiceSid) {
		return AccessToken{}, tokenError(20106, "Invalid Access Token grants: want an identity and a chat grant with a service_sid")
	}
	if _, err := read(ctx, a, func(tx parley.Tx) (parley.Service, error) { return tx.Service(ctx, grant.ServiceSid) }); errors.Is(err, parley.ErrNotFound) {
		return AccessToken{}, tokenError(20106, "Invalid Access Token grants: there is no service %s", grant.ServiceSid)
	} else if err != nil {
		return AccessToken{}, err
	}
	return AccessToken{KeySid: claims.Issuer, Identity: identity, ServiceSid: grant.ServiceSid,
		PushCredentialSid: grant.PushCredentialSid, Expires: claims.ExpiresAt.Time.UTC()}, nil
}

// MintAccessToken makes an access token, as twilio-go and twilio-node do,
// signed with API key keySid's schedule: for local development, where
// parley is both the backend and the server (`parley token`). svc ""
// is the default service.
func (a *App) MintAccessToken(ctx context.Context, keySid, identity, svc string, ttl time.Duration) (string, error) {
	if identity == "" {
		return "", parley.MissingParam("identity")
	}
	if ttl <= 0 || ttl > MaxTokenLifetime {
		return "", parley.InvalidParam("Invalid ttl %s: an Access Token lives more than 0 and at most 24 hours", ttl)
	}
	type minted struct {
		key    parley.APIKey
		svcSid string
	}
	m, err := read(ctx, a, func(tx parley.Tx) (minted, error) {
		key, err := tx.APIKey(ctx, keySid)
		if err != nil {
			return minted{}, notFound(err)
		}
		ref, err := serviceRef(svc)
		if err != nil {
			return minted{}, err
		}
		cfg, err := tx.ServiceConfig(ctx, ref)
		return minted{key, cfg.ServiceSid}, notFound(err)
	})
	if err != nil {
		return "", err
	}
	switch {
	case m.key.DateRevoked != nil:
		return "", parley.InvalidParam("API key %s is revoked", keySid)
	case m.key.SigningState == nil:
		return "", ErrKeyCannotSign
	}
	now := a.now().UTC()
	header := map[string]string{"alg": "HS256", "typ": "JWT", "cty": tokenType}
	claims := map[string]any{
		"jti": keySid + "-" + strconv.FormatInt(now.Unix(), 10),
		"iss": keySid, "sub": a.account.Sid,
		"nbf": now.Unix(), "exp": now.Add(ttl).Unix(),
		"grants": map[string]any{"identity": identity, "chat": chatGrant{ServiceSid: m.svcSid}},
	}
	var parts []string
	for _, v := range []any{header, claims} {
		b, err := json.Marshal(v)
		if err != nil {
			return "", err
		}
		parts = append(parts, base64.RawURLEncoding.EncodeToString(b))
	}
	signed := strings.Join(parts, ".")
	mac, err := scheduledMAC(m.key.SigningState, []byte(signed))
	if err != nil {
		return "", err
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(mac), nil
}

// SignIn is a client SDK user's arrival with a verified token: the user of
// the token's identity, created with the service's default role when it
// connects for the first time, as Twilio does (onUserAdded, Source SDK).
func (a *App) SignIn(ctx context.Context, tok AccessToken) (parley.User, error) {
	if err := checkIdentity(tok.Identity); err != nil {
		return parley.User{}, tokenError(20106, "Invalid Access Token grants: %s", parley.AsError(err).Message)
	}
	u, err := read(ctx, a, func(tx parley.Tx) (parley.User, error) { return tx.UserByIdentity(ctx, tok.ServiceSid, tok.Identity) })
	if !errors.Is(err, parley.ErrNotFound) {
		return u, err
	}
	opts := WriteOptions{Webhooks: true, Source: parley.SourceSDK, ClientIdentity: tok.Identity}
	err = a.update(ctx, func(tx parley.Tx, ev *events) error {
		cfg, err := tx.ServiceConfig(ctx, tok.ServiceSid)
		if err != nil {
			return notFound(err)
		}
		u, err = a.participantUser(ctx, tx, ev, cfg, tok.Identity, opts)
		return err
	})
	return u, err
}
