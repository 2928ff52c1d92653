package api

import (
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
)

var credentialFields = fields[parley.Credential]{
	"sid":           str(func(c *parley.Credential) string { return c.Sid }),
	"friendly_name": optStr(func(c *parley.Credential) *string { return c.FriendlyName }),
	"type":          str(func(c *parley.Credential) string { return string(c.Type) }),
	// A string, capitalised, as Twilio's examples show it (for every type).
	"sandbox": str(func(c *parley.Credential) string {
		if c.Sandbox {
			return "True"
		}
		return "False"
	}),
	"date_created": date(func(c *parley.Credential) time.Time { return c.DateCreated }),
	"date_updated": date(func(c *parley.Credential) time.Time { return c.DateUpdated }),
}

// credentialInput reads a credential's parameters, the same on create and
// update.
func credentialInput(q *req) core.CredentialInput {
	return core.CredentialInput{Type: q.enum("Type"), FriendlyName: q.str("FriendlyName"),
		Certificate: q.str("Certificate"), PrivateKey: q.str("PrivateKey"), Sandbox: q.boolean("Sandbox"),
		APIKey: q.str("ApiKey"), Secret: q.str("Secret")}
}

func (s *Server) createCredential(q *req) call[parley.Credential] {
	in := credentialInput(q)
	return func() (parley.Credential, error) { return s.app.CreateCredential(q.ctx, in) }
}

func (s *Server) updateCredential(q *req) call[parley.Credential] {
	sid, in := q.path("Sid"), credentialInput(q)
	return func() (parley.Credential, error) { return s.app.UpdateCredential(q.ctx, sid, in) }
}
