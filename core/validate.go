package core

import (
	"encoding/json"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

// Limits where Twilio documents an error code but not the size
// (semantics.md §2); these sizes are parley's decisions.
const (
	MaxIdentity         = 256       // characters
	MaxFriendlyName     = 256       // characters
	MaxRoleFriendlyName = 64        // characters, per the spec's role resource
	MaxAttributes       = 16 * 1024 // bytes
)

func checkFriendlyName(name *string, limit int) error {
	if name != nil && utf8.RuneCountInString(*name) > limit {
		return parley.Errorf(parley.KindInvalid, 50003, "Friendly name too long")
	}
	return nil
}

// checkAttributes accepts any valid JSON text up to limit bytes (Twilio:
// 16 KiB for conversations and users, 4 KiB for participants and
// messages); it is stored byte for byte.
func checkAttributes(attrs string, limit int) error {
	if len(attrs) > limit {
		return parley.Errorf(parley.KindInvalid, 50303, "Attributes too long")
	}
	if !json.Valid([]byte(attrs)) {
		return parley.Errorf(parley.KindInvalid, 50304, "Attributes not valid JSON")
	}
	return nil
}

func checkIdentity(identity string) error {
	if identity == "" {
		return parley.MissingParam("Identity")
	}
	if utf8.RuneCountInString(identity) > MaxIdentity {
		return parley.Errorf(parley.KindInvalid, 50207, "Identity too long")
	}
	if parley.IsSID(parley.PrefixUser, identity) {
		return parley.Errorf(parley.KindInvalid, 50206, "Identity should not match user SID pattern")
	}
	if identity == "." || identity == ".." {
		// A path segment "." or ".." means "this" or "the parent" to every
		// URL library, so a user with this identity could never be
		// addressed as /v1/Users/{identity}.
		return parley.InvalidParam("Invalid Identity: %q cannot be used as an identity, because it cannot be addressed in a URL path", identity)
	}
	return nil
}

// Timer minimums (the spec: "Minimum value for this timer is 1 minute",
// "… 10 minutes"). PT0S is allowed below them: Twilio documents it as the
// way to switch a timer off.
const (
	MinInactiveTimer = time.Minute
	MinClosedTimer   = 10 * time.Minute
)

// checkTimer accepts an ISO 8601 duration of at least minimum, or zero.
// Twilio's codes for a timer below its minimum are 50375 (inactive) and
// 50376 (closed); for one that is not a duration, formatCode (50379 and
// 50380 on conversations, 20001 on the account configuration).
func checkTimer(param, v string, minimum time.Duration, code, formatCode int) error {
	d, ok := parley.ParseDuration(v)
	if !ok {
		e := parley.InvalidDuration(param, v)
		e.Code = formatCode
		return e
	}
	if d != 0 && d < minimum {
		return parley.Errorf(parley.KindInvalid, code,
			"Invalid %s: %q is shorter than the minimum of %s (PT0S switches the timer off)", param, v, isoMinutes(minimum))
	}
	return nil
}

// isoMinutes writes a whole number of minutes as an ISO 8601 duration.
func isoMinutes(d time.Duration) string { return "PT" + strconv.Itoa(int(d/time.Minute)) + "M" }

// checkWebhookURL accepts absolute http and https URLs with a host.
func checkWebhookURL(code int, param, v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(v) > 2048 {
		return parley.Errorf(parley.KindInvalid, code, "Invalid %s: %q is not an absolute http or https URL", param, v)
	}
	return nil
}
