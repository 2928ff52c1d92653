package api

import (
	"net/http"
	"strings"

	"github.com/parleyhq/parley"
)

// writeError renders any error as Twilio's error body. Unexpected errors are
// logged here, once, and shown only as 20500 with nothing internal.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := parley.AsError(err)
	body := e.Body(strings.TrimPrefix(r.URL.EscapedPath(), "/v1"))
	if e.Kind == parley.KindInternal {
		if isClientGone(err) {
			s.log.Debug("client went away", "method", r.Method, "path", r.URL.EscapedPath())
		} else {
			s.log.Error("request failed", "method", r.Method, "path", r.URL.EscapedPath(),
				"request_id", w.Header().Get("Twilio-Request-Id"), "err", err)
		}
	}
	if e.Kind == parley.KindUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
	}
	writeJSON(w, body.Status, body)
}
