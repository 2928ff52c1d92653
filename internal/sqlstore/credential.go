package sqlstore

import (
	"context"

	"github.com/parleyhq/parley"
)

// ---- Push credentials

const credentialCols = `seq, sid, friendly_name, type, sandbox, apn_certificate, apn_private_key,
	gcm_api_key, fcm_secret, date_created, date_updated`

func scanCredential(s scanner) (parley.Credential, error) {
	var c parley.Credential
	err := s.Scan(&c.Seq, &c.Sid, nullString{&c.FriendlyName}, &c.Type, boolean{&c.Sandbox}, &c.APNCertificate,
		&c.APNPrivateKey, &c.GCMAPIKey, &c.FCMSecret, seconds{&c.DateCreated}, seconds{&c.DateUpdated})
	return c, err
}

func (t *Tx) Credential(ctx context.Context, sid string) (parley.Credential, error) {
	return get(t, ctx, scanCredential, "SELECT "+credentialCols+" FROM credentials WHERE sid = ?", sid)
}

func (t *Tx) ListCredentials(ctx context.Context, q parley.PageQuery) (parley.Page[parley.Credential], error) {
	return page(t, ctx, credentialCols, "FROM credentials WHERE 1 = 1", nil, q, scanCredential,
		bySeq(func(c parley.Credential) int64 { return c.Seq }))
}

func (t *Tx) CreateCredential(ctx context.Context, c parley.Credential) error {
	_, err := t.exec(ctx, false, `INSERT INTO credentials (sid, friendly_name, type, sandbox, apn_certificate,
		apn_private_key, gcm_api_key, fcm_secret, date_created, date_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Sid, c.FriendlyName, string(c.Type), c.Sandbox, c.APNCertificate, c.APNPrivateKey, c.GCMAPIKey, c.FCMSecret,
		t.d.Seconds(c.DateCreated), t.d.Seconds(c.DateUpdated))
	return err
}

func (t *Tx) UpdateCredential(ctx context.Context, c parley.Credential) error {
	return t.execOne(ctx, false, `UPDATE credentials SET friendly_name = ?, type = ?, sandbox = ?, apn_certificate = ?,
		apn_private_key = ?, gcm_api_key = ?, fcm_secret = ?, date_updated = ? WHERE sid = ?`,
		c.FriendlyName, string(c.Type), c.Sandbox, c.APNCertificate, c.APNPrivateKey, c.GCMAPIKey, c.FCMSecret,
		t.d.Seconds(c.DateUpdated), c.Sid)
}

func (t *Tx) DeleteCredential(ctx context.Context, sid string) error {
	return t.execOne(ctx, true, "DELETE FROM credentials WHERE sid = ?", sid)
}
