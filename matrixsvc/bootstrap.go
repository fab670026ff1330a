package matrixsvc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/store"
)

// The first start of a device, before its initial sync lands.
//
// The initial /sync of a large account takes the server seconds to minutes, while the m.direct
// account data and the list of joined rooms answer in milliseconds. Bootstrap fills the store
// from those small requests, so that the contacts list is there at once; then it fetches the
// joined members of the DM rooms (their names, and whether a room is a 1:1 or a group), in the
// list's order, so that the rows in view get their names first. Previews, unread counts and
// activity come with the sync. Everything Bootstrap writes is what the sync writes too (the
// account data, a room we are joined to, its members' names), and it writes only while no sync
// has been saved: the initial sync lands on top of it as on any stored room, and nothing is
// kept twice. A room known this way has no state yet: before anything is sent into it, its
// state is fetched (ensureRoomState), so that an encrypted room is never sent plain text.

// bootstrapWorkers is how many member lists are fetched at once; firstScreen is about how many
// rows a terminal shows, told as soon as they have their names.
const (
	bootstrapWorkers = 8
	firstScreen      = 40
)

// Bootstrap fills an empty store from the small requests; it does nothing once a sync has been
// saved. With publish, the UI hears of each step (DMListChanged). names says to fetch the
// members' names too (the UI and `duet dms`); it stops early when the initial sync lands.
func (s *Service) Bootstrap(ctx context.Context, names bool) error {
	if synced, err := s.synced(ctx); err != nil || synced {
		return err
	}
	start := time.Now()
	var direct json.RawMessage
	err := s.cli.GetAccountData(ctx, event.AccountDataDirectChats.Type, &direct)
	if errors.Is(err, mautrix.MNotFound) {
		direct, err = json.RawMessage(`{}`), nil
	}
	if err != nil {
		return fmt.Errorf("read m.direct: %w", s.wrap(err))
	}
	joined, err := s.cli.JoinedRooms(ctx)
	if err != nil {
		return fmt.Errorf("list the joined rooms: %w", s.wrap(err))
	}
	rooms, err := s.bootstrapRooms(ctx, direct, joined.JoinedRooms)
	if err != nil || rooms == nil {
		return err
	}
	s.log.Info().Int("rooms", len(rooms)).Dur("took", time.Since(start)).Msg("contacts list from m.direct and the joined rooms, before the initial sync")
	s.publishList(ctx)
	if names {
		s.bootstrapMembers(ctx, rooms)
	}
	return nil
}

// Synced reports whether this device's first sync has been saved.
func (s *Service) Synced(ctx context.Context) (bool, error) { return s.synced(ctx) }

// synced reports whether a sync has been saved: the store's own state, not the bootstrap's.
// Once it has, it stays so for this service: seal asks before every send, and the store is
// read only until then.
func (s *Service) synced(ctx context.Context) (bool, error) {
	if s.syncSaved.Load() {
		return true, nil
	}
	since, err := s.store.Get(ctx, keyNextBatch)
	if since != "" {
		s.syncSaved.Store(true)
	}
	return since != "", err
}

