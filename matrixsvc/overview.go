package matrixsvc

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/store"
)

// Preview is the newest message of a room, for list rows.
type Preview struct {
	Body   string
	Sender id.UserID
	TS     int64 // ms
}

// ContactView is a contact with what a list row shows.
type ContactView struct {
	Contact
	DisplayName string
	Preview     Preview
	Note        string // one line about the conversation's room, such as an upgrade not followed (R23)
}

// GroupView is a group DM with what a list row shows.
type GroupView struct {
	GroupDM
	Preview Preview
}

// Overview is the whole contacts pane: contacts (R18, R19), group DMs (R20) and other invites.
type Overview struct {
	Contacts         []ContactView
	Groups           []GroupView
	Requests         []ContactView // direct invites from strangers (R24), newest first
	Invites          []Invite      // pending invites that are not direct (room invites)
	DirectWellFormed bool          // false: m.direct could not be understood (R1)
}

// Overview builds the contacts pane from the local store alone: no network, so it is cheap to
// call after every sync.
func (s *Service) Overview(ctx context.Context) (Overview, error) {
	v, err := s.loadView(ctx)
	if err != nil {
		return Overview{}, err
	}
	stored := v.stored
	names, err := s.store.DisplayNames(ctx)
	if err != nil {
		return Overview{}, err
	}
	preview := func(rooms ...id.RoomID) Preview {
		var best Preview
		for _, room := range rooms {
			r := stored[room]
			if r != nil && r.LastTS >= best.TS {
				best = Preview{Body: r.Preview, Sender: r.PreviewSender, TS: r.LastTS}
			}
		}
		return best
	}
	blocked, err := s.blockedSet(ctx)
	if err != nil {
		return Overview{}, err
	}
	list, err := s.sortOut(ctx, v, BuildContacts(s.me, v.direct, v.rooms), blocked)
	if err != nil {
		return Overview{}, err
	}
	out := Overview{DirectWellFormed: v.wellFormed}
	for _, c := range list.Contacts {
		name := names[c.UserID]
		rooms := c.Rooms
		if c.Room != "" {
			rooms = []id.RoomID{c.Room}
		}
		cv := ContactView{Contact: c, DisplayName: name, Preview: preview(append(rooms, c.InviteRooms...)...)}
		if c.Room != "" {
			cv.Note = s.UpgradeProblem(c.Room)
		}
		out.Contacts = append(out.Contacts, cv)
	}
	for _, c := range list.Requests {
		// No display name: a stranger's can impersonate anyone (R24); the user ID is shown.
		out.Requests = append(out.Requests, ContactView{Contact: c, Preview: preview(c.InviteRooms...)})
	}
	for _, g := range list.Groups {
		if g.Name == "" {
			g.Name = s.namesOf(g.Users, names)
		}
		out.Groups = append(out.Groups, GroupView{GroupDM: g, Preview: preview(g.RoomID)})
	}
	for _, r := range stored {
		if r.Membership == string(event.MembershipInvite) && !r.DirectInvite && !blocked[r.Inviter] {
			out.Invites = append(out.Invites, Invite{RoomID: r.ID, Inviter: r.Inviter, Name: r.Name, Timestamp: r.LastTS})
		}
	}
	s.rememberOverview(out)
	return out, nil
}

// MemberNames returns what to call the senders in a room (a group DM): each member's display
// name there. A name two members share, or one that looks like a user ID, gets the user ID
// after it, so that nobody can pass for someone else, as in Element.
func (s *Service) MemberNames(ctx context.Context, room id.RoomID) (map[id.UserID]string, error) {
	names, err := s.store.RoomDisplayNames(ctx, room)
	if err != nil {
		return nil, err
	}
	count := make(map[string]int, len(names))
	for _, n := range names {
		count[nameKey(n)]++
	}
	for u, n := range names {
		if k := nameKey(n); count[k] > 1 || strings.HasPrefix(k, "@") {
			names[u] = n + " (" + string(u) + ")"
		}
	}
	return names, nil
}

// nameKey is a display name as it looks: without case, spaces, or invisible characters
// (zero-width, direction marks) that would make two names that read the same differ.
func nameKey(name string) string {
	return strings.ToLower(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, name))
}

// namesOf names a group DM without a room name after its people, as other clients do.
func (s *Service) namesOf(users []id.UserID, names map[id.UserID]string) string {
	out := make([]string, 0, len(users))
	for _, u := range users {
		if u == s.me {
			continue
		}
		name := names[u]
		if name == "" {
			name = string(u)
		}
		out = append(out, name)
	}
	return strings.Join(out, ", ")
}

