package matrixsvc

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Room upgrades (R23): when a DM room is replaced (m.room.tombstone), duet joins the
// replacement as soon as it is invited or allowed to, and then moves the room's m.direct entry
// from the old ID to the new one in one read-modify-write. A replacement it cannot join leaves
// the old room listed and readable; UpgradeProblem says why.

// upgradeRetry is how long a replacement that could not be joined is left alone, unless an
// invite to it arrives first.
const upgradeRetry = 10 * time.Minute

type upgrades struct {
	mu      sync.Mutex
	tried   map[id.RoomID]time.Time // replacement -> last failed join
	problem map[id.RoomID]string    // old room -> why its replacement could not be joined
}

func (u *upgrades) failed(old, repl id.RoomID, why string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.tried == nil {
		u.tried, u.problem = map[id.RoomID]time.Time{}, map[id.RoomID]string{}
	}
	u.tried[repl] = time.Now()
	u.problem[old] = why
}

func (u *upgrades) done(old, repl id.RoomID) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.tried, repl)
	delete(u.problem, old)
}

func (u *upgrades) due(repl id.RoomID, invited bool) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	last, ok := u.tried[repl]
	return !ok || invited || time.Since(last) > upgradeRetry
}

// UpgradeProblem says, in one line, why the replacement of an upgraded DM room could not be
// joined ("" when there is nothing to say).
func (s *Service) UpgradeProblem(room id.RoomID) string {
	s.upgrades.mu.Lock()
	defer s.upgrades.mu.Unlock()
	return s.upgrades.problem[room]
}

// mentionsUpgrade reports whether a sync response may change an upgrade: a tombstone in a
// joined room, or any invite (it may be to a replacement).
func mentionsUpgrade(resp *mautrix.RespSync) bool {
	if len(resp.Rooms.Invite) > 0 {
		return true
	}
	for _, room := range resp.Rooms.Join {
		for _, list := range [][]*event.Event{room.State.Events, room.Timeline.Events} {
			for _, evt := range list {
				if evt.Type == event.StateTombstone {
					return true
				}
			}
		}
	}
	return false
}

// followUpgrades carries out R23 for every upgraded DM room we are still in.
func (s *Service) followUpgrades(ctx context.Context) {
	rooms, err := s.store.Upgraded(ctx)
	if err != nil {
		s.log.Warn().Err(err).Msg("room upgrades: reading the store")
		return
	}
	d, wellFormed, err := s.direct(ctx)
	if err != nil {
		return
	}
	listed := d.Rooms()
	for old, r := range rooms {
		users, isDM := listed[old]
		if !isDM || r.Tombstone == "" || r.Tombstone == old || r.Membership != string(event.MembershipJoin) {
			continue
		}
		repl := r.Tombstone
		next := rooms[repl]
		if next == nil || next.Membership != string(event.MembershipJoin) {
			invited := next != nil && next.Membership == string(event.MembershipInvite)
			if !s.upgrades.due(repl, invited) {
				continue
			}
			if err := s.joinReplacement(ctx, repl, users); err != nil {
				why := "this conversation moved to a new room that duet cannot join: " + Explain(err)
				if errors.Is(err, mautrix.MForbidden) {
					why = "this conversation moved to a new room you are not invited to yet; duet joins it once you are"
				}
				s.upgrades.failed(old, repl, why)
				s.log.Warn().Err(err).Stringer("room_id", old).Stringer("replacement", repl).Msg("could not join the replacement of an upgraded DM")
				continue
			}
		}
		s.upgrades.done(old, repl)
		if !wellFormed {
			continue // R1: m.direct is not written while it cannot be understood
		}
		if err := s.editDirect(ctx, func(raw []byte) ([]byte, bool, error) {
			return ReplaceDirectRoom(raw, old, repl)
		}); err != nil {
			s.log.Warn().Err(err).Stringer("room_id", old).Stringer("replacement", repl).Msg("could not move an upgraded DM in m.direct")
			continue
		}
		s.log.Info().Stringer("room_id", old).Stringer("replacement", repl).Msg("followed a DM room upgrade")
	}
}

// joinReplacement joins an upgrade's replacement room, through the servers of the room and of
// the people of the old one, and makes it choosable at once.
func (s *Service) joinReplacement(ctx context.Context, repl id.RoomID, users []id.UserID) error {
	var via []string
	add := func(server string) {
		if server != "" && !slices.Contains(via, server) {
			via = append(via, server)
		}
	}
	if _, server, ok := strings.Cut(string(repl), ":"); ok {
		add(server)
	}
	for _, u := range users {
		add(u.Homeserver())
	}
	add(s.me.Homeserver())
	if _, err := s.cli.JoinRoom(ctx, string(repl), &mautrix.ReqJoinRoom{Via: via}); err != nil {
		return s.wrap(err)
	}
	if err := s.store.SetMembership(ctx, repl, string(event.MembershipJoin)); err != nil {
		return err
	}
	// The member list makes it choosable (R6) now, not when sync brings a summary.
	if _, err := s.cli.Members(ctx, repl); err != nil {
		s.log.Warn().Err(err).Stringer("room_id", repl).Msg("members after joining a replacement")
	}
	return nil
}
