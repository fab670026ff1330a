package matrixsvc

// The DM rules of docs/dm-rules.md (R1-R25) as pure functions over data: parsing and editing
// m.direct, choosing the room for a contact, and deriving the contact list. Nothing here does
// I/O; the single m.direct writer and the sync code feed these functions and act on the results.

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Direct is m.direct parsed: user -> room IDs in server order.
type Direct map[id.UserID][]id.RoomID

// ParseDirect parses m.direct content tolerantly (R1): entries whose value is not a list are
// skipped, non-string (or empty) room IDs inside a list are skipped, and keys that are not
// valid-looking user IDs are still kept (as given). A room repeated in one list is kept once, at
// its first position; an entry left with no room IDs is skipped; when a key appears twice the
// later entry wins (as in most JSON parsers).
//
// wellFormed is false when the content as a whole is not a JSON object (then d is empty): the
// caller shows what it can and refuses to write m.direct (R1). nil/empty input is absent account
// data: an empty Direct, wellFormed true.
func ParseDirect(raw []byte) (d Direct, wellFormed bool) {
	d = Direct{}
	entries, err := splitDirect(raw)
	if err != nil {
		return Direct{}, false
	}
	for _, e := range entries {
		user := id.UserID(e.key)
		delete(d, user) // a later duplicate key replaces the earlier entry
		items, isList := parseDirectList(e.rawVal)
		if !isList {
			continue
		}
		var list []id.RoomID
		for _, it := range items {
			room := id.RoomID(it.str)
			if !it.isString || room == "" || slices.Contains(list, room) {
				continue
			}
			list = append(list, room)
		}
		if len(list) > 0 {
			d[user] = list
		}
	}
	return d, true
}

// Rooms inverts Direct into room -> users (R2), users sorted. A room with more than one user is
// a group DM; a room under our own user ID is a notes-to-self room.
func (d Direct) Rooms() map[id.RoomID][]id.UserID {
	out := make(map[id.RoomID][]id.UserID)
	for user, list := range d {
		for _, room := range list {
			if !slices.Contains(out[room], user) {
				out[room] = append(out[room], user)
			}
		}
	}
	for room := range out {
		slices.Sort(out[room])
	}
	return out
}

// ErrMalformedDirect is returned (wrapped with detail) by the m.direct edits when the content
// is not a JSON object or an entry they must change is not a list of strings (R1, R13).
//
// The edits AssignDirectRoom, UnmarkDirectRoom and ReplaceDirectRoom serve the single m.direct
// writer (R13-R15). Each takes the raw JSON content as fetched from the server (nil/empty = {})
// and returns the new raw content and whether anything changed (R14: callers skip the write when
// !changed; the returned content is then the input, or {} for empty input). They keep every
// entry they do not need to change byte-for-byte, including entries they could not parse: data
// we did not understand is never destroyed. Whether a malformed entry (e.g. "@x": "notalist")
// holds the room cannot be known, so it is left as it is. Whitespace between entries is not
// kept when something changed.
var ErrMalformedDirect = errors.New("m.direct is malformed")

// AssignDirectRoom adds room under user (appended at the end if missing) and removes it from
// every other user's list (R15, R16, R11); lists that become empty are dropped.
func AssignDirectRoom(raw []byte, room id.RoomID, user id.UserID) ([]byte, bool, error) {
	if room == "" || user == "" {
		return nil, false, fmt.Errorf("assign room %q to user %q in m.direct: empty room or user ID", room, user)
	}
	entries, err := splitDirect(raw)
	if err != nil {
		return nil, false, err
	}
	changed, found := false, false
	out := entries[:0:0]
	for _, e := range entries {
		items, isList := parseDirectList(e.rawVal)
		has := isList && directListHas(items, room)
		if e.key == string(user) {
			found = true
			if !has {
				if !isList || !directListAllStrings(items) {
					return nil, false, malformedDirectEntry(e.key)
				}
				items = append(items, directItemOf(string(room)))
				e.rawVal = encodeDirectList(items)
				changed = true
			}
			out = append(out, e)
			continue
		}
		if !has {
			out = append(out, e)
			continue
		}
		if !directListAllStrings(items) {
			return nil, false, malformedDirectEntry(e.key)
		}
		changed = true
		items = slices.DeleteFunc(items, func(it directItem) bool { return it.str == string(room) })
		if len(items) > 0 {
			e.rawVal = encodeDirectList(items)
			out = append(out, e)
		}
	}
	if !found {
		out = append(out, directEntry{
			key:    string(user),
			rawKey: directString(string(user)),
			rawVal: encodeDirectList([]directItem{directItemOf(string(room))}),
		})
		changed = true
	}
	return directResult(raw, out, changed)
}

