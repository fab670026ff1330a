package matrixsvc

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

const (
	dmMe    id.UserID = "@me:x"
	dmAlice id.UserID = "@alice:x"
	dmBob   id.UserID = "@bob:x"
	dmCarol id.UserID = "@carol:x"
	dmBot   id.UserID = "@bot:x"
)

// dmMembers builds a member list from alternating user, membership pairs.
func dmMembers(pairs ...any) map[id.UserID]event.Membership {
	m := map[id.UserID]event.Membership{}
	for i := 0; i < len(pairs); i += 2 {
		m[pairs[i].(id.UserID)] = pairs[i+1].(event.Membership)
	}
	return m
}

// dmOneToOne is a joined room whose members are exactly me and x.
func dmOneToOne(room id.RoomID, x id.UserID, lastActivity int64) *RoomInfo {
	return &RoomInfo{
		ID:           room,
		Membership:   event.MembershipJoin,
		Members:      dmMembers(dmMe, event.MembershipJoin, x, event.MembershipJoin),
		LastActivity: lastActivity,
	}
}

// dmRoomMap indexes rooms by ID.
func dmRoomMap(rooms ...*RoomInfo) map[id.RoomID]*RoomInfo {
	m := map[id.RoomID]*RoomInfo{}
	for _, r := range rooms {
		m[r.ID] = r
	}
	return m
}

