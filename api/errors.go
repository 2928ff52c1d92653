package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/parleyhq/parley"
)

// errorBody is Twilio's error shape. twilio-go takes the status from the
// body, not from the HTTP status line, so it must always be there.
type errorBody struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
}

// statusOf is the HTTP status of an error kind (parley.Kind.Status).
func statusOf(k parley.Kind) int { return k.Status() }

// writeError renders any error as Twilio's error body. Unexpected errors are
// logged here, once, and shown only as 20500 with nothing internal.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := parley.AsError(err)
	status := statusOf(e.Kind)
	body := errorBody{Code: e.Code, Message: e.Message, Status: status, Detail: e.Detail}
	switch {
	case e.Kind == parley.KindInternal:
		body.Code, body.Message, body.Detail = 20500, "Internal server error", ""
		if isClientGone(err) {
			s.log.Debug("client went away", "method", r.Method, "path", r.URL.EscapedPath())
		} else {
			s.log.Error("request failed", "method", r.Method, "path", r.URL.EscapedPath(),
				"request_id", w.Header().Get("Twilio-Request-Id"), "err", err)
		}
	case e.Kind == parley.KindNotFound && body.Message == "":
		body.Message = "The requested resource " + strings.TrimPrefix(r.URL.EscapedPath(), "/v1") + " was not found"
	}
	body.MoreInfo = "https://www.twilio.com/docs/errors/" + strconv.Itoa(body.Code)
	if e.Kind == parley.KindUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
	}
	writeJSON(w, status, body)
}
