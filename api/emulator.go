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

var emulatorOps = []*spec.Operation{
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

// emulatorRoutes mounts the controls, in emulator mode only.
func (s *Server) emulatorRoutes() {
	item(s, clockFields, plain(s.app.ClockNow), "FetchClock")
	item(s, clockFields, s.moveClock, "UpdateClock")
}

func (s *Server) moveClock(q *req) call[core.ClockState] {
	in := core.ClockInput{Advance: q.str("Advance"), Set: q.dateTime("Set")}
	return func() (core.ClockState, error) { return s.app.MoveClock(q.ctx, in) }
}
