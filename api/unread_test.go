package api

import (
	"testing"

	"github.com/parleyhq/parley"
)

func TestUnreadMessages(t *testing.T) {
	i := func(n int64) *int64 { return &n }
	for _, tc := range []struct {
		last, horizon *int64
		want          *int64
	}{
		{nil, nil, nil},
		{i(5), nil, nil},
		{nil, i(0), i(0)},
		{i(5), i(2), i(3)},
		{i(5), i(9), i(0)},
		{i(5000), i(0), i(1000)}, // Twilio's cap
	} {
		m := parley.Membership{Participant: parley.Participant{LastReadMessageIndex: tc.horizon},
			Conversation: parley.Conversation{LastMessageIndex: tc.last}}
		got := unreadMessages(&m)
		if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
			t.Errorf("last %v horizon %v: got %v, want %v", tc.last, tc.horizon, got, tc.want)
		}
	}
}
