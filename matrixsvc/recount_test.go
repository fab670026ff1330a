package matrixsvc

import (
	"testing"

	"maunium.net/go/mautrix"

	"duet/store"
)

// A count asked again after a burst replaces the lagging one, except in a room we read here
// after its newest message: there the server may not have our receipt yet, so it only lowers.
func TestSetCount(t *testing.T) {
	cases := []struct {
		name       string
		room       store.Room
		server     int
		want       int
		wantChange bool
	}{
		{"lagging count caught up", store.Room{Unread: 4, LastTS: 100}, 10, 10, true},
		{"same count", store.Room{Unread: 10, LastTS: 100}, 10, 10, false},
		{"read elsewhere", store.Room{Unread: 10, LastTS: 100}, 0, 0, true},
		{"read here, receipt not seen yet", store.Room{Unread: 0, LastTS: 100, ReadTS: 100}, 3, 0, false},
		{"read here, then more came", store.Room{Unread: 1, LastTS: 200, ReadTS: 100}, 3, 3, true},
	}
	for _, c := range cases {
		r := c.room
		changed := setCount(&r, &mautrix.UnreadNotificationCounts{NotificationCount: c.server}, 0)
		if r.Unread != c.want || changed != c.wantChange {
			t.Errorf("%s: unread %d (changed %v), want %d (%v)", c.name, r.Unread, changed, c.want, c.wantChange)
		}
	}
}