// History returns one page of a room's messages older than from ("" starts at the newest),
// oldest first, and the cursor for the page before it ("" at the start of the room). Pages
// come from the local store; where the store has a gap (a limited sync, or history never
// loaded) it is filled from the server's /messages and stored, so each page is fetched once.
// Offline, what the store has is returned and the cursor points at the gap, to try again.
func (s *Service) History(ctx context.Context, room id.RoomID, from string, limit int) ([]Message, string, error) {
	below, err := s.historyStart(ctx, room, from)
	if err != nil {
		return nil, "", err
	}
	out, below, err := s.eventsBelow(ctx, room, below, limit)
	if err != nil {
		return nil, "", err
	}
	msgs := make([]Message, len(out))
	for i, e := range out {
		msgs[len(out)-1-i] = fromStored(e)
	}
	if slices.ContainsFunc(msgs, func(m Message) bool { return m.Member != nil }) {
		if r, err := s.loadRoom(ctx, room); err == nil && len(r.ServiceMembers) > 0 {
			msgs = slices.DeleteFunc(msgs, func(m Message) bool { return serviceMemberLine(m, r.ServiceMembers) })
		}
	}
	if err := s.relations(ctx, room, msgs); err != nil {
		return nil, "", err
	}
	next := ""
	if !math.IsInf(below, -1) {
		next = "p:" + strconv.FormatFloat(below, 'g', -1, 64)
	}
	return msgs, next, nil
}

// historyStart is the position History reads below: the cursor from, or the end of the room
// when from is "". A room with nothing stored yet is marked as one gap, read from its newest
// event.
func (s *Service) historyStart(ctx context.Context, room id.RoomID, from string) (float64, error) {
	if from != "" { // a cursor from a page already read
		v, err := strconv.ParseFloat(strings.TrimPrefix(from, "p:"), 64)
		if err != nil || !strings.HasPrefix(from, "p:") {
			return 0, fmt.Errorf("history of %s: bad cursor %q", room, from)
		}
		return v, nil
	}
	if has, err := s.store.HasEvents(ctx, room); err != nil {
		return 0, err
	} else if !has {
		// Nothing stored yet: all of it is one gap, read from the newest event.
		if err := s.store.SetGapToken(ctx, room, 0, ""); err != nil {
			return 0, err
		}
	}
	return math.Inf(1), nil
}

// eventsBelow reads up to limit stored events below position below, newest first, filling
// the gaps it meets from the server (a few at most). It returns where the next page starts:
// -Inf at the start of the room. A gap it could not fill ends the page early, or fails it
// when nothing was read.
func (s *Service) eventsBelow(ctx context.Context, room id.RoomID, below float64, limit int) ([]store.Event, float64, error) {
	var out []store.Event // newest first
	var t *tracker        // reports the gaps filled, once there is one
	for fills := 0; len(out) < limit; {
		evts, gap, err := s.store.EventsBelow(ctx, room, below, limit-len(out))
		if err != nil {
			return nil, 0, err
		}
		out = append(out, evts...)
		if len(evts) > 0 {
			below = evts[len(evts)-1].Pos
		}
		if len(out) >= limit {
			break
		}
		if gap == nil { // the start of the room
			below = math.Inf(-1)
			break
		}
		if fills == 5 { // enough requests for one page; the cursor resumes at the gap
			break
		}
		fills++
		if t == nil {
			t = s.track(TaskHistory, UnitMessages, "", 0)
			defer t.End()
		}
		if err := s.fillGap(ctx, room, *gap, limit-len(out), t); err != nil {
			if len(out) == 0 {
				return nil, 0, err
			}
			s.log.Warn().Err(err).Stringer("room_id", room).Msg("history gap not filled")
			break
		}
		below = gap.Pos
	}
	return out, below, nil
}

// fillGap fetches one page of the server's history below a gap and stores it.
func (s *Service) fillGap(ctx context.Context, room id.RoomID, gap store.Gap, limit int, t *tracker) error {
	filter := &mautrix.FilterPart{LazyLoadMembers: true, NotTypes: historyNoise}
	resp, err := s.cli.Messages(ctx, room, gap.Token, "", mautrix.DirectionBackward, filter, max(limit, 20))
	if err != nil {
		return fmt.Errorf("history of %s: %w", room, s.wrap(err))
	}
	var page []Message
	var changes []store.Change
	for _, evt := range resp.Chunk {
		evt.RoomID = room
		if mc, ok := s.memberChangeIn(ctx, evt, false); ok {
			page = append(page, mc)
			continue
		}
		msg, ok := s.message(ctx, evt)
		if ok {
			page = append(page, msg)
		}
		if msg.change != nil { // a poll end is a line and a change to its poll
			changes = append(changes, *msg.change)
		}
	}
	if s.roomEncrypted(ctx, room) {
		markPlain(page, changes)
	}
	t.Add(int64(len(resp.Chunk)))
	next := resp.End
	if len(resp.Chunk) == 0 {
		next = ""
	}
	// The changes first: their messages are older and come in later pages, or in this one. A
	// live location's new points go after: they move a line that must be stored (one in an
	// older page than its point is left where it started).
	moves := slices.DeleteFunc(slices.Clone(changes), func(c store.Change) bool { return c.Location == "" })
	changes = slices.DeleteFunc(changes, func(c store.Change) bool { return c.Location != "" })
	if _, err := s.store.RecordChanges(ctx, room, changes); err != nil {
		return err
	}
	if err := s.store.FillGap(ctx, room, gap, toStored(page), next); err != nil {
		return err
	}
	_, err = s.store.RecordChanges(ctx, room, moves)
	return err
}

