package matrixsvc

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/sanitize"
	"duet/store"
)

// MemberChange is someone other than the two people of a 1:1 room joining it, being invited
// to it or knocking on it (issue 19): the room is no 1:1 any more (R6) and the conversation
// says so where it happened. Only an m.room.member event makes one; no message can.
//
// With Device set it is instead a new device of the contact (User == Peer) or of ours, seen
// while the 1:1 is in use: duet's own line, made after a key query, not an event of the server.
type MemberChange struct {
	User       id.UserID        // who joined, was invited or knocked; whose device is new
	Name       string           // their display name in the event, "" if none (not sanitized)
	Membership event.Membership // join, invite or knock; "" for a new device
	Peer       id.UserID        // the person the room was a 1:1 with
	Device     id.DeviceID      // the new device, "" for a membership change
	DeviceName string           // its display name (not sanitized)
}

// storedMemberChange is MemberChange as the store keeps it.
type storedMemberChange struct {
	User       id.UserID        `json:"user"`
	Name       string           `json:"name,omitempty"`
	Membership event.Membership `json:"membership,omitempty"`
	Peer       id.UserID        `json:"peer"`
	Device     id.DeviceID      `json:"device,omitempty"`
	DeviceName string           `json:"device_name,omitempty"`
}

// memberNotice is how the store keeps c (store.Event.Notice).
func memberNotice(c *MemberChange) string {
	b, _ := json.Marshal(storedMemberChange(*c))
	if c.Device != "" {
		return store.NoticeDevice + string(b)
	}
	return store.NoticeMember + string(b)
}

// memberChangeOf reads a stored notice; nil for anything else.
func memberChangeOf(notice string) *MemberChange {
	raw, ok := strings.CutPrefix(notice, store.NoticeMember)
	if !ok {
		if raw, ok = strings.CutPrefix(notice, store.NoticeDevice); !ok {
			return nil
		}
	}
	var c storedMemberChange
	if json.Unmarshal([]byte(raw), &c) != nil || c.User == "" {
		return nil
	}
	mc := MemberChange(c)
	return &mc
}

// directPeers caches m.direct inverted (R2), parsed again only when its content changes: a
// sync asks it once for each room whose timeline has a membership event.
type directPeers struct {
	mu    sync.Mutex
	raw   []byte
	rooms map[id.RoomID][]id.UserID
}

// dmPeer is the one user m.direct lists room under, other than us; "" when the room is listed
// under nobody, under several users (a group DM) or under us (notes to self).
func (s *Service) dmPeer(ctx context.Context, room id.RoomID) (id.UserID, error) {
	raw, err := s.store.AccountData(ctx, event.AccountDataDirectChats.Type)
	if err != nil {
		return "", err
	}
	s.peers.mu.Lock()
	defer s.peers.mu.Unlock()
	if s.peers.rooms == nil || !bytes.Equal(raw, s.peers.raw) {
		d, _ := ParseDirect(raw)
		s.peers.raw, s.peers.rooms = bytes.Clone(raw), d.Rooms()
	}
	users := s.peers.rooms[room]
	if len(users) != 1 || users[0] == s.me {
		return "", nil
	}
	return users[0], nil
}

