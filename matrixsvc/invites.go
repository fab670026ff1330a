package matrixsvc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/store"
)

// Invite is a pending invite to a room.
type Invite struct {
	RoomID    id.RoomID
	Inviter   id.UserID
	Direct    bool // our invite member event said is_direct (R4)
	Request   bool // a direct invite from someone we share no joined room with (R24)
	Name      string
	Timestamp int64
}

// Invites lists pending invites, newest first; invites from blocked users are left out (R25).
func (s *Service) Invites(ctx context.Context) ([]Invite, error) {
	v, err := s.loadView(ctx)
	if err != nil {
		return nil, err
	}
	blocked, err := s.blockedSet(ctx)
	if err != nil {
		return nil, err
	}
	var out []Invite
	var inviters []id.UserID
	for _, r := range v.stored {
		if r.Membership == string(event.MembershipInvite) && !blocked[r.Inviter] {
			out = append(out, Invite{RoomID: r.ID, Inviter: r.Inviter, Direct: r.DirectInvite, Name: r.Name, Timestamp: r.LastTS})
			if r.DirectInvite {
				inviters = append(inviters, r.Inviter)
			}
		}
	}
	shares, err := s.sharing(ctx, v, inviters)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Request = out[i].Direct && out[i].Inviter != s.me && !shares[out[i].Inviter]
	}
	slices.SortFunc(out, func(a, b Invite) int {
		if a.Timestamp != b.Timestamp {
			return int(b.Timestamp - a.Timestamp)
		}
		return strings.Compare(string(a.RoomID), string(b.RoomID))
	})
	return out, nil
}

func (s *Service) pendingInvite(ctx context.Context, room id.RoomID) (*store.Room, error) {
	r, err := s.store.Room(ctx, room)
	if errors.Is(err, store.ErrNotFound) || (err == nil && r.Membership != string(event.MembershipInvite)) {
		return nil, fmt.Errorf("%w (%s)", ErrNoInvite, room)
	}
	return r, err
}

// Accept joins an invited room. A direct invite is then recorded in m.direct under its inviter
// (R16); m.direct is not touched for other invites.
func (s *Service) Accept(ctx context.Context, room id.RoomID) error {
	r, err := s.pendingInvite(ctx, room)
	if err != nil {
		return err
	}
	if _, err := s.cli.JoinRoomByID(ctx, room); err != nil {
		return explainf(s.wrap(err), "join %s", room)
	}
	inviter, direct := r.Inviter, r.DirectInvite
	if err := s.store.SetMembership(ctx, room, string(event.MembershipJoin)); err != nil {
		return err
	}
	// The member list makes the room choosable (R6) now, not when sync brings a summary.
	if _, err := s.cli.Members(ctx, room); err != nil {
		s.log.Warn().Err(err).Stringer("room_id", room).Msg("members after join")
	}
	s.awaitJoinVisible(ctx, room)
	if direct && inviter != "" && inviter != s.me {
		if err := s.assignDirect(ctx, room, inviter); err != nil {
			return fmt.Errorf("joined %s but could not record it as a DM with %s: %w", room, inviter, err)
		}
	}
	return nil
}

// Decline rejects an invite and forgets the room, leaving nothing behind; m.direct is not
// written for an invite that was not accepted (R4).
func (s *Service) Decline(ctx context.Context, room id.RoomID) error {
	if _, err := s.pendingInvite(ctx, room); err != nil {
		return err
	}
	if _, err := s.cli.LeaveRoom(ctx, room); err != nil {
		return explainf(s.wrap(err), "decline %s", room)
	}
	if _, err := s.cli.ForgetRoom(ctx, room); err != nil {
		s.log.Warn().Err(err).Stringer("room_id", room).Msg("forget after decline failed")
	}
	return s.store.DeleteRoom(ctx, room)
}

// Leave leaves a room and forgets it. A DM left this way is removed from m.direct (R17); when
// the other person leaves instead, m.direct keeps the entry.
func (s *Service) Leave(ctx context.Context, room id.RoomID) error {
	if _, err := s.cli.LeaveRoom(ctx, room); err != nil && !errors.Is(err, mautrix.MForbidden) {
		return explainf(s.wrap(err), "leave %s", room)
	}
	if _, err := s.cli.ForgetRoom(ctx, room); err != nil {
		s.log.Warn().Err(err).Stringer("room_id", room).Msg("forget after leave failed")
	}
	if err := s.store.DeleteRoom(ctx, room); err != nil {
		return err
	}
	return s.unmarkDirect(ctx, room)
}

// awaitJoinVisible waits (briefly) until the server's history shows our join. A homeserver may
// apply a join to /messages a moment after /join returns; until then the history the UI loads
// for the room is empty, as if nothing had been said before we joined.
func (s *Service) awaitJoinVisible(ctx context.Context, room id.RoomID) {
	filter := &mautrix.FilterPart{Types: []event.Type{event.StateMember}}
	deadline := time.Now().Add(5 * time.Second)
	for delay := 20 * time.Millisecond; time.Now().Before(deadline); delay = min(delay*2, 500*time.Millisecond) {
		resp, err := s.cli.Messages(ctx, room, "", "", mautrix.DirectionBackward, filter, 10)
		if err != nil {
			return
		}
		for _, evt := range resp.Chunk {
			_ = evt.Content.ParseRaw(event.StateMember)
			if evt.GetStateKey() == s.me.String() && evt.Content.AsMember().Membership == event.MembershipJoin {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
	s.log.Warn().Stringer("room_id", room).Msg("our join is not in the room's history after 5s")
}
