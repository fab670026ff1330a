package matrixsvc

import (
	"context"
	"fmt"
	"strings"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
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
	Invites          []Invite // pending invites that are not direct (room invites)
	DirectWellFormed bool     // false: m.direct could not be understood (R1)
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
	list := BuildContacts(s.me, v.direct, v.rooms)
	out := Overview{DirectWellFormed: v.wellFormed}
	for _, c := range list.Contacts {
		name := names[c.UserID]
		rooms := c.Rooms
		if c.Room != "" {
			rooms = []id.RoomID{c.Room}
		}
		out.Contacts = append(out.Contacts, ContactView{Contact: c, DisplayName: name, Preview: preview(append(rooms, c.InviteRooms...)...)})
	}
	for _, g := range list.Groups {
		if g.Name == "" {
			g.Name = s.namesOf(g.Users, names)
		}
		out.Groups = append(out.Groups, GroupView{GroupDM: g, Preview: preview(g.RoomID)})
	}
	for _, r := range stored {
		if r.Membership == string(event.MembershipInvite) && !r.DirectInvite {
			out.Invites = append(out.Invites, Invite{RoomID: r.ID, Inviter: r.Inviter, Name: r.Name, Timestamp: r.LastTS})
		}
	}
	return out, nil
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

// History returns one page of a room's messages older than from (a pagination token; "" starts
// at the newest), oldest first, and the token for the page before it ("" at the start of the
// room).
func (s *Service) History(ctx context.Context, room id.RoomID, from string, limit int) ([]Message, string, error) {
	// No from: the server starts at the newest event. (A stored sync token would be the wrong
	// start for a room joined after it: the events we may see only begin at our join.)
	filter := &mautrix.FilterPart{LazyLoadMembers: true, Types: []event.Type{event.EventMessage, event.EventEncrypted}}
	resp, err := s.cli.Messages(ctx, room, from, "", mautrix.DirectionBackward, filter, limit)
	if err != nil {
		return nil, "", fmt.Errorf("history of %s: %s", room, Explain(s.wrap(err)))
	}
	msgs := make([]Message, 0, len(resp.Chunk))
	for i := len(resp.Chunk) - 1; i >= 0; i-- {
		evt := resp.Chunk[i]
		evt.RoomID = room
		if msg, ok := toMessage(evt); ok {
			msgs = append(msgs, msg)
		}
	}
	next := resp.End
	if len(resp.Chunk) == 0 {
		next = ""
	}
	return msgs, next, nil
}

// RoomEncrypted reports whether a room has end-to-end encryption turned on.
func (s *Service) RoomEncrypted(ctx context.Context, room id.RoomID) bool {
	enc, err := s.store.State.IsEncrypted(ctx, room)
	return err == nil && enc
}