// historyNoise is what a page of history leaves out: the steps of a call and state that duet
// shows nothing of. Everything else comes, so that an event type duet does not know yet is
// shown by its text (a type list would drop it).
var historyNoise = []event.Type{
	{Type: "m.call.candidates"}, {Type: "m.call.answer"}, {Type: "m.call.select_answer"}, {Type: "m.call.negotiate"},
	{Type: "m.call.sdp_stream_metadata_changed"}, {Type: "org.matrix.call.sdp_stream_metadata_changed"},
	event.StatePowerLevels, event.StateJoinRules, event.StateHistoryVisibility, event.StateGuestAccess,
	event.StateRoomAvatar, event.StateTopic, event.StateCanonicalAlias, {Type: "m.room.server_acl"},
	{Type: "m.room.pinned_events"}, {Type: "im.vector.modular.widgets"}, {Type: "io.element.widgets.layout"},
}

func toStored(msgs []Message) []store.Event {
	out := make([]store.Event, len(msgs))
	for i, m := range msgs {
		out[i] = store.Event{Room: m.RoomID, ID: m.EventID, TS: m.Timestamp.UnixMilli(), Sender: m.Sender,
			MsgType: m.MsgType, Body: m.Body, Encrypted: m.Encrypted, E2E: m.E2E, Trust: m.Trust,
			SessionID: m.sessionID, Raw: m.raw, DecryptError: m.DecryptError, Redacted: m.Redacted, HTML: m.HTML,
			ReplyTo: m.ReplyTo, Media: mediaJSON(m.Media), NotEncrypted: m.NotEncrypted, Unauthenticated: m.Unauthenticated,
			Notice: noticeOf(m), Kind: string(m.Kind), Extra: extraJSON(&m), Thread: m.Thread, Rel: m.Rel}
	}
	return out
}

func fromStored(e store.Event) Message {
	var media *Media
	if !e.Redacted { // a deleted file is not shown, whatever the store kept
		media = storedMedia(e.Media)
	}
	m := Message{RoomID: e.Room, EventID: e.ID, Sender: e.Sender, Timestamp: time.UnixMilli(e.TS),
		MsgType: e.MsgType, Body: e.Body, Encrypted: e.Encrypted, E2E: e.E2E, Trust: e.Trust,
		DecryptError: e.DecryptError, sessionID: e.SessionID, Edited: e.Edited, Redacted: e.Redacted, HTML: e.HTML,
		ReplyTo: e.ReplyTo, Media: media, NotEncrypted: e.NotEncrypted, Unauthenticated: e.Unauthenticated, EncryptionChange: encryptionChangeOf(e.Notice),
		Member: memberChangeOf(e.Notice), Kind: EventKind(e.Kind), Thread: e.Thread, Rel: e.Rel}
	if !e.Redacted {
		m.setExtra(e.Extra)
	}
	return m
}

// noticeOf is how the store keeps duet's own line m (store.Event.Notice); "" for a message.
func noticeOf(m Message) string {
	switch {
	case m.EncryptionChange != nil:
		return store.NoticeEncryption + m.EncryptionChange.Algorithm
	case m.Member != nil:
		return memberNotice(m.Member)
	}
	return ""
}

// encryptionChangeOf reads a stored notice; nil for anything else.
func encryptionChangeOf(notice string) *EncryptionChange {
	alg, ok := strings.CutPrefix(notice, store.NoticeEncryption)
	if !ok {
		return nil
	}
	return &EncryptionChange{Algorithm: alg}
}

// RoomEncrypted reports whether a room has end-to-end encryption turned on.
func (s *Service) RoomEncrypted(ctx context.Context, room id.RoomID) bool {
	enc, err := s.store.State.IsEncrypted(ctx, room)
	return err == nil && enc
}

const keyLastOpen = "ui_last_open"

// LastOpen returns what the UI last had open (its own key), to show it again at start.
func (s *Service) LastOpen(ctx context.Context) string {
	v, _ := s.store.Get(ctx, keyLastOpen)
	return v
}

// SetLastOpen remembers what the UI has open.
func (s *Service) SetLastOpen(ctx context.Context, key string) error {
	return s.store.Set(ctx, keyLastOpen, key)
}