// UnmarkDirectRoom removes room from every list and drops keys whose list becomes empty (R15,
// R17).
func UnmarkDirectRoom(raw []byte, room id.RoomID) ([]byte, bool, error) {
	if room == "" {
		return nil, false, errors.New("unmark room in m.direct: empty room ID")
	}
	entries, err := splitDirect(raw)
	if err != nil {
		return nil, false, err
	}
	changed := false
	out := entries[:0:0]
	for _, e := range entries {
		items, isList := parseDirectList(e.rawVal)
		if !isList || !directListHas(items, room) {
			out = append(out, e)
			continue
		}
		if !directListAllStrings(items) {
			return nil, false, malformedDirectEntry(e.key)
		}
		changed = true
		items = slices.DeleteFunc(items, func(it directItem) bool { return it.str == string(room) })
		if len(items) > 0 {
			e.rawVal = encodeDirectList(items)
			out = append(out, e)
		}
	}
	return directResult(raw, out, changed)
}

// ReplaceDirectRoom replaces oldRoom by newRoom in every list that has it (R23, room upgrades),
// at oldRoom's position, without duplicating newRoom in a list (a list that already has newRoom
// just loses oldRoom).
func ReplaceDirectRoom(raw []byte, oldRoom, newRoom id.RoomID) ([]byte, bool, error) {
	if oldRoom == "" || newRoom == "" {
		return nil, false, fmt.Errorf("replace room %q by %q in m.direct: empty room ID", oldRoom, newRoom)
	}
	entries, err := splitDirect(raw)
	if err != nil {
		return nil, false, err
	}
	if oldRoom == newRoom {
		return directResult(raw, entries, false)
	}
	changed := false
	for i, e := range entries {
		items, isList := parseDirectList(e.rawVal)
		if !isList || !directListHas(items, oldRoom) {
			continue
		}
		if !directListAllStrings(items) {
			return nil, false, malformedDirectEntry(e.key)
		}
		hasNew := directListHas(items, newRoom)
		var next []directItem
		for _, it := range items {
			if it.str != string(oldRoom) {
				next = append(next, it)
				continue
			}
			if !hasNew {
				next = append(next, directItemOf(string(newRoom)))
				hasNew = true
			}
		}
		entries[i].rawVal = encodeDirectList(next)
		changed = true
	}
	return directResult(raw, entries, changed)
}

// directEntry is one top-level entry of m.direct: the decoded key and the exact bytes of the
// key and the value as the server sent them.
type directEntry struct {
	key    string
	rawKey []byte
	rawVal []byte
}

// directItem is one element of an m.direct list: its exact bytes and, for a JSON string, its
// decoded value.
type directItem struct {
	raw      []byte
	str      string
	isString bool
}

// splitDirect splits m.direct content into its top-level entries in order (nil/empty = {}).
// It fails with ErrMalformedDirect when the content is not a JSON object.
func splitDirect(raw []byte) ([]directEntry, error) {
	raw = trimJSONSpace(raw)
	if len(raw) == 0 {
		return nil, nil
	}
	if !json.Valid(raw) || raw[0] != '{' {
		return nil, fmt.Errorf("%w: the content is not a JSON object", ErrMalformedDirect)
	}
	// raw is a valid JSON object, so the scan below only has to find boundaries.
	var entries []directEntry
	i := jsonSkipSpace(raw, 1)
	for raw[i] != '}' {
		keyEnd := jsonValueEnd(raw, i)
		e := directEntry{rawKey: raw[i:keyEnd]}
		if err := json.Unmarshal(e.rawKey, &e.key); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformedDirect, err)
		}
		i = jsonSkipSpace(raw, jsonSkipSpace(raw, keyEnd)+1) // past ':'
		valEnd := jsonValueEnd(raw, i)
		e.rawVal = raw[i:valEnd]
		entries = append(entries, e)
		i = jsonSkipSpace(raw, valEnd)
		if raw[i] == ',' {
			i = jsonSkipSpace(raw, i+1)
		}
	}
	return entries, nil
}

// jsonSkipSpace returns the index of the first non-whitespace byte at or after i.
func jsonSkipSpace(raw []byte, i int) int {
	for i < len(raw) && strings.IndexByte(" \t\r\n", raw[i]) >= 0 {
		i++
	}
	return i
}

