package dmfuzz

import (
	"cmp"
	"fmt"
	"slices"
	"testing"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
)

// FuzzDMRules: m.direct and rooms as a hostile or confused server may describe them (rooms
// listed under several users, missing, left, with members unknown, service members, odd
// summaries, invites from anyone), derived from the fuzz bytes. The DM rules never panic and
// keep their documented promises: the chosen room is a joined 1:1 room among the candidates
// and the best of them; the contacts list never holds me, holds each person once, in order;
// the rooms listed for `duet dms` start with the chosen one.
func FuzzDMRules(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("duet: one to one"))
	f.Add([]byte{1, 2, 1, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
	f.Add([]byte{3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 255, 254, 253, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1})
	f.Add(slices.Repeat([]byte{0x41, 0x13, 0x07, 0xfe, 0x80, 0x01}, 30))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &source{b: data}
		d, rooms := world(s)
		for _, x := range people() {
			checkChoice(t, x, d, rooms)
			checkNeedMembers(t, x, d, rooms)
			checkDMRoomsWith(t, x, d, rooms)
		}
		checkContacts(t, d, rooms)
		for _, r := range rooms {
			if n := r.MemberCount(); n < 0 {
				t.Fatalf("%s has %d members", r.ID, n)
			}
		}
	})
}

// people are the users of the fuzzed world: me, three others, and a key that is no user ID.
func people() []id.UserID { return []id.UserID{me, "@a:x", "@b:x", "@c:x", "not a user"} }

func memberships() []event.Membership {
	return []event.Membership{"", event.MembershipJoin, event.MembershipInvite, event.MembershipLeave, event.MembershipBan, event.MembershipKnock}
}

const roomCount = 6

// source hands out the fuzz bytes; past their end it gives zeros.
type source struct{ b []byte }