// bootstrapRooms stores m.direct and the joined rooms it lists, in one step that a saved sync
// excludes (bootMu); it returns those rooms in the order the list shows them (by user ID, as
// contacts with no activity yet sort), nil when a sync was saved first.
func (s *Service) bootstrapRooms(ctx context.Context, direct json.RawMessage, joined []id.RoomID) ([]id.RoomID, error) {
	s.bootMu.Lock()
	defer s.bootMu.Unlock()
	if synced, err := s.synced(ctx); err != nil || synced {
		return nil, err
	}
	d, _ := ParseDirect(direct)
	in := make(map[id.RoomID]bool, len(joined))
	for _, r := range joined {
		in[r] = true
	}
	users := make([]id.UserID, 0, len(d))
	for u := range d {
		users = append(users, u)
	}
	slices.Sort(users)
	var order []id.RoomID
	seen := map[id.RoomID]bool{}
	// One transaction: a thousand rooms are a thousand writes.
	err := s.store.Txn(ctx, func(ctx context.Context) error {
		if err := s.store.SetAccountData(ctx, event.AccountDataDirectChats.Type, direct); err != nil {
			return err
		}
		for _, u := range users {
			for _, room := range d[u] {
				if !in[room] || seen[room] {
					continue
				}
				seen[room] = true
				order = append(order, room)
				// A room stored already (an earlier run's sync that was not saved whole) stays.
				if err := s.store.AddRoom(ctx, &store.Room{ID: room, Membership: string(event.MembershipJoin)}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return order, nil
}

// bootstrapMembers fetches the members of rooms, a few at once in order, and stores
// them, telling the UI as they come; it stops when the initial sync lands (which brings
// them all).
func (s *Service) bootstrapMembers(ctx context.Context, rooms []id.RoomID) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan id.RoomID)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done, told := 0, time.Now()
	for range bootstrapWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for room := range next {
				stop, err := s.bootstrapRoom(ctx, room)
				if err != nil {
					s.log.Debug().Err(err).Stringer("room_id", room).Msg("members before the initial sync")
				}
				if stop {
					cancel()
					return
				}
				mu.Lock()
				done++
				// The first screenful at once, then at most four times a second: the UI reads
				// the whole list again each time.
				tell := done == firstScreen || time.Since(told) > 250*time.Millisecond
				if tell {
					told = time.Now()
				}
				mu.Unlock()
				if tell {
					s.publishList(ctx)
				}
			}
		}()
	}
feed:
	for _, room := range rooms {
		select {
		case next <- room:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	s.publishList(ctx)
}

// bootstrapRoom fetches and stores one room's members (/members: the joined and the invited,
// so that a DM whose other person has not joined yet is still theirs): their names, and the
// counts that tell a 1:1 from a group. stop is true once a sync was saved.
func (s *Service) bootstrapRoom(ctx context.Context, room id.RoomID) (stop bool, err error) {
	// The raw request: mautrix's Members writes the state store itself, outside bootMu, where
	// it could land after the sync and undo what it says.
	var resp mautrix.RespMembers
	if _, err := s.cli.MakeRequest(ctx, http.MethodGet, s.cli.BuildClientURL("v3", "rooms", room, "members"), nil, &resp); err != nil {
		return false, s.wrap(err)
	}
	s.bootMu.Lock()
	defer s.bootMu.Unlock()
	if synced, err := s.synced(ctx); err != nil || synced {
		return true, err
	}
	r, err := s.store.Room(ctx, room)
	if err != nil {
		return false, err
	}
	if r.JoinedCount > 0 {
		return false, nil // known already (a sync of an earlier run that was not saved whole)
	}
	r.Heroes = nil
	return false, s.store.Txn(ctx, func(ctx context.Context) error { // the room's members and counts at once
		for _, evt := range resp.Chunk {
			if evt == nil || evt.Type != event.StateMember || evt.StateKey == nil {
				continue
			}
			evt.RoomID = room
			if evt.Content.Parsed == nil && evt.Content.ParseRaw(evt.Type) != nil {
				continue
			}
			c, ok := evt.Content.Parsed.(*event.MemberEventContent)
			if !ok {
				continue
			}
			u := id.UserID(*evt.StateKey)
			if err := s.store.State.SetMember(ctx, room, u, c); err != nil {
				return err
			}
			switch c.Membership {
			case event.MembershipJoin:
				r.JoinedCount++
			case event.MembershipInvite:
				r.InvitedCount++
			default:
				continue
			}
			if u != s.me && len(r.Heroes) < maxHeroes {
				r.Heroes = append(r.Heroes, u)
			}
		}
		slices.Sort(r.Heroes)
		return s.store.PutRoom(ctx, r)
	})
}

// maxHeroes is how many members besides us a room's summary names, as the sync's does (the
// spec's five): enough to tell a 1:1 from a group.
const maxHeroes = 5

// publishList tells a listening UI that the contacts list changed.
func (s *Service) publishList(ctx context.Context) {
	if s.listening.Load() {
		s.publish(ctx, SyncApplied{DMListChanged: true})
	}
}

// ensureRoomState fetches the whole state of a room that no saved sync has brought yet (one
// known from Bootstrap) before anything is sent into it: its encryption above all. Once per
// room and process; nothing to do after the first sync.
func (s *Service) ensureRoomState(ctx context.Context, room id.RoomID) error {
	if synced, err := s.synced(ctx); err != nil || synced {
		return err
	}
	if _, ok := s.stateFetched.Load(room); ok {
		return nil
	}
	var evts []*event.Event // raw, as bootstrapRoom's: applied under bootMu, unless a sync came first
	if _, err := s.cli.MakeRequest(ctx, http.MethodGet, s.cli.BuildClientURL("v3", "rooms", room, "state"), nil, &evts); err != nil {
		return fmt.Errorf("the state of %s: %w", room, s.wrap(err))
	}
	s.bootMu.Lock()
	defer s.bootMu.Unlock()
	if synced, err := s.synced(ctx); err != nil || synced {
		return err
	}
	for _, evt := range evts {
		if evt == nil || evt.StateKey == nil {
			continue
		}
		evt.RoomID = room
		if evt.Content.Parsed == nil {
			_ = evt.Content.ParseRaw(evt.Type)
		}
		mautrix.UpdateStateStore(ctx, s.store.State, evt)
	}
	s.stateFetched.Store(room, true)
	return nil
}
