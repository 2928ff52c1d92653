package parley

import (
	"regexp"
	"strconv"
	"time"
)

// isoDuration matches ISO 8601 durations as Twilio's timers take them
// (PT1M, P1D, PT1H30M, P1DT12H…): at least one component, and a T only
// when a time component follows it.
var isoDuration = regexp.MustCompile(`^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// ParseDuration reads an ISO 8601 duration. Calendar units have no fixed
// length; for timers a year counts 365 days and a month 30, which only
// matters for comparisons with the minimums (a day is far above them).
// Lengths beyond 100 years are capped there: no timer needs more.
func ParseDuration(v string) (time.Duration, bool) {
	if v == "" || v == "P" || v == "PT" || len(v) > 64 || v[len(v)-1] == 'T' {
		return 0, false
	}
	m := isoDuration.FindStringSubmatch(v)
	if m == nil {
		return 0, false
	}
	const day = 24 * time.Hour
	const limit = 100 * 365 * day
	units := []time.Duration{365 * day, 30 * day, 7 * day, day, time.Hour, time.Minute}
	var total time.Duration
	for i, unit := range units {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.ParseInt(m[i+1], 10, 64)
		if err != nil || n > int64(limit/unit) {
			return limit, true
		}
		total += time.Duration(n) * unit
	}
	if m[7] != "" {
		secs, err := strconv.ParseFloat(m[7], 64)
		if err != nil || secs > limit.Seconds() {
			return limit, true
		}
		total += time.Duration(secs * float64(time.Second))
	}
	return min(total, limit), true
}

// InvalidDuration is the error for a parameter that is not an ISO 8601
// duration.
func InvalidDuration(param, v string) *Error {
	return InvalidParam("Invalid %s: %q is not an ISO 8601 duration such as PT10M", param, v)
}