// jsonValueEnd returns the index just past the JSON value starting at raw[i], which must be valid.
func jsonValueEnd(raw []byte, i int) int {
	switch raw[i] {
	case '"':
		for i++; raw[i] != '"'; i++ {
			if raw[i] == '\\' {
				i++
			}
		}
		return i + 1
	case '{', '[':
		depth := 0
		for {
			switch raw[i] {
			case '"':
				i = jsonValueEnd(raw, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
	default: // number, true, false, null
		for i < len(raw) && strings.IndexByte(",}] \t\r\n", raw[i]) < 0 {
			i++
		}
		return i
	}
}

// parseDirectList reads an m.direct value; isList is false when it is not a JSON array.
func parseDirectList(rawVal []byte) (items []directItem, isList bool) {
	var elems []json.RawMessage
	if len(rawVal) == 0 || rawVal[0] != '[' || json.Unmarshal(rawVal, &elems) != nil {
		return nil, false
	}
	items = make([]directItem, 0, len(elems))
	for _, el := range elems {
		it := directItem{raw: bytes.TrimSpace(el)}
		if len(it.raw) > 0 && it.raw[0] == '"' {
			it.isString = json.Unmarshal(it.raw, &it.str) == nil
		}
		items = append(items, it)
	}
	return items, true
}

func directListHas(items []directItem, room id.RoomID) bool {
	return slices.ContainsFunc(items, func(it directItem) bool { return it.isString && it.str == string(room) })
}

func directListAllStrings(items []directItem) bool {
	return !slices.ContainsFunc(items, func(it directItem) bool { return !it.isString })
}

func directItemOf(s string) directItem {
	return directItem{raw: directString(s), str: s, isString: true}
}

func encodeDirectList(items []directItem) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(it.raw)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// directString encodes s as a JSON string without HTML escaping.
func directString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // encoding a string cannot fail
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func malformedDirectEntry(key string) error {
	return fmt.Errorf("%w: the entry for %q is not a list of room IDs", ErrMalformedDirect, key)
}

// directResult returns the edited content, or the input unchanged ({} when empty) when nothing
// changed.
func directResult(raw []byte, entries []directEntry, changed bool) ([]byte, bool, error) {
	if !changed {
		if len(trimJSONSpace(raw)) == 0 {
			return []byte("{}"), false, nil
		}
		return raw, false, nil
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range entries {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(e.rawKey)
		b.WriteByte(':')
		b.Write(e.rawVal)
	}
	b.WriteByte('}')
	return b.Bytes(), true, nil
}

// RoomInfo is what the rules need to know about one room.
type RoomInfo struct {
	ID             id.RoomID
	Membership     event.Membership               // ours: join, invite, leave, ban, or "" when unknown / never seen
	Members        map[id.UserID]event.Membership // full member list when fetched; nil when unknown
	ServiceMembers []id.UserID                    // from m.member_hints service_members or io.element.functional_members
	JoinedCount    int                            // from the sync summary (lazy loading); 0 if unknown
	InvitedCount   int                            // from the sync summary (lazy loading); 0 if unknown
	Heroes         []id.UserID                    // from the sync summary
	LastActivity   int64                          // origin_server_ts (ms) of the most recent event we know
	Unread         int                            // server notification count
	Name           string                         // m.room.name, may be empty
	Encrypted      bool
	Tombstone      id.RoomID // the replacement, when upgraded (R23)
	Predecessor    id.RoomID // the room this one replaced (R23)
	// SharedSince is the server time (ms) when someone besides the two people of this 1:1
	// first joined it, was invited or knocked, as duet saw it happen (MemberChange); 0 if never.
	SharedSince int64
	// For invites (Membership == invite):
	Inviter        id.UserID // sender of our invite member event
	IsDirectInvite bool      // our member event in invite_state has is_direct: true (R4)
}

// Displayed reports R3: we are joined or invited.
func (r *RoomInfo) Displayed() bool {
	return r != nil && r.Membership.IsInviteOrJoin()
}

// EffectiveMembers (R6): users whose membership is join or invite, minus ServiceMembers,
// sorted. ok is false when Members is nil (unknown).
func (r *RoomInfo) EffectiveMembers() (members []id.UserID, ok bool) {
	if r == nil || r.Members == nil {
		return nil, false
	}
	members = []id.UserID{}
	for user, m := range r.Members {
		if m.IsInviteOrJoin() && !slices.Contains(r.ServiceMembers, user) {
			members = append(members, user)
		}
	}
	slices.Sort(members)
	return members, true
}

// MemberCount is len(EffectiveMembers) when the members are known (R6). Otherwise it is the
// sync summary's JoinedCount+InvitedCount minus the service members found among the heroes
// (when anyone besides us is there, the heroes are the joined and invited members), never
// below 1 once the summary says anyone is there; 0 when nothing is known.
func (r *RoomInfo) MemberCount() int {
	if r == nil {
		return 0
	}
	if members, ok := r.EffectiveMembers(); ok {
		return len(members)
	}
	n := r.JoinedCount + r.InvitedCount
	var seen []id.UserID
	for _, s := range r.ServiceMembers {
		if n > 1 && !slices.Contains(seen, s) && slices.Contains(r.Heroes, s) {
			seen = append(seen, s)
			n--
		}
	}
	return n
}

// QualifiesOneToOne (R6): the effective members are exactly {me, x}. False when the members
// are unknown or x is me.
func QualifiesOneToOne(me, x id.UserID, r *RoomInfo) bool {
	members, ok := r.EffectiveMembers()
	if !ok || me == x || len(members) != 2 {
		return false
	}
	return slices.Contains(members, me) && slices.Contains(members, x)
}

// NeedMembers lists rooms whose full member list must be fetched before ChooseDMRoom can decide
// for x: rooms under x in m.direct where we are joined and Members == nil (R5), plus other
// joined m.direct rooms whose Members == nil and whose summary Heroes include x (R8 candidates;
// a room without x among its heroes cannot be {me, x}). Sorted, deduplicated.
func NeedMembers(me, x id.UserID, d Direct, rooms map[id.RoomID]*RoomInfo) []id.RoomID {
	var out []id.RoomID
	unknown := func(room id.RoomID) (*RoomInfo, bool) {
		r := rooms[room]
		return r, r != nil && r.Membership == event.MembershipJoin && r.Members == nil
	}
	for user, list := range d {
		for _, room := range list {
			r, ok := unknown(room)
			if ok && (user == x || slices.Contains(r.Heroes, x)) {
				out = append(out, room)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ChooseDMRoom applies R5-R9. Candidates are the rooms under x in d where we are joined (R5);
// among those that pass QualifiesOneToOne (R6) it picks the most recent LastActivity, ties going
// to the lexically smaller room ID (R7). If none, R8: the other rooms in d (under any user,
// group-listed ones included) where we are joined that qualify with {me, x}, same ordering.
// found=false means the caller must create a room (R9, R10). Rooms missing from the map are
// unknown, so not joined.
func ChooseDMRoom(me, x id.UserID, d Direct, rooms map[id.RoomID]*RoomInfo) (room id.RoomID, found bool) {
	if room, found = bestOneToOne(me, x, d[x], rooms); found {
		return room, true
	}
	var others []id.RoomID
	for user, list := range d {
		if user != x {
			others = append(others, list...)
		}
	}
	return bestOneToOne(me, x, others, rooms)
}

// bestOneToOne picks, among the joined rooms of candidates that qualify with {me, x}, the most
// recent one (R7).
func bestOneToOne(me, x id.UserID, candidates []id.RoomID, rooms map[id.RoomID]*RoomInfo) (id.RoomID, bool) {
	var best id.RoomID
	var bestInfo *RoomInfo
	for _, room := range candidates {
		r := rooms[room]
		if r == nil || r.Membership != event.MembershipJoin || !QualifiesOneToOne(me, x, r) {
			continue
		}
		if bestInfo == nil || compareActivity(room, r, best, bestInfo) < 0 {
			best, bestInfo = room, r
		}
	}
	return best, bestInfo != nil
}

// compareActivity orders rooms most recent first, ties by room ID ascending.
func compareActivity(a id.RoomID, ra *RoomInfo, b id.RoomID, rb *RoomInfo) int {
	if c := cmp.Compare(rb.LastActivity, ra.LastActivity); c != 0 {
		return c
	}
	return cmp.Compare(a, b)
}

// sortRoomsByActivity sorts room IDs most recent first, ties by room ID ascending.
func sortRoomsByActivity(list []id.RoomID, rooms map[id.RoomID]*RoomInfo) {
	slices.SortFunc(list, func(a, b id.RoomID) int {
		return compareActivity(a, roomInfoOrEmpty(rooms, a), b, roomInfoOrEmpty(rooms, b))
	})
}

func roomInfoOrEmpty(rooms map[id.RoomID]*RoomInfo, room id.RoomID) *RoomInfo {
	if r := rooms[room]; r != nil {
		return r
	}
	return &RoomInfo{ID: room}
}

// DMRoomChoice describes one room shared with x for `duet dms @x`.
type DMRoomChoice struct {
	RoomID       id.RoomID
	MemberCount  int
	OneToOne     bool // QualifiesOneToOne
	Chosen       bool // the room ChooseDMRoom picks
	Listed       bool // listed under x in m.direct (false: found by R8 only)
	XLeft        bool // x's membership is leave/ban (known members)
	LastActivity int64
}

// DMRoomsWith lists every displayed room under x in d (R3, R5), plus any other displayed
// m.direct room that qualifies 1:1 with x (R8), best first: the chosen one, then qualifying
// rooms by LastActivity desc, then the rest by LastActivity desc (ties by room ID).
func DMRoomsWith(me, x id.UserID, d Direct, rooms map[id.RoomID]*RoomInfo) []DMRoomChoice {
	chosen, found := ChooseDMRoom(me, x, d, rooms)
	var out []DMRoomChoice
	seen := map[id.RoomID]bool{}
	add := func(room id.RoomID, r *RoomInfo, listed bool) {
		seen[room] = true
		out = append(out, DMRoomChoice{
			RoomID:       room,
			MemberCount:  r.MemberCount(),
			OneToOne:     QualifiesOneToOne(me, x, r),
			Chosen:       found && room == chosen,
			Listed:       listed,
			XLeft:        r.Members != nil && r.Members[x].IsLeaveOrBan(),
			LastActivity: r.LastActivity,
		})
	}
	for _, room := range d[x] {
		if r := rooms[room]; r.Displayed() && !seen[room] {
			add(room, r, true)
		}
	}
	for user, list := range d {
		if user == x {
			continue
		}
		for _, room := range list {
			if r := rooms[room]; r.Displayed() && !seen[room] && QualifiesOneToOne(me, x, r) {
				add(room, r, false)
			}
		}
	}
	rank := func(c DMRoomChoice) int {
		switch {
		case c.Chosen:
			return 0
		case c.OneToOne:
			return 1
		}
		return 2
	}
	slices.SortFunc(out, func(a, b DMRoomChoice) int {
		if c := cmp.Compare(rank(a), rank(b)); c != 0 {
			return c
		}
		if c := cmp.Compare(b.LastActivity, a.LastActivity); c != 0 {
			return c
		}
		return cmp.Compare(a.RoomID, b.RoomID)
	})
	return out
}

// Contact is one entry of the contacts list (R18, R19): one per user, not per room.
type Contact struct {
	UserID id.UserID
	// Rooms are the displayed rooms listed under this user that are not group DMs (R2: not
	// listed under more than one user), most recent first. A room with more than two members
	// listed under this user alone is here and also in ContactList.Groups (R20).
	Rooms []id.RoomID
	// Room is ChooseDMRoom's pick if found, else "" (opening the contact creates a room, R10).
	Room id.RoomID
	// LastActivity is the max LastActivity over Rooms and InviteRooms (0 if none), so that a
	// pending invite sorts by its own time.
	LastActivity int64
	// Unread sums Unread over Rooms and InviteRooms (each room once) whose MemberCount() <= 2:
	// the 1:1 conversation rooms (R19, R22). Rooms with more members count in their group. The
	// rooms a room of Rooms replaced (R23: its predecessors we are still in, in m.direct under
	// nobody once the entry moved, and with at most two members) count too.
	Unread int
	// Pending: a pending direct invite from this user (R4), and no displayed joined room yet.
	Pending bool
	// InviteRooms are the pending direct invites from this user (R4), sorted like Rooms.
	InviteRooms []id.RoomID
	// Blocked: the user is on our ignore list (R25); set by SortOutRequests.
	Blocked bool
}

// GroupDM is a displayed m.direct room listed under more than one user, or with more than two
// members (R2, R20).
type GroupDM struct {
	RoomID       id.RoomID
	Users        []id.UserID // the m.direct users it is listed under (sorted)
	MemberCount  int
	LastActivity int64
	Unread       int
	Name         string
}

// ContactList is the derived contacts list (R18-R20).
type ContactList struct {
	// Contacts (R18): users in d with at least one displayed room (a group DM listed under them
	// counts) plus senders of pending direct invites; never me; sorted by LastActivity desc,
	// ties by user ID asc.
	Contacts []Contact
	// Groups (R20): displayed rooms listed under more than one user, or with MemberCount() > 2;
	// sorted by LastActivity desc, ties by room ID asc.
	Groups []GroupDM
	// NotesToSelf (R2): displayed rooms listed under me alone with at most two members, most
	// recent first. A room listed under me and someone else is a group.
	NotesToSelf []id.RoomID
	// Requests (R24): pending-only contacts from people we share no joined room with, in the
	// order of Contacts; set by SortOutRequests, never among Contacts.
	Requests []Contact
}

// BuildContacts derives the contact list (R2, R3, R4, R18-R20). Invited rooms with
// IsDirectInvite and an Inviter other than me make the inviter a contact (Pending when the
// contact has no displayed joined room); an invite room that is also in d is not counted twice.
// Unread comes only from RoomInfo.Unread, so membership and profile changes never affect it
// (R19). Rooms that are not displayed (left, banned, never seen) are ignored (R3).
func BuildContacts(me id.UserID, d Direct, rooms map[id.RoomID]*RoomInfo) ContactList {
	var list ContactList
	byUser := contactsByUser{}
	roomUsers := d.Rooms()
	list.addDirectRooms(me, roomUsers, rooms, byUser)
	for room, r := range rooms {
		if r != nil && r.Membership == event.MembershipInvite && r.IsDirectInvite && r.Inviter != "" && r.Inviter != me {
			c := byUser.get(r.Inviter)
			c.InviteRooms = append(c.InviteRooms, room)
		}
	}
	for _, c := range byUser {
		tallyContact(me, c, roomUsers, rooms)
		if room, found := ChooseDMRoom(me, c.UserID, d, rooms); found {
			c.Room = room
		}
		list.Contacts = append(list.Contacts, *c)
	}
	list.sort(rooms)
	return list
}

// contactsByUser holds the contacts BuildContacts has found so far.
type contactsByUser map[id.UserID]*Contact

// get is user's contact, new when user has none yet.
func (b contactsByUser) get(user id.UserID) *Contact {
	c := b[user]
	if c == nil {
		c = &Contact{UserID: user}
		b[user] = c
	}
	return c
}

// addDirectRooms sorts the displayed rooms of m.direct (roomUsers: room to the users it is
// listed under) into groups, notes to self and contacts' 1:1 rooms. A room listed under more
// than one user makes each (but me) a contact (R18), with the room among the groups.
func (list *ContactList) addDirectRooms(me id.UserID, roomUsers map[id.RoomID][]id.UserID, rooms map[id.RoomID]*RoomInfo, byUser contactsByUser) {
	for room, users := range roomUsers {
		r := rooms[room]
		if !r.Displayed() {
			continue
		}
		isGroup := len(users) > 1 || r.MemberCount() > 2
		if isGroup {
			list.Groups = append(list.Groups, GroupDM{
				RoomID:       room,
				Users:        users,
				MemberCount:  r.MemberCount(),
				LastActivity: r.LastActivity,
				Unread:       r.Unread,
				Name:         r.Name,
			})
		}
		switch {
		case len(users) > 1:
			for _, u := range users {
				if u != me {
					byUser.get(u) // R18: a user in m.direct with a displayed room
				}
			}
		case users[0] == me:
			if !isGroup {
				list.NotesToSelf = append(list.NotesToSelf, room)
			}
		default:
			c := byUser.get(users[0])
			c.Rooms = append(c.Rooms, room)
		}
	}
}

// tallyContact orders c's rooms and invites by activity and sets what they add up to: the
// last activity, the unread count of its 1:1 rooms (and of the rooms they replaced, R22), and
// whether it is only pending invites.
func tallyContact(me id.UserID, c *Contact, roomUsers map[id.RoomID][]id.UserID, rooms map[id.RoomID]*RoomInfo) {
	sortRoomsByActivity(c.Rooms, rooms)
	sortRoomsByActivity(c.InviteRooms, rooms)
	joined := false
	counted := map[id.RoomID]bool{}
	for _, room := range slices.Concat(c.Rooms, c.InviteRooms) {
		if counted[room] {
			continue
		}
		counted[room] = true
		r := roomInfoOrEmpty(rooms, room)
		c.LastActivity = max(c.LastActivity, r.LastActivity)
		if r.MemberCount() <= 2 {
			c.Unread += r.Unread
		}
		if r.Membership == event.MembershipJoin && slices.Contains(c.Rooms, room) {
			joined = true
		}
	}
	for _, room := range c.Rooms {
		for p := roomInfoOrEmpty(rooms, room).Predecessor; p != "" && !counted[p]; p = roomInfoOrEmpty(rooms, p).Predecessor {
			pr := rooms[p]
			if !pr.Displayed() || len(roomUsers[p]) > 0 || !nobodyElse(me, c.UserID, pr) {
				break
			}
			counted[p] = true
			c.Unread += pr.Unread
		}
	}
	c.Pending = len(c.InviteRooms) > 0 && !joined
}

// sort puts the contacts and groups most recently active first, ties by ID, and the notes to
// self by activity.
func (list *ContactList) sort(rooms map[id.RoomID]*RoomInfo) {
	slices.SortFunc(list.Contacts, func(a, b Contact) int {
		if c := cmp.Compare(b.LastActivity, a.LastActivity); c != 0 {
			return c
		}
		return cmp.Compare(a.UserID, b.UserID)
	})
	slices.SortFunc(list.Groups, func(a, b GroupDM) int {
		if c := cmp.Compare(b.LastActivity, a.LastActivity); c != 0 {
			return c
		}
		return cmp.Compare(a.RoomID, b.RoomID)
	})
	sortRoomsByActivity(list.NotesToSelf, rooms)
}

// nobodyElse reports whether no one but me and x is (or, from the sync summary, seems to be)
// in r: x may have left.
func nobodyElse(me, x id.UserID, r *RoomInfo) bool {
	if r.Members == nil {
		return r.MemberCount() <= 2 && !slices.ContainsFunc(r.Heroes, func(u id.UserID) bool { return u != x && u != me })
	}
	for u, m := range r.Members {
		if u != me && u != x && m.IsInviteOrJoin() && !slices.Contains(r.ServiceMembers, u) {
			return false
		}
	}
	return true
}

// userIDForm is the expected form quoted in ValidateUserID's errors.
const userIDForm = "expected @name:server (for example @bob:example.org)"

// ValidateUserID checks the syntactic part of R12: raw (surrounding spaces ignored) is a
// well-formed user ID "@localpart:server" and not me. The localpart may use the current grammar
// (a-z 0-9 . _ = - / +) or the historical one the spec still tolerates (printable ASCII except
// ':'); the server name is host[:port] as mautrix's id.ValidateServerName checks it. Errors
// are user-facing, one line, and say what is wrong and the expected form.
func ValidateUserID(me id.UserID, raw string) (id.UserID, error) {
	s := strings.TrimSpace(raw)
	bad := func(why string) (id.UserID, error) {
		return "", fmt.Errorf("%q is not a Matrix user ID: %s; %s", s, why, userIDForm)
	}
	if s == "" {
		return "", errors.New("no user ID given: " + userIDForm)
	}
	if s[0] != '@' {
		return bad("it must start with @")
	}
	localpart, server, hasColon := strings.Cut(s[1:], ":")
	switch {
	case !hasColon:
		return bad("the :server part is missing")
	case localpart == "":
		return bad("the name before : is empty")
	case server == "":
		return bad("the server after : is empty")
	case len(s) > id.UserIDMaxLength:
		return bad(fmt.Sprintf("it is longer than %d characters", id.UserIDMaxLength))
	}
	for _, c := range localpart {
		if c < 0x21 || c > 0x7e {
			what := fmt.Sprintf("%q", c)
			if c == ' ' {
				what = "a space"
			} else if c == utf8.RuneError {
				what = "invalid UTF-8"
			}
			return bad(fmt.Sprintf("the name %q has %s; use a-z, 0-9 and . _ = - / +", localpart, what))
		}
	}
	if !id.ValidateServerName(server) {
		return bad(fmt.Sprintf("%q is not a server name (host or host:port)", server))
	}
	user := id.UserID(s)
	if user == me {
		return "", fmt.Errorf("%s is you: pick someone else", user)
	}
	return user, nil
}

// trimJSONSpace trims the whitespace JSON allows around a value (space, tab, CR, LF) and no
// other: content wrapped in \v or a no-break space is not a JSON object (found by fuzzing).
func trimJSONSpace(raw []byte) []byte { return bytes.Trim(raw, " \t\r\n") }

// ConversationRoom is one room of a contact's conversation (R22), with why it is not the room
// messages go to.
type ConversationRoom struct {
	RoomID id.RoomID
	// Why is "" for the current room (ChooseDMRoom's), else "upgraded" (it has a replacement
	// in the chain), "left by them" (x left it), "shared" (someone else came in: the room is
	// no 1:1 any more) or "older" (a 1:1 room that is not chosen).
	Why string
	// LastActivity is the server time (ms) of the room's most recent event we know, 0 if none:
	// no message of the room is newer, so paging knows which room can hold the next one.
	LastActivity int64
}

// ConversationWith is R22: every room that is or was a 1:1 with x. It starts from the displayed
// rooms under x in d that pass R6 or fail it only because x left (their members are known), or
// that were a 1:1 until someone else came in (SharedSince: the conversation shows where that
// happened and why it moved), and adds their predecessors and successors (R23) that we know of
// and that are not shared with anyone else. Group DMs and other rooms with a third member stay
// out. The current room comes first, then the others, most recent first.
func ConversationWith(me, x id.UserID, d Direct, rooms map[id.RoomID]*RoomInfo) []ConversationRoom {
	c := &conversationChain{me: me, x: x, rooms: rooms, listedElsewhere: d.Rooms(),
		replaced: replacedRooms(rooms), in: map[id.RoomID]bool{}}
	for _, room := range d[x] {
		if r := rooms[room]; r.Displayed() && oneToOneOrLeft(me, x, r) {
			c.add(room)
		}
	}
	current, found := ChooseDMRoom(me, x, d, rooms)
	if found {
		c.add(current)
	}
	sortRoomsByActivity(c.order, rooms)
	out := make([]ConversationRoom, 0, len(c.order))
	if found && c.in[current] {
		out = append(out, ConversationRoom{RoomID: current, LastActivity: rooms[current].LastActivity})
	}
	for _, room := range c.order {
		if found && room == current {
			continue
		}
		r := rooms[room]
		out = append(out, ConversationRoom{RoomID: room, Why: c.why(r), LastActivity: r.LastActivity})
	}
	return out
}

// oneToOneOrLeft reports whether r is a 1:1 with x (R6), was one until someone else came in, or
// fails R6 only because x left (its members are known).
func oneToOneOrLeft(me, x id.UserID, r *RoomInfo) bool {
	if QualifiesOneToOne(me, x, r) {
		return true
	}
	if r != nil && r.SharedSince > 0 {
		return true
	}
	return r != nil && r.Members != nil && r.Members[x].IsLeaveOrBan() && nobodyElse(me, x, r)
}

// replacedRooms maps a room to the rooms whose tombstone names it: links back from a
// replacement whose m.room.create sync has not brought yet, as the old room's tombstone is
// known first.
func replacedRooms(rooms map[id.RoomID]*RoomInfo) map[id.RoomID][]id.RoomID {
	replaced := map[id.RoomID][]id.RoomID{}
	for room, r := range rooms {
		if r != nil && r.Tombstone != "" && r.Tombstone != room {
			replaced[r.Tombstone] = append(replaced[r.Tombstone], room)
		}
	}
	return replaced
}

// conversationChain gathers the rooms of ConversationWith's conversation with x.
type conversationChain struct {
	me, x           id.UserID
	rooms           map[id.RoomID]*RoomInfo
	listedElsewhere map[id.RoomID][]id.UserID // d.Rooms()
	replaced        map[id.RoomID][]id.RoomID // replacedRooms
	in              map[id.RoomID]bool
	order           []id.RoomID // the rooms in, in the order found
}

// add puts room in the conversation, then the rooms it replaced and that replaced it, unless it
// is unknown, in already or someone else's.
func (c *conversationChain) add(room id.RoomID) {
	r := c.rooms[room]
	if room == "" || c.in[room] || r == nil {
		return
	}
	if users := c.listedElsewhere[room]; len(users) > 1 || (len(users) == 1 && users[0] != c.x) {
		return // a group DM, or someone else's DM (R2)
	}
	if r.Members != nil && !nobodyElse(c.me, c.x, r) && r.SharedSince == 0 {
		return // someone else is in it, and was from before we saw it: not this conversation
	}
	c.in[room] = true
	c.order = append(c.order, room)
	c.add(r.Predecessor)
	c.add(r.Tombstone)
	for _, old := range c.replaced[room] {
		c.add(old)
	}
}

// why is ConversationRoom.Why for a room of the conversation that is not the current one.
func (c *conversationChain) why(r *RoomInfo) string {
	switch {
	case r.Tombstone != "" && c.in[r.Tombstone]:
		return "upgraded"
	case r.SharedSince > 0:
		return "shared"
	case r.Members != nil && r.Members[c.x].IsLeaveOrBan():
		return "left by them"
	}
	return "older"
}
