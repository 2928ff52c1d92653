package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/parleyhq/parley"
)

// ---- Address configurations

const addressCols = `seq, sid, type, address, friendly_name, address_country, auto_creation, date_created, date_updated`

func scanAddressConfig(s scanner) (parley.AddressConfig, error) {
	var c parley.AddressConfig
	err := s.Scan(&c.Seq, &c.Sid, &c.Type, &c.Address, nullString{&c.FriendlyName}, nullString{&c.AddressCountry},
		jsonValue[parley.AutoCreation]{&c.AutoCreation}, seconds{&c.DateCreated}, seconds{&c.DateUpdated})
	return c, err
}

func (t *Tx) AddressConfig(ctx context.Context, sid string) (parley.AddressConfig, error) {
	return get(t, ctx, scanAddressConfig, "SELECT "+addressCols+" FROM address_configs WHERE sid = ?", sid)
}

func (t *Tx) AddressConfigByAddress(ctx context.Context, address string) (parley.AddressConfig, error) {
	return get(t, ctx, scanAddressConfig, "SELECT "+addressCols+" FROM address_configs WHERE address = ?", address)
}

func (t *Tx) ListAddressConfigs(ctx context.Context, typ string, q parley.PageQuery) (parley.Page[parley.AddressConfig], error) {
	from, args := "FROM address_configs WHERE 1 = 1", []any(nil)
	if typ != "" {
		from, args = from+" AND type = ?", append(args, typ)
	}
	return page(t, ctx, addressCols, from, args, q, scanAddressConfig,
		bySeq(func(c parley.AddressConfig) int64 { return c.Seq }))
}

func (t *Tx) CreateAddressConfig(ctx context.Context, c parley.AddressConfig) error {
	_, err := t.exec(ctx, false, `INSERT INTO address_configs (sid, type, address, friendly_name, address_country,
		auto_creation, date_created, date_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Sid, c.Type, c.Address, c.FriendlyName, c.AddressCountry, jsonArg(c.AutoCreation),
		t.d.Seconds(c.DateCreated), t.d.Seconds(c.DateUpdated))
	return err
}

func (t *Tx) UpdateAddressConfig(ctx context.Context, c parley.AddressConfig) error {
	return t.execOne(ctx, false, `UPDATE address_configs SET friendly_name = ?, auto_creation = ?, date_updated = ?
		WHERE sid = ?`, c.FriendlyName, jsonArg(c.AutoCreation), t.d.Seconds(c.DateUpdated), c.Sid)
}

func (t *Tx) DeleteAddressConfig(ctx context.Context, sid string) error {
	return t.execOne(ctx, true, "DELETE FROM address_configs WHERE sid = ?", sid)
}

// ---- Push bindings

const bindingCols = `seq, sid, service_sid, user_sid, identity, binding_type, endpoint, credential_sid,
	message_types, date_created, date_updated`

func scanBinding(s scanner) (parley.Binding, error) {
	var b parley.Binding
	err := s.Scan(&b.Seq, &b.Sid, &b.ServiceSid, &b.UserSid, &b.Identity, &b.BindingType, &b.Endpoint,
		nullString{&b.CredentialSid}, stringList{&b.MessageTypes}, seconds{&b.DateCreated}, seconds{&b.DateUpdated})
	return b, err
}

func (t *Tx) Binding(ctx context.Context, serviceSid, sid string) (parley.Binding, error) {
	return get(t, ctx, scanBinding, "SELECT "+bindingCols+" FROM bindings WHERE sid = ? AND service_sid = "+serviceRef,
		sid, serviceSid)
}

func (t *Tx) BindingByEndpoint(ctx context.Context, serviceSid, bindingType, endpoint string) (parley.Binding, error) {
	return get(t, ctx, scanBinding, "SELECT "+bindingCols+` FROM bindings
		WHERE service_sid = ? AND binding_type = ? AND endpoint = ?`, serviceSid, bindingType, endpoint)
}

func (t *Tx) ListBindings(ctx context.Context, serviceSid string, f parley.BindingFilter, q parley.PageQuery) (parley.Page[parley.Binding], error) {
	from, args := "FROM bindings WHERE service_sid = "+serviceRef, []any{serviceSid}
	from, args = whereIn(from, args, "binding_type", f.BindingTypes)
	from, args = whereIn(from, args, "identity", f.Identities)
	return page(t, ctx, bindingCols, from, args, q, scanBinding, bySeq(func(b parley.Binding) int64 { return b.Seq }))
}

// whereIn narrows a query to rows whose column holds one of values (all
// rows when there are none).
func whereIn(from string, args []any, column string, values []string) (string, []any) {
	if len(values) == 0 {
		return from, args
	}
	from += fmt.Sprintf(" AND %s IN (%s)", column, strings.TrimSuffix(strings.Repeat("?, ", len(values)), ", "))
	for _, v := range values {
		args = append(args, v)
	}
	return from, args
}

func (t *Tx) CreateBinding(ctx context.Context, b parley.Binding) error {
	_, err := t.exec(ctx, false, `INSERT INTO bindings (sid, service_sid, user_sid, identity, binding_type, endpoint,
		credential_sid, message_types, date_created, date_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		b.Sid, b.ServiceSid, b.UserSid, b.Identity, b.BindingType, b.Endpoint, b.CredentialSid, listArg(b.MessageTypes),
		t.d.Seconds(b.DateCreated), t.d.Seconds(b.DateUpdated))
	return err
}

func (t *Tx) UpdateBinding(ctx context.Context, b parley.Binding) error {
	return t.execOne(ctx, false, `UPDATE bindings SET user_sid = ?, identity = ?, credential_sid = ?, message_types = ?,
		date_updated = ? WHERE sid = ?`, b.UserSid, b.Identity, b.CredentialSid, listArg(b.MessageTypes),
		t.d.Seconds(b.DateUpdated), b.Sid)
}

func (t *Tx) DeleteBinding(ctx context.Context, serviceSid, sid string) error {
	return t.execOne(ctx, true, "DELETE FROM bindings WHERE sid = ? AND service_sid = ?", sid, serviceSid)
}

func (t *Tx) SetOnline(ctx context.Context, userSid string, online bool) error {
	return t.execOne(ctx, false, `UPDATE users SET is_online = ? WHERE sid = ?`, online, userSid)
}

func (t *Tx) RefreshNotifiable(ctx context.Context, userSid string) error {
	return t.execOne(ctx, false, `UPDATE users SET is_notifiable = EXISTS (SELECT 1 FROM bindings WHERE user_sid = ?)
		WHERE sid = ?`, userSid, userSid)
}