// memberChangeIn reads a membership event of a 1:1 room's timeline: someone other than us and
// the room's contact newly joining, invited or knocking is a MemberChange, returned as a
// message of its own to store where it happened. live says evt comes from a sync and the
// state store does not have it yet; else it comes from history.
func (s *Service) memberChangeIn(ctx context.Context, evt *event.Event, live bool) (Message, bool) {
	if evt.Type != event.StateMember || evt.StateKey == nil {
		return Message{}, false
	}
	user := id.UserID(evt.GetStateKey())
	if user == s.me || user == "" {
		return Message{}, false
	}
	if evt.Content.Parsed == nil {
		_ = evt.Content.ParseRaw(evt.Type)
	}
	c, ok := evt.Content.Parsed.(*event.MemberEventContent)
	if !ok {
		return Message{}, false
	}
	switch c.Membership {
	case event.MembershipJoin, event.MembershipInvite, event.MembershipKnock:
	default:
		return Message{}, false
	}
	peer, err := s.dmPeer(ctx, evt.RoomID)
	if err != nil || peer == "" || peer == user {
		return Message{}, false
	}
	// Only a change: a join after an invite, or a new name, was said already. What it was
	// before comes with the event; else, for an event of a sync, from the state store, which
	// does not have this event yet.
	var prev event.Membership
	if evt.Unsigned.PrevContent != nil {
		_ = evt.Unsigned.PrevContent.ParseRaw(event.StateMember)
		if p, ok := evt.Unsigned.PrevContent.Parsed.(*event.MemberEventContent); ok {
			prev = p.Membership
		}
	} else if live {
		if m, err := s.store.State.TryGetMember(ctx, evt.RoomID, user); err == nil && m != nil {
			prev = m.Membership
		}
	}
	switch {
	case prev == c.Membership, prev == event.MembershipJoin,
		prev == event.MembershipInvite && c.Membership == event.MembershipJoin:
		return Message{}, false
	}
	if live {
		// Only a room that was a 1:1 until now: a direct room that had more people from the
		// start was never one.
		if others, err := s.strangers(ctx, evt.RoomID, peer, true); err != nil || slices.ContainsFunc(others, func(u id.UserID) bool { return u != user }) {
			return Message{}, false
		}
	}
	return Message{
		RoomID:    evt.RoomID,
		EventID:   evt.ID,
		Sender:    evt.Sender,
		Timestamp: time.UnixMilli(evt.Timestamp),
		Member:    &MemberChange{User: user, Name: c.Displayname, Membership: c.Membership, Peer: peer},
	}, true
}

// Text is the line the conversation shows for the change, made safe for a terminal: remote
// names and IDs are sanitized here, before any styling. nameOf gives a user's display name
// ("" to show the ID); the name the event itself carries goes first.
func (c *MemberChange) Text(nameOf func(id.UserID) string) string {
	who := sanitize.Line(string(c.User))
	name := strings.TrimSpace(c.Name)
	if name == "" {
		name = strings.TrimSpace(nameOf(c.User))
	}
	if name := sanitize.Line(name); name != "" && name != who {
		who = name + " (" + who + ")"
	}
	peer := sanitize.Line(strings.TrimSpace(nameOf(c.Peer)))
	if peer == "" {
		peer = sanitize.Line(string(c.Peer))
	}
	if c.Device != "" {
		dev := sanitize.Line(string(c.Device))
		if n := sanitize.Line(strings.TrimSpace(c.DeviceName)); n != "" {
			dev = n + " (" + dev + ")"
		}
		if c.User != c.Peer { // a device of ours
			return "⚠ your account has a new device: " + dev
		}
		return "⚠ " + peer + " has a new device: " + dev
	}
	switch c.Membership {
	case event.MembershipKnock:
		return "⚠ " + who + " asked to join this one-to-one room"
	case event.MembershipInvite:
		return "⚠ " + who + " was invited to this room — it is no longer one-to-one; your messages to " + peer + " go to a new room"
	}
	return "⚠ " + who + " joined this room — it is no longer one-to-one; your messages to " + peer + " go to a new room"
}

// withClaimedMembers adds to a shared room's members everyone the state store has as joined or
// invited: a third member the server claims in a sync counts for R6 even while the member list
// comes from the sync summary, which the server may keep at two.
func (s *Service) withClaimedMembers(ctx context.Context, info *RoomInfo) error {
	claimed, err := s.store.State.GetRoomJoinedOrInvitedMembers(ctx, info.ID)
	if err != nil {
		return err
	}
	if len(claimed) <= 2 {
		return nil // no one else: the list we have stands
	}
	for _, u := range claimed {
		if info.Members == nil {
			if info.Membership != event.MembershipJoin {
				return nil // not ours to decide: members come when they are fetched
			}
			info.Members = map[id.UserID]event.Membership{s.me: event.MembershipJoin}
		}
		if !info.Members[u].IsInviteOrJoin() {
			info.Members[u] = event.MembershipJoin
		}
	}
	return nil
}

// serviceMemberLine reports whether m says a service member (m.member_hints) came in: such a
// member does not make the room a group (R6), so the line is not shown.
func serviceMemberLine(m Message, service []id.UserID) bool {
	return m.Member != nil && m.Member.Device == "" && slices.Contains(service, m.Member.User)
}
