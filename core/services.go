package core

import (
	"context"
	"errors"

	"github.com/parleyhq/parley"
)

// CreateService creates a Conversation Service with its default roles and
// configuration. Errors: 20001 (FriendlyName missing), 50003 (too long).
func (a *App) CreateService(ctx context.Context, friendlyName string) (parley.Service, error) {
	if friendlyName == "" {
		return parley.Service{}, parley.MissingParam("FriendlyName")
	}
	if err := checkFriendlyName(&friendlyName, MaxFriendlyName); err != nil {
		return parley.Service{}, err
	}
	var svc parley.Service
	err := a.update(ctx, func(tx parley.Tx, _ *events) error {
		var err error
		svc, err = createService(ctx, tx, a.sids, a.sids.New(parley.PrefixService), friendlyName, a.clock())
		return err
	})
	return svc, err
}

// FetchService returns a service; 404 20404 if there is none.
func (a *App) FetchService(ctx context.Context, sid string) (parley.Service, error) {
	if !parley.IsSID(parley.PrefixService, sid) {
		return parley.Service{}, parley.NotFound() // and "" must not reach the store as "the default"
	}
	return read(ctx, a, func(tx parley.Tx) (parley.Service, error) { return found(tx.Service(ctx, sid)) })
}

// ListServices returns one page of services in creation order.
func (a *App) ListServices(ctx context.Context, q parley.PageQuery) (parley.Page[parley.Service], error) {
	return read(ctx, a, func(tx parley.Tx) (parley.Page[parley.Service], error) { return tx.ListServices(ctx, q) })
}

// errDefaultService refuses to delete the service that shortened URLs act
// on. Twilio documents no code for this; parley answers 409 with 20001.
var errDefaultService = parley.Errorf(parley.KindConflict, 20001,
	"The default Conversation Service cannot be deleted: make another service the default first (POST /v1/Configuration DefaultChatServiceSid)")

// DeleteService removes a service and everything in it in one transaction.
func (a *App) DeleteService(ctx context.Context, sid string) error {
	if !parley.IsSID(parley.PrefixService, sid) {
		return parley.NotFound()
	}
	return a.update(ctx, func(tx parley.Tx, _ *events) error {
		cfg, err := tx.AccountConfig(ctx)
		if err != nil {
			return err
		}
		if cfg.DefaultChatServiceSid == sid {
			return errDefaultService
		}
		err = tx.DeleteService(ctx, sid)
		if errors.Is(err, parley.ErrInUse) {
			// The account configuration was pointed at it meanwhile.
			return errDefaultService
		}
		return notFound(err)
	})
}
