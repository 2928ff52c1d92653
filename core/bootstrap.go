package core

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/parleyhq/parley"
)

// BootstrapOptions fix the credentials of a new database, or check and
// update those of an existing one. Empty fields mean "mint" or "keep".
type BootstrapOptions struct {
	AccountSid string
	AuthToken  string
	SIDs       parley.SIDs
	Now        func() time.Time
}

// Boot is what Bootstrap found or made.
type Boot struct {
	Account           parley.Account
	DefaultServiceSid string
	Created           bool // this call minted the account
	TokenChanged      bool // the stored auth token was replaced by the one given
}

// Bootstrap makes sure the database holds an account, its default
// Conversation Service (with default roles and configuration) and the
// account configuration naming it. On the first start it mints them; later
// starts reuse them. It runs in one write transaction, so several nodes
// starting at once on one database agree: one creates, the others (after a
// conflict and a retry) find.
//
// A given AccountSid must match the stored one (the data belongs to that
// account); a given AuthToken different from the stored one replaces it.
func Bootstrap(ctx context.Context, store parley.Store, o BootstrapOptions) (Boot, error) {
	if o.AccountSid != "" && !parley.IsSID(parley.PrefixAccount, o.AccountSid) {
		return Boot{}, fmt.Errorf("account SID %q is not AC followed by 32 hex digits", o.AccountSid)
	}
	if o.AuthToken != "" && !alphanumeric(o.AuthToken) {
		// twilio-go refuses non-alphanumeric credentials before sending.
		return Boot{}, errors.New("auth token must be letters and digits only (the Twilio SDKs refuse anything else)")
	}
	if o.SIDs == nil {
		o.SIDs = parley.RandomSIDs{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	var boot Boot
	var err error
	for range 3 {
		err = store.Update(ctx, func(tx parley.Tx) error {
			boot = Boot{}
			return bootstrapTx(ctx, tx, o, &boot)
		})
		if !errors.Is(err, parley.ErrConflict) {
			break
		}
		// Another node created the account between our read and our
		// insert; the next round finds it.
	}
	return boot, err
}

func bootstrapTx(ctx context.Context, tx parley.Tx, o BootstrapOptions, boot *Boot) error {
	acct, err := tx.Account(ctx)
	switch {
	case err == nil:
		if o.AccountSid != "" && o.AccountSid != acct.Sid {
			return fmt.Errorf("this database belongs to account %s, not %s: use another database or drop --account-sid", acct.Sid, o.AccountSid)
		}
		if o.AuthToken != "" && o.AuthToken != acct.AuthToken {
			if err := tx.SetAuthToken(ctx, o.AuthToken); err != nil {
				return err
			}
			acct.AuthToken = o.AuthToken
			boot.TokenChanged = true
		}
		cfg, err := tx.AccountConfig(ctx)
		if err != nil {
			return fmt.Errorf("account configuration: %w", err)
		}
		boot.Account, boot.DefaultServiceSid = acct, cfg.DefaultChatServiceSid
		return nil
	case !errors.Is(err, parley.ErrNotFound):
		return err
	}

	now := o.Now().UTC().Truncate(time.Second)
	acct = parley.Account{
		Sid:         o.AccountSid,
		AuthToken:   o.AuthToken,
		PageKey:     make([]byte, 32),
		DateCreated: now,
	}
	if acct.Sid == "" {
		acct.Sid = o.SIDs.New(parley.PrefixAccount)
	}
	if acct.AuthToken == "" {
		acct.AuthToken = NewAuthToken()
	}
	rand.Read(acct.PageKey)
	if err := tx.CreateAccount(ctx, acct); err != nil {
		return err
	}
	svc, err := createService(ctx, tx, o.SIDs, o.SIDs.New(parley.PrefixService), defaultServiceName, now)
	if err != nil {
		return err
	}
	if err := tx.PutAccountConfig(ctx, parley.AccountConfig{DefaultChatServiceSid: svc.Sid}); err != nil {
		return err
	}
	boot.Account, boot.DefaultServiceSid, boot.Created = acct, svc.Sid, true
	return nil
}

// defaultServiceName is the name of the service a new database (or a
// reset one) starts with.
const defaultServiceName = "Default Conversations Service"

// createService writes service sid with its default roles and
// configuration.
func createService(ctx context.Context, tx parley.Tx, sids parley.SIDs, sid, name string, now time.Time) (parley.Service, error) {
	svc := parley.Service{Sid: sid, FriendlyName: name, DateCreated: now, DateUpdated: now}
	if err := tx.CreateService(ctx, svc); err != nil {
		return svc, err
	}
	serviceAdmin, serviceUser, channelAdmin, channelUser := parley.DefaultRoles()
	roles := []*parley.Role{&serviceAdmin, &serviceUser, &channelAdmin, &channelUser}
	for _, r := range roles {
		r.Sid, r.ServiceSid, r.DateCreated, r.DateUpdated = sids.New(parley.PrefixRole), svc.Sid, now, now
		if err := tx.CreateRole(ctx, *r); err != nil {
			return svc, err
		}
	}
	err := tx.PutServiceConfig(ctx, parley.ServiceConfig{
		ServiceSid:                        svc.Sid,
		DefaultChatServiceRoleSid:         serviceUser.Sid,
		DefaultConversationRoleSid:        channelUser.Sid,
		DefaultConversationCreatorRoleSid: channelAdmin.Sid,
	})
	return svc, err
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewAuthToken returns 32 random lowercase hex digits, the shape of a Twilio
// auth token.
func NewAuthToken() string { return parley.NewSID("") }

// newSecret returns 32 random letters and digits (about 190 bits), the
// shape of a Twilio API key secret.
func newSecret() string {
	b := make([]byte, 32)
	for i := range b {
		// 256 is not a multiple of 62: redraw bytes at or above the
		// largest multiple (248) so every character is equally likely.
		for {
			var c [1]byte
			rand.Read(c[:])
			if c[0] < 248 {
				b[i] = alphabet[int(c[0])%len(alphabet)]
				break
			}
		}
	}
	return string(b)
}

func alphanumeric(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return s != ""
}
