package api

import (
	"time"

	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/internal/spec"
)

// Emulator mode's controls (docs/emulator.md) live under /parley/v1/ like
// parley's other extensions, described in the spec's terms so that the
// generic handlers serve them: the account's credentials, form
// parameters, Twilio's error bodies. Without emulator mode they are not
// mounted, and answer Twilio's 404 like any unknown path: a self-hosted
// server must not be resettable or have its time moved.

// clockSchema is the clock: its time (to the millisecond, unlike
// Twilio's dates: a test compares it with its own), how far ahead of the
// system's time it is (whole seconds), and whether it moves.
var clockSchema = spec.Schema{Name: "parley.v1.clock", Properties: []spec.Property{
	{Key: "now", Kind: spec.KindString},
	{Key: "offset_seconds", Kind: spec.KindInteger},
	{Key: "movable", Kind: spec.KindBoolean},
	{Key: "url", Kind: spec.KindURI},
}}

// resetSchema is what a reset left: the account, its default service
// (under the SID it had) and whether the API keys stayed.
var resetSchema = spec.Schema{Name: "parley.v1.reset", Properties: []spec.Property{
	{Key: "account_sid", Kind: spec.KindString},
	{Key: "default_chat_service_sid", Kind: spec.KindString},
	{Key: "api_keys_kept", Kind: spec.KindBoolean},
	{Key: "date_reset", Kind: spec.KindDateTime},
	{Key: "url", Kind: spec.KindURI},
}}

var emulatorOps = []*spec.Operation{
	{ID: "RetryWebhookDelivery", Method: "POST", Path: "/parley/v1/WebhookDeliveries/{Sid}/Retry", PathType: "instance",
		Status: 200, Schema: deliverySchema.Name, Params: []spec.Param{deliverySid}},
	{ID: "DeleteWebhookDeliveries", Method: "DELETE", Path: "/parley/v1/WebhookDeliveries", PathType: "list", Status: 204},
	{ID: "CreateReset", Method: "POST", Path: "/parley/v1/Reset", PathType: "list", Status: 200,
		Schema: resetSchema.Name, URL: "/parley/v1/Reset", Params: []spec.Param{
			{Name: "KeepKeys", In: spec.InForm, Type: spec.TypeBoolean},
		}},
	{ID: "FetchClock", Method: "GET", Path: "/parley/v1/Clock", PathType: "instance", Status: 200,
		Schema: clockSchema.Name, URL: "/parley/v1/Clock"},
	{ID: "UpdateClock", Method: "POST", Path: "/parley/v1/Clock", PathType: "instance", Status: 200,
		Schema: clockSchema.Name, URL: "/parley/v1/Clock", Params: []spec.Param{
			{Name: "Advance", In: spec.InForm, Type: spec.TypeString},
			{Name: "Set", In: spec.InForm, Type: spec.TypeDateTime},
		}},
}

var clockFields = fields[core.ClockState]{
	"now":            str(func(c *core.ClockState) string { return preciseDate(c.Now) }),
	"offset_seconds": integer(func(c *core.ClockState) int64 { return int64(c.Offset / time.Second) }),
	"movable":        boolean(func(c *core.ClockState) bool { return c.Movable }),
}

var resetFields = fields[core.Reset]{
	"default_chat_service_sid": str(func(r *core.Reset) string { return r.DefaultServiceSid }),
	"api_keys_kept":            boolean(func(r *core.Reset) bool { return r.KeysKept }),
	"date_reset":               date(func(r *core.Reset) time.Time { return r.Date }),
}

// emulatorRoutes mounts the controls, in emulator mode only.
func (s *Server) emulatorRoutes() {
	item(s, clockFields, plain(s.app.ClockNow), "FetchClock")
	item(s, clockFields, s.moveClock, "UpdateClock")
	item(s, resetFields, s.reset, "CreateReset")
	item(s, deliveryFields, bySid(s.app.RetryDelivery), "RetryWebhookDelivery")
	remove(s, func(q *req) call[struct{}] {
		return func() (struct{}, error) { return struct{}{}, s.app.ClearDeliveries(q.ctx) }
	}, "DeleteWebhookDeliveries")
	s.faultRoutes()
	s.fixtureRoutes()
}

// reset keeps the API keys unless KeepKeys=false.
func (s *Server) reset(q *req) call[core.Reset] {
	keep := q.boolean("KeepKeys")
	return func() (core.Reset, error) { return s.app.Reset(q.ctx, keep == nil || *keep) }
}

func (s *Server) moveClock(q *req) call[core.ClockState] {
	in := core.ClockInput{Advance: q.str("Advance"), Set: q.dateTime("Set")}
	return func() (core.ClockState, error) { return s.app.MoveClock(q.ctx, in) }
}
