package core

import (
	"encoding/json"
	"net/url"
	"regexp"
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

// checkAttributes accepts any valid JSON text up to MaxAttributes bytes; it
// is stored byte for byte.
func checkAttributes(attrs string) error {
	if len(attrs) > MaxAttributes {
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

// isoDuration matches ISO 8601 durations as Twilio's timers take them
// (PT1M, P1D, PT1H30M, P1DT12H…): at least one component, and a T only
// when a time component follows it.
var isoDuration = regexp.MustCompile(`^P(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$`)

func checkDuration(param, v string) error {
	if v == "P" || v == "PT" || len(v) > 64 || !isoDuration.MatchString(v) || v[len(v)-1] == 'T' {
		return parley.InvalidParam("Invalid %s: %q is not an ISO 8601 duration such as PT10M", param, v)
	}
	return nil
}

// checkWebhookURL accepts absolute http and https URLs with a host.
func checkWebhookURL(code int, param, v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(v) > 2048 {
		return parley.Errorf(parley.KindInvalid, code, "Invalid %s: %q is not an absolute http or https URL", param, v)
	}
	return nil
}
