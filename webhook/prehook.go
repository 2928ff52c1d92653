package webhook

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/parleyhq/parley"
)

// PreHook sends pre-event webhooks synchronously, before the write they
// announce. It implements core.PreHook (this package imports only the
// domain, so the rules and the transport stay apart).
type PreHook struct {
	AuthToken string
	// Client sends the webhooks; one with Timeout and no redirects when nil.
	Client *http.Client
	Logger *slog.Logger
}

// Call sends the pre-event webhook and returns the body of a 2xx answer,
// which may ask for changes (core reads it). A 4xx or 5xx answer rejects
// the action (403 with Twilio's code 50056 to the REST caller; the status
// is parley's choice, since Twilio only sends pre-events for SDK actions).
// No answer within Timeout, or no connection, lets the action through
// unchanged, as Twilio documents.
func (p *PreHook) Call(ctx context.Context, t parley.WebhookTarget, params url.Values) ([]byte, error) {
	c := p.Client
	if c == nil {
		c = newClient()
	}
	// The caller's context: a request that is gone need not wait for its
	// pre-event answer. Timeout bounds it even with a Client that has none.
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	status, body, err := send(ctx, c, Build(p.AuthToken, t.Method, t.URL, params), parley.NewSID("PE"))
	if err != nil {
		if p.Logger != nil {
			p.Logger.Warn("pre-event webhook got no answer; letting the action through",
				"event", params.Get("EventType"), "url", t.URL, "err", err)
		}
		return nil, nil
	}
	if status >= 400 {
		return nil, parley.Errorf(parley.KindRejected, 50056,
			"The pre-event webhook rejected the action (%s answered HTTP %d)", params.Get("EventType"), status)
	}
	if status >= 300 {
		return nil, nil // a redirect, not followed: an answer without a body
	}
	return body, nil
}