func (s *source) next() byte {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

func (s *source) users() []id.UserID { // a subset of people
	mask := s.next()
	var out []id.UserID
	for i, u := range people() {
		if mask&(1<<i) != 0 {
			out = append(out, u)
		}
	}
	return out
}

// world builds m.direct (as ParseDirect leaves it: no empty lists, no repeats) and the rooms.
func world(s *source) (matrixsvc.Direct, map[id.RoomID]*matrixsvc.RoomInfo) {
	d := matrixsvc.Direct{}
	for _, u := range people() {
		for range s.next() % 4 {
			room := roomID(int(s.next()) % (roomCount + 1)) // one room that is never known
			if !slices.Contains(d[u], room) {
				d[u] = append(d[u], room)
			}
		}
	}
	rooms := map[id.RoomID]*matrixsvc.RoomInfo{}
	for i := range roomCount {
		flags := s.next()
		if flags&0x80 != 0 {
			continue // never seen
		}
		r := &matrixsvc.RoomInfo{
			ID:             roomID(i),
			Membership:     memberships()[int(flags)%len(memberships())],
			ServiceMembers: s.users(),
			JoinedCount:    int(s.next() % 5),
			InvitedCount:   int(s.next() % 3),
			Heroes:         s.users(),
			LastActivity:   int64(s.next() % 4), // few values: ties
			Unread:         int(s.next() % 3),
			Name:           fmt.Sprintf("room %d", i),
			Inviter:        people()[int(s.next())%len(people())],
			IsDirectInvite: flags&0x40 != 0,
		}
		if flags&0x10 != 0 {
			r.Membership = event.MembershipJoin // the common case, and the one the rules choose from
		}
		if flags&0x20 != 0 {
			r.Members = map[id.UserID]event.Membership{}
			if k := s.next(); k&1 == 0 { // a 1:1 room with someone, perhaps with a bot
				r.Members[me] = event.MembershipJoin
				r.Members[people()[int(k>>1)%len(people())]] = memberships()[1+int(k>>4)%2]
				if k&0x80 != 0 {
					r.Members["@bot:x"] = event.MembershipJoin
				}
				if k&0x40 != 0 {
					r.ServiceMembers = append(r.ServiceMembers, "@bot:x")
				}
			} else {
				for _, u := range people() {
					if m := memberships()[int(s.next())%len(memberships())]; m != "" {
						r.Members[u] = m
					}
				}
			}
		}
		rooms[r.ID] = r
	}
	return d, rooms
}

func roomID(i int) id.RoomID { return id.RoomID(fmt.Sprintf("!r%d:x", i)) }

// oneToOne is QualifiesOneToOne as docs/dm-rules.md R6 words it.
func oneToOne(x id.UserID, r *matrixsvc.RoomInfo) bool {
	if r == nil || r.Members == nil || x == me {
		return false
	}
	var eff []id.UserID
	for u, m := range r.Members {
		if m.IsInviteOrJoin() && !slices.Contains(r.ServiceMembers, u) {
			eff = append(eff, u)
		}
	}
	return len(eff) == 2 && slices.Contains(eff, me) && slices.Contains(eff, x)
}

// candidates are the joined rooms among list that qualify with {me, x}.
func candidates(x id.UserID, list []id.RoomID, rooms map[id.RoomID]*matrixsvc.RoomInfo) []id.RoomID {
	var out []id.RoomID
	for _, room := range list {
		if r := rooms[room]; r != nil && r.Membership == event.MembershipJoin && oneToOne(x, r) {
			out = append(out, room)
		}
	}
	return out
}

// better orders rooms most recent first, ties by room ID.
func better(rooms map[id.RoomID]*matrixsvc.RoomInfo) func(a, b id.RoomID) int {
	return func(a, b id.RoomID) int {
		if c := cmp.Compare(rooms[b].LastActivity, rooms[a].LastActivity); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	}
}

func checkChoice(t *testing.T, x id.UserID, d matrixsvc.Direct, rooms map[id.RoomID]*matrixsvc.RoomInfo) {
	t.Helper()
	room, found := matrixsvc.ChooseDMRoom(me, x, d, rooms)
	for _, r := range rooms {
		if matrixsvc.QualifiesOneToOne(me, x, r) != oneToOne(x, r) {
			t.Fatalf("QualifiesOneToOne(%s, %+v) = %v", x, r, !oneToOne(x, r))
		}
	}
	tier := candidates(x, d[x], rooms) // R5-R7
	if len(tier) == 0 {                // R8: rooms under anyone else
		var others []id.RoomID
		for u, list := range d {
			if u != x {
				others = append(others, list...)
			}
		}
		tier = candidates(x, others, rooms)
	}
	if len(tier) == 0 {
		if found {
			t.Fatalf("ChooseDMRoom(%s) chose %s with no candidate: %v", x, room, d)
		}
		return
	}
	if want := slices.MinFunc(tier, better(rooms)); !found || room != want {
		t.Fatalf("ChooseDMRoom(%s) = %s, %v; want %s of %v", x, room, found, want, tier)
	}
}

func checkNeedMembers(t *testing.T, x id.UserID, d matrixsvc.Direct, rooms map[id.RoomID]*matrixsvc.RoomInfo) {
	t.Helper()
	got := matrixsvc.NeedMembers(me, x, d, rooms)
	var want []id.RoomID
	for u, list := range d {
		for _, room := range list {
			r := rooms[room]
			if r != nil && r.Membership == event.MembershipJoin && r.Members == nil && (u == x || slices.Contains(r.Heroes, x)) && !slices.Contains(want, room) {
				want = append(want, room)
			}
		}
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("NeedMembers(%s) = %v, want %v", x, got, want)
	}
}

func checkDMRoomsWith(t *testing.T, x id.UserID, d matrixsvc.Direct, rooms map[id.RoomID]*matrixsvc.RoomInfo) {
	t.Helper()
	list := matrixsvc.DMRoomsWith(me, x, d, rooms)
	chosen, found := matrixsvc.ChooseDMRoom(me, x, d, rooms)
	seen := map[id.RoomID]bool{}
	for i, c := range list {
		if seen[c.RoomID] {
			t.Fatalf("DMRoomsWith(%s) lists %s twice", x, c.RoomID)
		}
		seen[c.RoomID] = true
		if !rooms[c.RoomID].Displayed() {
			t.Fatalf("DMRoomsWith(%s) lists %s, which is not displayed", x, c.RoomID)
		}
		if c.Chosen != (found && c.RoomID == chosen) || (c.Chosen && i != 0) {
			t.Fatalf("DMRoomsWith(%s): %+v at %d, chosen %s %v", x, c, i, chosen, found)
		}
		if c.Listed != slices.Contains(d[x], c.RoomID) {
			t.Fatalf("DMRoomsWith(%s): %+v, listed under x: %v", x, c, d[x])
		}
	}
}

func checkContacts(t *testing.T, d matrixsvc.Direct, rooms map[id.RoomID]*matrixsvc.RoomInfo) {
	t.Helper()
	list := matrixsvc.BuildContacts(me, d, rooms)
	byRoom := d.Rooms()
	seen := map[id.UserID]bool{}
	for i, c := range list.Contacts {
		if c.UserID == me || seen[c.UserID] {
			t.Fatalf("contact %s (me %v, seen %v): %+v", c.UserID, c.UserID == me, seen[c.UserID], list.Contacts)
		}
		seen[c.UserID] = true
		if i > 0 {
			p := list.Contacts[i-1]
			if p.LastActivity < c.LastActivity || (p.LastActivity == c.LastActivity && p.UserID > c.UserID) {
				t.Fatalf("contacts out of order: %+v before %+v", p, c)
			}
		}
		for _, room := range c.Rooms {
			if !rooms[room].Displayed() || !slices.Equal(byRoom[room], []id.UserID{c.UserID}) {
				t.Fatalf("%s: room %s is not a displayed room listed under them alone", c.UserID, room)
			}
		}
		for _, room := range c.InviteRooms {
			r := rooms[room]
			if r == nil || r.Membership != event.MembershipInvite || !r.IsDirectInvite || r.Inviter != c.UserID {
				t.Fatalf("%s: %s is not a direct invite from them: %+v", c.UserID, room, r)
			}
		}
		if chosen, found := matrixsvc.ChooseDMRoom(me, c.UserID, d, rooms); c.Room != chosen || (c.Room != "") != found {
			t.Fatalf("%s: room %s, ChooseDMRoom says %s %v", c.UserID, c.Room, chosen, found)
		}
		if c.Pending && len(c.InviteRooms) == 0 {
			t.Fatalf("%s pending without an invite", c.UserID)
		}
		if c.Unread < 0 {
			t.Fatalf("%s: %d unread", c.UserID, c.Unread)
		}
	}
	// R18: everyone else with a displayed room in m.direct is a contact.
	for room, users := range byRoom {
		if !rooms[room].Displayed() {
			continue
		}
		for _, u := range users {
			if u != me && !seen[u] {
				t.Fatalf("%s has displayed room %s but is no contact: %+v", u, room, list.Contacts)
			}
		}
	}
	groups := map[id.RoomID]bool{}
	for i, g := range list.Groups {
		if groups[g.RoomID] || !rooms[g.RoomID].Displayed() || !slices.Equal(g.Users, byRoom[g.RoomID]) {
			t.Fatalf("group %+v: twice, not displayed, or users not %v", g, byRoom[g.RoomID])
		}
		groups[g.RoomID] = true
		if i > 0 {
			p := list.Groups[i-1]
			if p.LastActivity < g.LastActivity || (p.LastActivity == g.LastActivity && p.RoomID > g.RoomID) {
				t.Fatalf("groups out of order: %+v before %+v", p, g)
			}
		}
	}
	for _, room := range list.NotesToSelf {
		if !rooms[room].Displayed() || !slices.Equal(byRoom[room], []id.UserID{me}) || groups[room] {
			t.Fatalf("notes to self %s: listed under %v", room, byRoom[room])
		}
	}
}