func TestParseDirect(t *testing.T) {
	tests := []struct {
		name     string
		raw      string
		nilInput bool
		want     Direct
		wantOK   bool
	}{
		{name: "R1 valid content in server order", raw: `{"@alice:x":["!b:x","!a:x"],"@bob:x":["!c:x"]}`,
			want: Direct{dmAlice: {"!b:x", "!a:x"}, dmBob: {"!c:x"}}, wantOK: true},
		{name: "R1 nil input is absent account data", nilInput: true, want: Direct{}, wantOK: true},
		{name: "R1 blank input is absent account data", raw: " \n", want: Direct{}, wantOK: true},
		{name: "R1 empty object", raw: `{}`, want: Direct{}, wantOK: true},
		{name: "R1 null is not an object", raw: `null`, want: Direct{}, wantOK: false},
		{name: "R1 array is not an object", raw: `[]`, want: Direct{}, wantOK: false},
		{name: "R1 string is not an object", raw: `"x"`, want: Direct{}, wantOK: false},
		{name: "R1 truncated JSON is not an object", raw: `{"@alice:x":["!a:x"]`, want: Direct{}, wantOK: false},
		{name: "R1 entries with non-list values are skipped",
			raw:  `{"@alice:x":"!a:x","@bob:x":{"rooms":["!b:x"]},"@carol:x":null,"@bot:x":7,"@me:x":["!m:x"]}`,
			want: Direct{dmMe: {"!m:x"}}, wantOK: true},
		{name: "R1 numbers, null, objects and empty strings in a list are skipped",
			raw:  `{"@alice:x":[1,"!a:x",null,"",{"r":"!z:x"},["!y:x"],true,"!b:x"]}`,
			want: Direct{dmAlice: {"!a:x", "!b:x"}}, wantOK: true},
		{name: "R1 a repeated room is kept once at its first position",
			raw:  `{"@alice:x":["!a:x","!b:x","!a:x"]}`,
			want: Direct{dmAlice: {"!a:x", "!b:x"}}, wantOK: true},
		{name: "R1 an entry with no usable room is skipped",
			raw:  `{"@alice:x":[],"@bob:x":[null],"@carol:x":["!c:x"]}`,
			want: Direct{dmCarol: {"!c:x"}}, wantOK: true},
		{name: "R1 keys that are not user IDs are kept as given",
			raw:  `{"not a user":["!a:x"],"":["!b:x"]}`,
			want: Direct{"not a user": {"!a:x"}, "": {"!b:x"}}, wantOK: true},
		{name: "R1 escapes and brackets inside strings are parsed",
			raw:  `{"@bob:x":{"k":"]}\"[{"},"@\u0061lice:x":["!a\"]:x"]}`,
			want: Direct{dmAlice: {`!a"]:x`}}, wantOK: true},
		{name: "R1 a later duplicate key wins",
			raw:  `{"@alice:x":["!a:x"],"@alice:x":["!b:x"]}`,
			want: Direct{dmAlice: {"!b:x"}}, wantOK: true},
		{name: "R1 a later duplicate key that is not a list removes the earlier entry",
			raw:  `{"@alice:x":["!a:x"],"@alice:x":"bad"}`,
			want: Direct{}, wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := []byte(tt.raw)
			if tt.nilInput {
				raw = nil
			}
			got, ok := ParseDirect(raw)
			if ok != tt.wantOK {
				t.Errorf("wellFormed = %v, want %v", ok, tt.wantOK)
			}
			if got == nil {
				t.Fatalf("Direct is nil, want an empty map at least")
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Direct = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDirectRooms(t *testing.T) {
	tests := []struct {
		name string
		d    Direct
		want map[id.RoomID][]id.UserID
	}{
		{name: "R2 inverts and sorts users; a room under two users is a group DM",
			d: Direct{dmCarol: {"!g:x"}, dmAlice: {"!a:x", "!g:x"}, dmMe: {"!n:x"}},
			want: map[id.RoomID][]id.UserID{
				"!a:x": {dmAlice},
				"!g:x": {dmAlice, dmCarol},
				"!n:x": {dmMe},
			}},
		{name: "R2 empty", d: Direct{}, want: map[id.RoomID][]id.UserID{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.Rooms(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Rooms() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDirectEdits(t *testing.T) {
	assign := func(room id.RoomID, user id.UserID) func([]byte) ([]byte, bool, error) {
		return func(raw []byte) ([]byte, bool, error) { return AssignDirectRoom(raw, room, user) }
	}
	unmark := func(room id.RoomID) func([]byte) ([]byte, bool, error) {
		return func(raw []byte) ([]byte, bool, error) { return UnmarkDirectRoom(raw, room) }
	}
	replace := func(oldRoom, newRoom id.RoomID) func([]byte) ([]byte, bool, error) {
		return func(raw []byte) ([]byte, bool, error) { return ReplaceDirectRoom(raw, oldRoom, newRoom) }
	}
	tests := []struct {
		name        string
		edit        func([]byte) ([]byte, bool, error)
		raw         string
		nilInput    bool
		want        string
		wantChanged bool
		wantErr     string // substring; the error must also wrap ErrMalformedDirect
	}{
		// AssignDirectRoom
		{name: "R13 assign into absent m.direct", edit: assign("!r:x", dmBob), nilInput: true,
			want: `{"@bob:x":["!r:x"]}`, wantChanged: true},
		{name: "R15 assign moves the room from @alice to @bob",
			edit: assign("!r:x", dmBob), raw: `{"@alice:x":["!r:x","!s:x"],"@bob:x":["!t:x"]}`,
			want: `{"@alice:x":["!s:x"],"@bob:x":["!t:x","!r:x"]}`, wantChanged: true},
		{name: "R15 assign drops a list that becomes empty",
			edit: assign("!r:x", dmBob), raw: `{"@alice:x":["!r:x"],"@carol:x":[]}`,
			want: `{"@carol:x":[],"@bob:x":["!r:x"]}`, wantChanged: true},
		{name: "R14 assign already in place is unchanged and returns the input",
			edit: assign("!r:x", dmBob), raw: `{ "@bob:x": [ "!t:x", "!r:x" ] }`,
			want: `{ "@bob:x": [ "!t:x", "!r:x" ] }`, wantChanged: false},
		{name: "R1 assign keeps malformed entries it need not change verbatim",
			edit: assign("!r:x", "@y:x"),
			raw:  `{"@x:x": "notalist", "@z:x": [1, "!q:x"], "odd": {"a": [ 1 ]}}`,
			want: `{"@x:x":"notalist","@z:x":[1, "!q:x"],"odd":{"a": [ 1 ]},"@y:x":["!r:x"]}`, wantChanged: true},
		{name: "R13 assign matches an escaped key and keeps its bytes",
			edit: assign("!r:x", dmAlice), raw: `{"@\u0061lice:x":["!s:x"]}`,
			want: `{"@\u0061lice:x":["!s:x","!r:x"]}`, wantChanged: true},
		{name: "R13 assign keeps untouched list elements byte-for-byte",
			edit: assign("!r:x", dmBob), raw: `{"@alice:x":["!\u0073:x", "!r:x"]}`,
			want: `{"@alice:x":["!\u0073:x"],"@bob:x":["!r:x"]}`, wantChanged: true},
		{name: "R13 assign writes room IDs without HTML escaping",
			edit: assign("!a<&>:x", dmBob), raw: `{}`,
			want: `{"@bob:x":["!a<&>:x"]}`, wantChanged: true},
		{name: "R14 assign leaves a target list with a stray number alone when the room is there",
			edit: assign("!r:x", dmBob), raw: `{"@bob:x":[5,"!r:x"]}`,
			want: `{"@bob:x":[5,"!r:x"]}`, wantChanged: false},
		{name: "R1 assign refuses a target entry that is not a list",
			edit: assign("!r:x", dmBob), raw: `{"@bob:x":"notalist"}`, wantErr: `"@bob:x"`},
		{name: "R1 assign refuses a target list with a non-string",
			edit: assign("!r:x", dmBob), raw: `{"@bob:x":["!a:x",5]}`, wantErr: `"@bob:x"`},
		{name: "R1 assign refuses to change another malformed list holding the room",
			edit: assign("!r:x", dmBob), raw: `{"@alice:x":["!r:x",null]}`, wantErr: `"@alice:x"`},
		{name: "R1 assign refuses null content", edit: assign("!r:x", dmBob), raw: `null`, wantErr: "not a JSON object"},
		{name: "R1 assign refuses array content", edit: assign("!r:x", dmBob), raw: `[]`, wantErr: "not a JSON object"},
		{name: "R1 assign refuses string content", edit: assign("!r:x", dmBob), raw: `"x"`, wantErr: "not a JSON object"},
		{name: "R1 assign refuses invalid JSON", edit: assign("!r:x", dmBob), raw: `{"@bob:x":[`, wantErr: "not a JSON object"},

		// UnmarkDirectRoom
		{name: "R15 unmark removes the room everywhere and drops empty keys",
			edit: unmark("!r:x"), raw: `{"@alice:x":["!r:x"],"@bob:x":["!s:x","!r:x"],"@carol:x":"bad"}`,
			want: `{"@bob:x":["!s:x"],"@carol:x":"bad"}`, wantChanged: true},
		{name: "R17 unmark the only room leaves an empty object",
			edit: unmark("!r:x"), raw: `{"@alice:x":["!r:x"]}`, want: `{}`, wantChanged: true},
		{name: "R14 unmark a room that is not there is unchanged",
			edit: unmark("!r:x"), raw: `{"@alice:x": ["!s:x"], "@bob:x": {"r": "!r:x"}}`,
			want: `{"@alice:x": ["!s:x"], "@bob:x": {"r": "!r:x"}}`, wantChanged: false},
		{name: "R14 unmark on absent m.direct is unchanged", edit: unmark("!r:x"), nilInput: true,
			want: `{}`, wantChanged: false},
		{name: "R1 unmark refuses a malformed list holding the room",
			edit: unmark("!r:x"), raw: `{"@alice:x":[{"x":1},"!r:x"]}`, wantErr: `"@alice:x"`},
		{name: "R1 unmark refuses null content", edit: unmark("!r:x"), raw: `null`, wantErr: "not a JSON object"},

		// ReplaceDirectRoom
		{name: "R23 replace in place, without duplicating the new room",
			edit: replace("!old:x", "!new:x"),
			raw:  `{"@alice:x":["!s:x","!old:x","!t:x"],"@bob:x":["!old:x","!new:x"],"@carol:x":["!u:x"],"@z:x":7}`,
			want: `{"@alice:x":["!s:x","!new:x","!t:x"],"@bob:x":["!new:x"],"@carol:x":["!u:x"],"@z:x":7}`, wantChanged: true},
		{name: "R14 replace a room that is not there is unchanged",
			edit: replace("!old:x", "!new:x"), raw: `{"@alice:x":["!s:x"]}`,
			want: `{"@alice:x":["!s:x"]}`, wantChanged: false},
		{name: "R14 replace a room by itself is unchanged",
			edit: replace("!old:x", "!old:x"), raw: `{"@alice:x":["!old:x"]}`,
			want: `{"@alice:x":["!old:x"]}`, wantChanged: false},
		{name: "R1 replace refuses a malformed list holding the room",
			edit: replace("!old:x", "!new:x"), raw: `{"@alice:x":["!old:x",1]}`, wantErr: `"@alice:x"`},
		{name: "R1 replace refuses array content", edit: replace("!old:x", "!new:x"), raw: `[]`, wantErr: "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := []byte(tt.raw)
			if tt.nilInput {
				raw = nil
			}
			got, changed, err := tt.edit(raw)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrMalformedDirect) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrMalformedDirect mentioning %s", err, tt.wantErr)
				}
				if got != nil || changed {
					t.Errorf("on error got %q, changed=%v; want nil, false", got, changed)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if string(got) != tt.want || changed != tt.wantChanged {
				t.Errorf("got %s changed=%v\nwant %s changed=%v", got, changed, tt.want, tt.wantChanged)
			}
			if !json.Valid(got) {
				t.Errorf("output is not valid JSON: %s", got)
			}
		})
	}
}

func TestDirectEditArguments(t *testing.T) {
	tests := []struct {
		name string
		call func() error
	}{
		{"R15 assign needs a room", func() error { _, _, err := AssignDirectRoom(nil, "", dmBob); return err }},
		{"R15 assign needs a user", func() error { _, _, err := AssignDirectRoom(nil, "!r:x", ""); return err }},
		{"R15 unmark needs a room", func() error { _, _, err := UnmarkDirectRoom(nil, ""); return err }},
		{"R23 replace needs both rooms", func() error { _, _, err := ReplaceDirectRoom(nil, "!a:x", ""); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.call() == nil {
				t.Error("want an error for an empty ID")
			}
		})
	}
}

func TestDirectDisplayed(t *testing.T) {
	tests := []struct {
		name string
		r    *RoomInfo
		want bool
	}{
		{"R3 joined is displayed", &RoomInfo{Membership: event.MembershipJoin}, true},
		{"R3 invited is displayed", &RoomInfo{Membership: event.MembershipInvite}, true},
		{"R3 left is hidden", &RoomInfo{Membership: event.MembershipLeave}, false},
		{"R3 banned is hidden", &RoomInfo{Membership: event.MembershipBan}, false},
		{"R3 knocking is hidden", &RoomInfo{Membership: event.MembershipKnock}, false},
		{"R3 never seen is hidden", &RoomInfo{}, false},
		{"R3 missing room is hidden", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.Displayed(); got != tt.want {
				t.Errorf("Displayed() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEffectiveMembers(t *testing.T) {
	tests := []struct {
		name      string
		r         *RoomInfo
		want      []id.UserID
		wantOK    bool
		wantCount int
	}{
		{name: "R6 joined and invited count, sorted",
			r:    &RoomInfo{Members: dmMembers(dmMe, event.MembershipJoin, dmCarol, event.MembershipInvite, dmAlice, event.MembershipJoin)},
			want: []id.UserID{dmAlice, dmCarol, dmMe}, wantOK: true, wantCount: 3},
		{name: "R6 service members are removed",
			r: &RoomInfo{
				Members:        dmMembers(dmMe, event.MembershipJoin, dmAlice, event.MembershipJoin, dmBot, event.MembershipJoin),
				ServiceMembers: []id.UserID{dmBot},
			},
			want: []id.UserID{dmAlice, dmMe}, wantOK: true, wantCount: 2},
		{name: "R6 left, banned and knocking members are removed",
			r: &RoomInfo{Members: dmMembers(dmMe, event.MembershipJoin, dmAlice, event.MembershipLeave,
				dmBob, event.MembershipBan, dmCarol, event.MembershipKnock)},
			want: []id.UserID{dmMe}, wantOK: true, wantCount: 1},
		{name: "R6 known but empty member list",
			r:    &RoomInfo{Members: map[id.UserID]event.Membership{}},
			want: []id.UserID{}, wantOK: true, wantCount: 0},
		{name: "R6 unknown members fall back to the summary counts",
			r:    &RoomInfo{JoinedCount: 2, InvitedCount: 1},
			want: nil, wantOK: false, wantCount: 3},
		{name: "R6 unknown members: service members among the heroes are not counted",
			r:    &RoomInfo{JoinedCount: 3, Heroes: []id.UserID{dmAlice, dmBot}, ServiceMembers: []id.UserID{dmBot, dmBot}},
			want: nil, wantOK: false, wantCount: 2},
		{name: "R6 unknown members and no summary",
			r:    &RoomInfo{},
			want: nil, wantOK: false, wantCount: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.r.EffectiveMembers()
			if ok != tt.wantOK || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("EffectiveMembers() = %v, %v; want %v, %v", got, ok, tt.want, tt.wantOK)
			}
			if n := tt.r.MemberCount(); n != tt.wantCount {
				t.Errorf("MemberCount() = %d, want %d", n, tt.wantCount)
			}
		})
	}
}

func TestQualifiesOneToOne(t *testing.T) {
	tests := []struct {
		name string
		x    id.UserID
		r    *RoomInfo
		want bool
	}{
		{"R6 me and x joined", dmAlice, dmOneToOne("!a:x", dmAlice, 0), true},
		{"R6 x invited qualifies", dmAlice,
			&RoomInfo{Members: dmMembers(dmMe, event.MembershipJoin, dmAlice, event.MembershipInvite)}, true},
		{"R6 three members do not qualify", dmAlice,
			&RoomInfo{Members: dmMembers(dmMe, event.MembershipJoin, dmAlice, event.MembershipJoin, dmBob, event.MembershipJoin)}, false},
		{"R6 a service bot as third member still qualifies", dmAlice,
			&RoomInfo{Members: dmMembers(dmMe, event.MembershipJoin, dmAlice, event.MembershipJoin, dmBot, event.MembershipJoin),
				ServiceMembers: []id.UserID{dmBot}}, true},
		{"R6 x left does not qualify", dmAlice,
			&RoomInfo{Members: dmMembers(dmMe, event.MembershipJoin, dmAlice, event.MembershipLeave)}, false},
		{"R6 x left and someone else joined does not qualify", dmAlice,
			&RoomInfo{Members: dmMembers(dmMe, event.MembershipJoin, dmAlice, event.MembershipLeave, dmBob, event.MembershipJoin)}, false},
		{"R6 a room with the wrong other person does not qualify", dmAlice, dmOneToOne("!b:x", dmBob, 0), false},
		{"R6 a room without me does not qualify", dmAlice,
			&RoomInfo{Members: dmMembers(dmAlice, event.MembershipJoin, dmBob, event.MembershipJoin)}, false},
		{"R6 unknown members do not qualify", dmAlice, &RoomInfo{JoinedCount: 2, Heroes: []id.UserID{dmAlice}}, false},
		{"R6 x is me: a notes room is not a 1:1", dmMe,
			&RoomInfo{Members: dmMembers(dmMe, event.MembershipJoin)}, false},
		{"R6 x is me: a room with me and someone else is not a 1:1 with me", dmMe, dmOneToOne("!b:x", dmBob, 0), false},
		{"R6 nil room", dmAlice, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := QualifiesOneToOne(dmMe, tt.x, tt.r); got != tt.want {
				t.Errorf("QualifiesOneToOne = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestChooseDMRoom(t *testing.T) {
	threeMembers := &RoomInfo{ID: "!three:x", Membership: event.MembershipJoin, LastActivity: 900,
		Members: dmMembers(dmMe, event.MembershipJoin, dmAlice, event.MembershipJoin, dmBob, event.MembershipJoin)}
	xLeft := &RoomInfo{ID: "!left:x", Membership: event.MembershipJoin, LastActivity: 800,
		Members: dmMembers(dmMe, event.MembershipJoin, dmAlice, event.MembershipLeave)}
	weLeft := dmOneToOne("!weleft:x", dmAlice, 700)
	weLeft.Membership = event.MembershipLeave
	weInvited := dmOneToOne("!invited:x", dmAlice, 600)
	weInvited.Membership = event.MembershipInvite
	unknownMembers := &RoomInfo{ID: "!unknown:x", Membership: event.MembershipJoin, LastActivity: 500, JoinedCount: 2}

	tests := []struct {
		name      string
		d         Direct
		rooms     map[id.RoomID]*RoomInfo
		want      id.RoomID
		wantFound bool
	}{
		{name: "R7 most recent of two qualifying rooms",
			d:     Direct{dmAlice: {"!old:x", "!new:x"}},
			rooms: dmRoomMap(dmOneToOne("!old:x", dmAlice, 100), dmOneToOne("!new:x", dmAlice, 200)),
			want:  "!new:x", wantFound: true},
		{name: "R7 a tie goes to the smaller room ID",
			d:     Direct{dmAlice: {"!b:x", "!a:x"}},
			rooms: dmRoomMap(dmOneToOne("!b:x", dmAlice, 100), dmOneToOne("!a:x", dmAlice, 100)),
			want:  "!a:x", wantFound: true},
		{name: "R6 skips a more recent room with a third member",
			d:     Direct{dmAlice: {"!three:x", "!a:x"}},
			rooms: dmRoomMap(threeMembers, dmOneToOne("!a:x", dmAlice, 100)),
			want:  "!a:x", wantFound: true},
		{name: "R9 skips a more recent room x left",
			d:     Direct{dmAlice: {"!left:x", "!a:x"}},
			rooms: dmRoomMap(xLeft, dmOneToOne("!a:x", dmAlice, 100)),
			want:  "!a:x", wantFound: true},
		{name: "R5 skips rooms we left or are only invited to",
			d:     Direct{dmAlice: {"!weleft:x", "!invited:x", "!a:x"}},
			rooms: dmRoomMap(weLeft, weInvited, dmOneToOne("!a:x", dmAlice, 100)),
			want:  "!a:x", wantFound: true},
		{name: "R5 skips rooms missing from the map and with unknown members",
			d:     Direct{dmAlice: {"!gone:x", "!unknown:x", "!a:x"}},
			rooms: dmRoomMap(unknownMembers, dmOneToOne("!a:x", dmAlice, 100)),
			want:  "!a:x", wantFound: true},
		{name: "R8 falls back to a qualifying room listed under someone else",
			d:     Direct{dmAlice: {"!left:x"}, dmBob: {"!b:x", "!wrong:x"}},
			rooms: dmRoomMap(xLeft, dmOneToOne("!b:x", dmAlice, 50), dmOneToOne("!wrong:x", dmBob, 999)),
			want:  "!b:x", wantFound: true},
		{name: "R8 falls back to a group-listed room that is really {me, x}",
			d:     Direct{dmBob: {"!g:x"}, dmCarol: {"!g:x"}},
			rooms: dmRoomMap(dmOneToOne("!g:x", dmAlice, 50)),
			want:  "!g:x", wantFound: true},
		{name: "R8 is not used while a room under x qualifies",
			d:     Direct{dmAlice: {"!a:x"}, dmBob: {"!b:x"}},
			rooms: dmRoomMap(dmOneToOne("!a:x", dmAlice, 10), dmOneToOne("!b:x", dmAlice, 999)),
			want:  "!a:x", wantFound: true},
		{name: "R9 x left every former DM: nothing found",
			d:     Direct{dmAlice: {"!left:x", "!three:x"}},
			rooms: dmRoomMap(xLeft, threeMembers),
			want:  "", wantFound: false},
		{name: "R10 no m.direct at all: nothing found",
			d:     Direct{},
			rooms: dmRoomMap(dmOneToOne("!notdirect:x", dmAlice, 10)),
			want:  "", wantFound: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found := ChooseDMRoom(dmMe, dmAlice, tt.d, tt.rooms)
			if got != tt.want || found != tt.wantFound {
				t.Errorf("ChooseDMRoom = %q, %v; want %q, %v", got, found, tt.want, tt.wantFound)
			}
		})
	}
}

func TestDirectNeedMembers(t *testing.T) {
	joinedUnknown := func(room id.RoomID, heroes ...id.UserID) *RoomInfo {
		return &RoomInfo{ID: room, Membership: event.MembershipJoin, Heroes: heroes, JoinedCount: 2}
	}
	invitedUnknown := joinedUnknown("!inv:x", dmAlice)
	invitedUnknown.Membership = event.MembershipInvite
	leftUnknown := joinedUnknown("!gone:x", dmAlice)
	leftUnknown.Membership = event.MembershipLeave
	rooms := dmRoomMap(
		joinedUnknown("!x2:x"),             // under alice, unknown members, heroes not loaded yet
		joinedUnknown("!x1:x", dmBob),      // under alice: R5 candidate whatever its heroes
		dmOneToOne("!known:x", dmAlice, 0), // members already known
		leftUnknown,                        // we left: not a candidate
		joinedUnknown("!r8:x", dmAlice),    // under bob, alice among heroes: R8 candidate
		joinedUnknown("!r8no:x", dmCarol),
		invitedUnknown,
	)
	tests := []struct {
		name string
		d    Direct
		want []id.RoomID
	}{
		{name: "R5 R8 joined rooms with unknown members, sorted and deduplicated",
			d: Direct{
				dmAlice: {"!x2:x", "!x1:x", "!known:x", "!gone:x", "!missing:x"},
				dmBob:   {"!r8:x", "!r8no:x", "!inv:x", "!x1:x"},
				dmCarol: {"!r8:x"},
			},
			want: []id.RoomID{"!r8:x", "!x1:x", "!x2:x"}},
		{name: "R5 nothing to fetch", d: Direct{dmAlice: {"!known:x"}}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NeedMembers(dmMe, dmAlice, tt.d, rooms); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("NeedMembers = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDirectDMRoomsWith(t *testing.T) {
	three := &RoomInfo{ID: "!three:x", Membership: event.MembershipJoin, LastActivity: 500,
		Members: dmMembers(dmMe, event.MembershipJoin, dmAlice, event.MembershipJoin, dmBob, event.MembershipJoin)}
	xLeft := &RoomInfo{ID: "!left:x", Membership: event.MembershipJoin, LastActivity: 400,
		Members: dmMembers(dmMe, event.MembershipJoin, dmAlice, event.MembershipLeave)}
	xBanned := &RoomInfo{ID: "!banned:x", Membership: event.MembershipJoin, LastActivity: 400,
		Members: dmMembers(dmMe, event.MembershipJoin, dmAlice, event.MembershipBan)}
	invitedUnknown := &RoomInfo{ID: "!inv:x", Membership: event.MembershipInvite, LastActivity: 50,
		JoinedCount: 1, InvitedCount: 1}
	weLeft := dmOneToOne("!weleft:x", dmAlice, 999)
	weLeft.Membership = event.MembershipLeave
	rooms := dmRoomMap(
		dmOneToOne("!a:x", dmAlice, 100),
		dmOneToOne("!b:x", dmAlice, 300),
		three, xLeft, xBanned, invitedUnknown, weLeft,
		dmOneToOne("!r8:x", dmAlice, 600),
		dmOneToOne("!bob:x", dmBob, 700),
	)
	d := Direct{
		dmAlice: {"!a:x", "!inv:x", "!left:x", "!banned:x", "!three:x", "!weleft:x", "!missing:x", "!b:x"},
		dmBob:   {"!r8:x", "!bob:x"},
	}
	want := []DMRoomChoice{
		{RoomID: "!b:x", MemberCount: 2, OneToOne: true, Chosen: true, Listed: true, LastActivity: 300},
		{RoomID: "!r8:x", MemberCount: 2, OneToOne: true, Listed: false, LastActivity: 600},
		{RoomID: "!a:x", MemberCount: 2, OneToOne: true, Listed: true, LastActivity: 100},
		{RoomID: "!three:x", MemberCount: 3, Listed: true, LastActivity: 500},
		{RoomID: "!banned:x", MemberCount: 1, Listed: true, XLeft: true, LastActivity: 400},
		{RoomID: "!left:x", MemberCount: 1, Listed: true, XLeft: true, LastActivity: 400},
		{RoomID: "!inv:x", MemberCount: 2, Listed: true, LastActivity: 50},
	}
	tests := []struct {
		name string
		d    Direct
		want []DMRoomChoice
	}{
		{name: "R5 R7 R8 chosen first, then 1:1 rooms, then the rest, most recent first", d: d, want: want},
		{name: "R9 no room with x", d: Direct{dmBob: {"!bob:x"}}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DMRoomsWith(dmMe, dmAlice, tt.d, rooms)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DMRoomsWith =\n%s\nwant\n%s", dmFormat(got), dmFormat(tt.want))
			}
		})
	}
}

func dmFormat[T any](list []T) string {
	var b strings.Builder
	for _, v := range list {
		fmt.Fprintf(&b, "  %+v\n", v)
	}
	return b.String()
}

func TestBuildContacts(t *testing.T) {
	const (
		dave id.UserID = "@dave:x"
		erin id.UserID = "@erin:x"
		gina id.UserID = "@gina:x"
		hank id.UserID = "@hank:x"
		ivan id.UserID = "@ivan:x"
	)
	withUnread := func(r *RoomInfo, unread int) *RoomInfo { r.Unread = unread; return r }
	left := func(r *RoomInfo) *RoomInfo { r.Membership = event.MembershipLeave; return r }
	invite := func(room id.RoomID, from id.UserID, direct bool, lastActivity int64) *RoomInfo {
		return &RoomInfo{ID: room, Membership: event.MembershipInvite, Inviter: from, IsDirectInvite: direct,
			LastActivity: lastActivity, Unread: 1}
	}
	group := &RoomInfo{ID: "!g1:x", Membership: event.MembershipJoin, LastActivity: 500, Unread: 7, Name: "Trip",
		Members: dmMembers(dmMe, event.MembershipJoin, dmCarol, event.MembershipJoin, dave, event.MembershipJoin)}
	three := &RoomInfo{ID: "!b1:x", Membership: event.MembershipJoin, LastActivity: 200, Unread: 4,
		JoinedCount: 3, Heroes: []id.UserID{dmBob, dmCarol}}
	notes := &RoomInfo{ID: "!n1:x", Membership: event.MembershipJoin, LastActivity: 10,
		Members: dmMembers(dmMe, event.MembershipJoin)}
	meAndErin := withUnread(dmOneToOne("!g2:x", erin, 20), 3)

	tests := []struct {
		name  string
		d     Direct
		rooms map[id.RoomID]*RoomInfo
		want  ContactList
	}{
		{
			name: "R18 R19 R20 R2 R3 R4 full list",
			d: Direct{
				dmAlice:    {"!a1:x", "!a2:x", "!aold:x"},
				dmBob:      {"!b1:x"},
				dmCarol:    {"!g1:x", "!c1:x"},
				dave:       {"!g1:x"},
				dmMe:       {"!n1:x", "!g2:x"},
				erin:       {"!g2:x"},
				"@frank:x": {"!unseen:x"},
				gina:       {"!i1:x"},
			},
			rooms: dmRoomMap(
				withUnread(dmOneToOne("!a1:x", dmAlice, 100), 2),
				withUnread(dmOneToOne("!a2:x", dmAlice, 300), 1),
				withUnread(left(dmOneToOne("!aold:x", dmAlice, 999)), 50), // R3: hidden
				three, group, notes, meAndErin,
				withUnread(dmOneToOne("!c1:x", dmCarol, 50), 5),
				invite("!i1:x", gina, true, 700),   // in d and a direct invite: counted once
				invite("!i2:x", hank, true, 650),   // direct invite not in d
				invite("!i3:x", ivan, false, 640),  // not direct: not a contact
				invite("!i4:x", dmMe, true, 630),   // from me: ignored
				invite("!i5:x", dmAlice, true, 40), // alice has a joined room: not pending
			),
			want: ContactList{
				Contacts: []Contact{
					{UserID: gina, Rooms: []id.RoomID{"!i1:x"}, LastActivity: 700, Unread: 1, Pending: true,
						InviteRooms: []id.RoomID{"!i1:x"}},
					{UserID: hank, LastActivity: 650, Unread: 1, Pending: true, InviteRooms: []id.RoomID{"!i2:x"}},
					{UserID: dmAlice, Rooms: []id.RoomID{"!a2:x", "!a1:x"}, Room: "!a2:x", LastActivity: 300, Unread: 4,
						InviteRooms: []id.RoomID{"!i5:x"}},
					{UserID: dmBob, Rooms: []id.RoomID{"!b1:x"}, LastActivity: 200},
					{UserID: dmCarol, Rooms: []id.RoomID{"!c1:x"}, Room: "!c1:x", LastActivity: 50, Unread: 5},
					{UserID: dave},
					{UserID: erin, Room: "!g2:x"}, // R5: the group-listed room is really {me, erin}
				},
				Groups: []GroupDM{
					{RoomID: "!g1:x", Users: []id.UserID{dmCarol, dave}, MemberCount: 3, LastActivity: 500, Unread: 7, Name: "Trip"},
					{RoomID: "!b1:x", Users: []id.UserID{dmBob}, MemberCount: 3, LastActivity: 200, Unread: 4},
					{RoomID: "!g2:x", Users: []id.UserID{erin, dmMe}, MemberCount: 2, LastActivity: 20, Unread: 3},
				},
				NotesToSelf: []id.RoomID{"!n1:x"},
			},
		},
		{
			name: "R3 rooms we left or never saw make no contact",
			d:    Direct{dmAlice: {"!gone:x"}, dmBob: {"!left:x"}, dmMe: {"!oldnotes:x"}},
			rooms: dmRoomMap(
				left(dmOneToOne("!left:x", dmBob, 100)),
				left(&RoomInfo{ID: "!oldnotes:x", Members: dmMembers(dmMe, event.MembershipJoin)}),
			),
			want: ContactList{},
		},
		{
			name: "R19 ties sort by user ID; unread only from notification counts",
			d:    Direct{dmCarol: {"!c:x"}, dmAlice: {"!a:x"}, dmBob: {"!b:x"}},
			rooms: dmRoomMap(
				withUnread(dmOneToOne("!c:x", dmCarol, 100), 0),
				withUnread(dmOneToOne("!a:x", dmAlice, 100), 2),
				// bob left: a membership change, still no unread unless the server counts it
				&RoomInfo{ID: "!b:x", Membership: event.MembershipJoin, LastActivity: 900,
					Members: dmMembers(dmMe, event.MembershipJoin, dmBob, event.MembershipLeave)},
			),
			want: ContactList{Contacts: []Contact{
				{UserID: dmBob, Rooms: []id.RoomID{"!b:x"}, LastActivity: 900},
				{UserID: dmAlice, Rooms: []id.RoomID{"!a:x"}, Room: "!a:x", LastActivity: 100, Unread: 2},
				{UserID: dmCarol, Rooms: []id.RoomID{"!c:x"}, Room: "!c:x", LastActivity: 100},
			}},
		},
		{
			name: "R22 R23 an upgraded room's predecessors we are still in count into the contact",
			d:    Direct{dmAlice: {"!new:x"}, dmBob: {"!bobs:x"}},
			rooms: dmRoomMap(
				func() *RoomInfo {
					r := withUnread(dmOneToOne("!new:x", dmAlice, 300), 1)
					r.Predecessor = "!mid:x"
					return r
				}(),
				func() *RoomInfo {
					r := withUnread(dmOneToOne("!mid:x", dmAlice, 200), 2)
					r.Predecessor, r.Tombstone = "!first:x", "!new:x"
					return r
				}(),
				func() *RoomInfo {
					r := withUnread(dmOneToOne("!first:x", dmAlice, 100), 4)
					r.Tombstone = "!mid:x"
					return r
				}(),
				// bob's room claims an upgrade of alice's room: listed under bob, so not alice's
				func() *RoomInfo {
					r := withUnread(dmOneToOne("!bobs:x", dmBob, 50), 8)
					r.Predecessor = "!first:x"
					return r
				}(),
			),
			want: ContactList{Contacts: []Contact{
				{UserID: dmAlice, Rooms: []id.RoomID{"!new:x"}, Room: "!new:x", LastActivity: 300, Unread: 7},
				{UserID: dmBob, Rooms: []id.RoomID{"!bobs:x"}, Room: "!bobs:x", LastActivity: 50, Unread: 8},
			}},
		},
		{
			name: "R2 R20 notes to self sorted most recent first, never a contact; three members make a group",
			d:    Direct{dmMe: {"!n1:x", "!n2:x", "!n3:x"}},
			rooms: dmRoomMap(
				&RoomInfo{ID: "!n1:x", Membership: event.MembershipJoin, LastActivity: 1, Members: dmMembers(dmMe, event.MembershipJoin)},
				&RoomInfo{ID: "!n2:x", Membership: event.MembershipJoin, LastActivity: 2, Members: dmMembers(dmMe, event.MembershipJoin)},
				&RoomInfo{ID: "!n3:x", Membership: event.MembershipJoin, LastActivity: 3, JoinedCount: 3},
			),
			want: ContactList{
				Groups:      []GroupDM{{RoomID: "!n3:x", Users: []id.UserID{dmMe}, MemberCount: 3, LastActivity: 3}},
				NotesToSelf: []id.RoomID{"!n2:x", "!n1:x"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := BuildContacts(dmMe, tt.d, tt.rooms)
			if !reflect.DeepEqual(got.Contacts, tt.want.Contacts) {
				t.Errorf("Contacts =\n%s\nwant\n%s", dmFormat(got.Contacts), dmFormat(tt.want.Contacts))
			}
			if !reflect.DeepEqual(got.Groups, tt.want.Groups) {
				t.Errorf("Groups =\n%s\nwant\n%s", dmFormat(got.Groups), dmFormat(tt.want.Groups))
			}
			if !reflect.DeepEqual(got.NotesToSelf, tt.want.NotesToSelf) {
				t.Errorf("NotesToSelf = %v, want %v", got.NotesToSelf, tt.want.NotesToSelf)
			}
		})
	}
}

func TestContactValidateUserID(t *testing.T) {
	const me id.UserID = "@alice:example.org"
	const form = "expected @name:server (for example @bob:example.org)"
	tests := []struct {
		name    string
		raw     string
		want    id.UserID
		wantErr string // exact message
	}{
		{name: "R12 plain user ID", raw: "@bob:example.org", want: "@bob:example.org"},
		{name: "R12 server with port", raw: "@bob:localhost:8448", want: "@bob:localhost:8448"},
		{name: "R12 IPv6 server with port", raw: "@bob:[::1]:8448", want: "@bob:[::1]:8448"},
		{name: "R12 all current localpart characters", raw: "@a.b_c=d-e/f+1:example.org", want: "@a.b_c=d-e/f+1:example.org"},
		{name: "R12 historical localpart tolerated", raw: "@Bob!:example.org", want: "@Bob!:example.org"},
		{name: "R12 surrounding spaces ignored", raw: "  @bob:example.org\n", want: "@bob:example.org"},
		{name: "R12 empty", raw: " ", wantErr: "no user ID given: " + form},
		{name: "R12 bare name", raw: "bob", wantErr: `"bob" is not a Matrix user ID: it must start with @; ` + form},
		{name: "R12 no server", raw: "@bob", wantErr: `"@bob" is not a Matrix user ID: the :server part is missing; ` + form},
		{name: "R12 empty name", raw: "@:x", wantErr: `"@:x" is not a Matrix user ID: the name before : is empty; ` + form},
		{name: "R12 empty server", raw: "@bob:", wantErr: `"@bob:" is not a Matrix user ID: the server after : is empty; ` + form},
		{name: "R12 space in the name", raw: "@Bob Smith:x",
			wantErr: `"@Bob Smith:x" is not a Matrix user ID: the name "Bob Smith" has a space; use a-z, 0-9 and . _ = - / +; ` + form},
		{name: "R12 non-ASCII name", raw: "@bøb:x",
			wantErr: `"@bøb:x" is not a Matrix user ID: the name "bøb" has 'ø'; use a-z, 0-9 and . _ = - / +; ` + form},
		{name: "R12 bad server name", raw: "@bob:exa mple.org",
			wantErr: `"@bob:exa mple.org" is not a Matrix user ID: "exa mple.org" is not a server name (host or host:port); ` + form},
		{name: "R12 too long", raw: "@" + strings.Repeat("a", 250) + ":example.org",
			wantErr: `"@` + strings.Repeat("a", 250) + `:example.org" is not a Matrix user ID: it is longer than 255 characters; ` + form},
		{name: "R12 yourself", raw: "@alice:example.org", wantErr: "@alice:example.org is you: pick someone else"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ValidateUserID(me, tt.raw)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v\nwant  %s", err, tt.wantErr)
				}
				if got != "" {
					t.Errorf("got %q with an error, want empty", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ValidateUserID = %q, %v; want %q, nil", got, err, tt.want)
			}
		})
	}
}
