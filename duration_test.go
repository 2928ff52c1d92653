package parley_test

import (
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

func TestParseDuration(t *testing.T) {
	const day = 24 * time.Hour
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"PT0S", 0, true},
		{"PT1M", time.Minute, true},
		{"PT59S", 59 * time.Second, true},
		{"PT9M59.5S", 9*time.Minute + 59500*time.Millisecond, true},
		{"PT1H30M", 90 * time.Minute, true},
		{"P1DT12H", 36 * time.Hour, true},
		{"P2W", 14 * day, true},
		{"P1M", 30 * day, true},
		{"P1Y", 365 * day, true},
		{"P99999999999999999999Y", 100 * 365 * day, true},
		{"PT99999999999999999999S", 100 * 365 * day, true},
		{"", 0, false},
		{"P", 0, false},
		{"PT", 0, false},
		{"P1DT", 0, false},
		{"10 minutes", 0, false},
		{"PT1.S", 0, false},
		{"-PT1M", 0, false},
		{"pt1m", 0, false},
	} {
		got, ok := parley.ParseDuration(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
