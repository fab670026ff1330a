package matrixsvc

import (
	"fmt"
	"testing"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// BenchmarkBuildContacts5000 derives the contacts list of an account with 5,000 DMs, as the UI
// does after every sync that changes it.
func BenchmarkBuildContacts5000(b *testing.B) {
	me := id.UserID("@me:hs")
	d := Direct{}
	rooms := map[id.RoomID]*RoomInfo{}
	for i := range 5000 {
		x := id.UserID(fmt.Sprintf("@u%d:hs", i))
		room := id.RoomID(fmt.Sprintf("!r%d:hs", i))
		d[x] = []id.RoomID{room}
		rooms[room] = &RoomInfo{ID: room, Membership: event.MembershipJoin, LastActivity: int64(i), Unread: i % 3,
			Members: map[id.UserID]event.Membership{me: event.MembershipJoin, x: event.MembershipJoin}}
	}
	b.ReportAllocs()
	for b.Loop() {
		list := BuildContacts(me, d, rooms)
		if len(list.Contacts) != 5000 {
			b.Fatal(len(list.Contacts))
		}
	}
}
