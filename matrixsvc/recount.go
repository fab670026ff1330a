package matrixsvc

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/store"
)

// Unread counts can lag their events: Dendrite counts notifications asynchronously and does not
// send a room again when its count catches up, so after a burst the badges stay low (a load
// test showed half the messages counted; an incremental sync from before the burst does not
// bring the corrected counts either, only a sync from scratch does). Once the account has been
// quiet for a moment after new messages, duet asks again for the rooms that had them: a /sync
// from scratch, filtered down to those rooms' newest event and counts, that moves nothing (the
// sync loop keeps its own position).

// recountQuiet is how long sync must bring no new messages before the counts are asked again.
const recountQuiet = 2 * time.Second

type recounter struct {
	mu    sync.Mutex
	rooms map[id.RoomID]bool // rooms that had messages since their counts were last asked for
	wake  chan struct{}
}

// noteMessages records rooms that had new messages.
func (r *recounter) noteMessages(rooms []id.RoomID) {
	if len(rooms) == 0 {
		return
	}
	r.mu.Lock()
	if r.rooms == nil {
		r.rooms = map[id.RoomID]bool{}
	}
	for _, room := range rooms {
		r.rooms[room] = true
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *recounter) take() []id.RoomID {
	r.mu.Lock()
	defer r.mu.Unlock()
	rooms := make([]id.RoomID, 0, len(r.rooms))
	for room := range r.rooms {
		rooms = append(rooms, room)
	}
	r.rooms = nil
	return rooms
}

// runRecount asks for fresh counts once sync has been quiet for recountQuiet after messages.
func (s *Service) runRecount(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.recount.wake:
		}
		// Wait for the quiet: every new batch of messages starts the wait again.
		for quiet := false; !quiet; {
			select {
			case <-ctx.Done():
				return
			case <-s.recount.wake:
			case <-time.After(recountQuiet):
				quiet = true
			}
		}
		rooms := s.recount.take()
		if len(rooms) == 0 {
			continue
		}
		// The server's own counting may still be behind: ask again, later each time, until
		// two answers agree (at most four asks, over about half a minute).
		delay := recountQuiet
	asks:
		for i := range 4 {
			changed, err := s.recountRooms(ctx, rooms)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				s.log.Warn().Err(err).Msg("could not refresh unread counts")
			}
			if changed {
				s.publish(ctx, SyncApplied{DMListChanged: true})
			}
			if err == nil && !changed && i > 0 {
				break
			}
			delay *= 2
			select {
			case <-ctx.Done():
				return
			case <-s.recount.wake:
				break asks // new messages: wait for the next quiet moment
			case <-time.After(delay):
			}
		}
		select {
		case s.recount.wake <- struct{}{}: // resume a wait cut short above
		default:
		}
	}
}

// recountRooms reads the current counts of rooms and stores those that changed; it reports
// whether any did. Only these rooms are asked for, so the cost follows the burst, not the size
// of the account.
func (s *Service) recountRooms(ctx context.Context, rooms []id.RoomID) (bool, error) {
	resp, err := s.peekSync(ctx, "", rooms, &mautrix.FilterPart{Limit: 1})
	if err != nil {
		return false, err
	}
	changed := false
	err = s.store.Txn(ctx, func(ctx context.Context) error {
		for roomID, room := range resp.Rooms.Join {
			if room.UnreadNotifications == nil {
				continue
			}
			r, err := s.store.Room(ctx, roomID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if setCount(r, room.UnreadNotifications, 0) { // nothing new to us: asked again
				changed = true
				if err := s.store.PutRoom(ctx, r); err != nil {
					return err
				}
			}
		}
		return nil
	})
	s.log.Debug().Int("rooms", len(resp.Rooms.Join)).Bool("changed", changed).Msg("unread counts asked again")
	return changed, err
}

// setCount takes the server's unread counts for a room, given how many events came with them.
// A count that comes with no new event, in a room we marked read here after its newest message,
// may be the server counting a moment before it saw our receipt (Dendrite does): it may then
// only go down. Counts otherwise lag their events at most, so they are taken. It reports a
// change.
func setCount(r *store.Room, unread *mautrix.UnreadNotificationCounts, newEvents int) bool {
	before, beforeHL := r.Unread, r.Highlight
	stale := newEvents == 0 && r.ReadTS > 0 && r.LastTS <= r.ReadTS
	if !stale || unread.NotificationCount <= r.Unread {
		r.Unread = unread.NotificationCount
	}
	if !stale || unread.HighlightCount <= r.Highlight {
		r.Highlight = unread.HighlightCount
	}
	return r.Unread != before || r.Highlight != beforeHL
}

// peekSync is a /sync from since ("" = from scratch) that sees only the timelines (as timeline
// filters) and counts of rooms, and moves nothing: the sync loop keeps its own position. To-device
// messages in it are not acknowledged, so the sync loop still gets them.
func (s *Service) peekSync(ctx context.Context, since string, rooms []id.RoomID, timeline *mautrix.FilterPart) (*mautrix.RespSync, error) {
	none := &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}}
	filter := mautrix.Filter{
		AccountData: none,
		Presence:    none,
		Room: &mautrix.RoomFilter{
			Rooms:       rooms,
			AccountData: none,
			Ephemeral:   none,
			State:       none,
			Timeline:    timeline,
		},
	}
	raw, err := json.Marshal(filter)
	if err != nil {
		return nil, err
	}
	resp, err := s.cli.SyncRequest(ctx, 0, since, string(raw), false, "")
	if err != nil {
		return nil, s.wrap(err)
	}
	return resp, nil
}
