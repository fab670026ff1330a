package matrixsvc

import (
	"slices"
	"testing"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

func TestSortOutRequests(t *testing.T) {
	const (
		friend   = id.UserID("@friend:x")   // a joined DM
		known    = id.UserID("@known:x")    // only an invite, but we share a room
		stranger = id.UserID("@stranger:x") // only an invite, nothing shared
		pest     = id.UserID("@pest:x")     // blocked, only an invite
		ex       = id.UserID("@ex:x")       // blocked, with a conversation
	)
	list := ContactList{Contacts: []Contact{
		{UserID: friend, Rooms: []id.RoomID{"!f:x"}},
		{UserID: known, Pending: true, InviteRooms: []id.RoomID{"!k:x"}},
		{UserID: stranger, Pending: true, InviteRooms: []id.RoomID{"!s:x"}},
		{UserID: pest, Pending: true, InviteRooms: []id.RoomID{"!p:x"}},
		{UserID: ex, Rooms: []id.RoomID{"!e:x"}, InviteRooms: []id.RoomID{"!e2:x"}},
	}}
	got := SortOutRequests(list, func(u id.UserID) bool { return u == known }, map[id.UserID]bool{pest: true, ex: true})
	var contacts, requests []id.UserID
	for _, c := range got.Contacts {
		contacts = append(contacts, c.UserID)
		if c.Blocked != (c.UserID == ex) {
			t.Errorf("%s blocked: %v", c.UserID, c.Blocked)
		}
	}
	for _, c := range got.Requests {
		requests = append(requests, c.UserID)
	}
	if !slices.Equal(contacts, []id.UserID{friend, known, ex}) || !slices.Equal(requests, []id.UserID{stranger}) {
		t.Fatalf("contacts %v, requests %v", contacts, requests)
	}
	if c := got.Contacts[2]; len(c.InviteRooms) != 0 || c.Pending {
		t.Fatalf("a blocked contact keeps pending invites: %+v", c)
	}
}

func TestSharesJoinedRoom(t *testing.T) {
	x := id.UserID("@x:x")
	join, invite := event.MembershipJoin, event.MembershipInvite
	cases := []struct {
		name string
		room RoomInfo
		want bool
	}{
		{"members: x joined", RoomInfo{Membership: join, Members: map[id.UserID]event.Membership{x: join}}, true},
		{"members: x invited", RoomInfo{Membership: join, Members: map[id.UserID]event.Membership{x: invite}}, false},
		{"summary: x a hero, nobody invited", RoomInfo{Membership: join, JoinedCount: 2, Heroes: []id.UserID{x}}, true},
		{"summary: x a hero, someone invited", RoomInfo{Membership: join, JoinedCount: 1, InvitedCount: 1, Heroes: []id.UserID{x}}, false},
		{"we are only invited", RoomInfo{Membership: invite, Members: map[id.UserID]event.Membership{x: join}}, false},
	}
	for _, c := range cases {
		if got := SharesJoinedRoom(x, map[id.RoomID]*RoomInfo{"!r:x": &c.room}); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// R22: the conversation with x is the current 1:1 room, the upgraded room before it, and an
// older room x left; a 3-member room listed under x stays out.
func TestConversationWith(t *testing.T) {
	me, x, z := id.UserID("@me:x"), id.UserID("@x:x"), id.UserID("@z:x")
	join, leave := event.MembershipJoin, event.MembershipLeave
	both := map[id.UserID]event.Membership{me: join, x: join}
	rooms := map[id.RoomID]*RoomInfo{
		"!left:x":      {Membership: join, Members: map[id.UserID]event.Membership{me: join, x: leave}, LastActivity: 1},
		"!old:x":       {Membership: join, Members: both, LastActivity: 2, Tombstone: "!new:x"},
		"!new:x":       {Membership: join, Members: both, LastActivity: 3, Predecessor: "!old:x"},
		"!three:x":     {Membership: join, Members: map[id.UserID]event.Membership{me: join, x: join, z: join}, LastActivity: 4},
		"!unrelated:x": {Membership: join, Members: map[id.UserID]event.Membership{me: join, z: join}, LastActivity: 5},
	}
	d := Direct{x: {"!left:x", "!new:x", "!three:x"}, z: {"!unrelated:x"}}
	got := ConversationWith(me, x, d, rooms)
	want := []ConversationRoom{{"!new:x", "", 3}, {"!old:x", "upgraded", 2}, {"!left:x", "left by them", 1}}
	if !slices.Equal(got, want) {
		t.Fatalf("conversation: %+v, want %+v", got, want)
	}
	// Just joined the replacement: its m.room.create has not come yet, the tombstone links back.
	rooms["!new:x"].Predecessor = ""
	if got := ConversationWith(me, x, d, rooms); !slices.Equal(got, want) {
		t.Fatalf("conversation before the replacement's create event: %+v, want %+v", got, want)
	}
}
