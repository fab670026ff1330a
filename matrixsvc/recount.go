package matrixsvc

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"duet/store"
)

// Unread counts can lag their events: Dendrite counts notifications asynchronously and does not
// send a room again when its count catches up, so after a burst the badges stay low (a load
// test showed half the messages counted; an incremental sync from before the burst does not
// bring the corrected counts either, only a sync from scratch does). Once the account has been
// quiet for a moment after new messages, duet asks again: a /sync from scratch, filtered down
// to each room's newest event and counts, that moves nothing (the sync loop keeps its own
// position).

// recountQuiet is how long sync must bring no new messages before the counts are asked again.
const recountQuiet = 2 * time.Second

type recounter struct {
	mu    sync.Mutex
	since string // the sync position before the first messages not recounted yet ("" = none)
	wake  chan struct{}
}

// noteMessages records that the sync from since brought messages.
func (r *recounter) noteMessages(since string) {
	if since == "" {
		return // the initial sync's counts are fresh
	}
	r.mu.Lock()
	if r.since == "" {
		r.since = since
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *recounter) take() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	since := r.since
	r.since = ""
	return since
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
		if s.recount.take() == "" {
			continue
		}
		// The server's own counting may still be behind: ask again, later each time, until
		// two answers agree (at most four asks, over about half a minute).
		delay := recountQuiet
	asks:
		for i := range 4 {
			changed, err := s.recountAll(ctx)
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

// recount reads the current counts of every room and stores those that changed; it reports
// whether any did.
func (s *Service) recountAll(ctx context.Context) (bool, error) {
	none := &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}}
	filter := mautrix.Filter{
		AccountData: none,
		Presence:    none,
		Room: &mautrix.RoomFilter{
			AccountData: none,
			Ephemeral:   none,
			State:       none,
			Timeline:    &mautrix.FilterPart{Limit: 1},
		},
	}
	raw, err := json.Marshal(filter)
	if err != nil {
		return false, err
	}
	resp, err := s.cli.SyncRequest(ctx, 0, "", string(raw), false, "")
	if err != nil {
		return false, s.wrap(err)
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
			if setCount(r, room.UnreadNotifications) {
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

// setCount takes the server's unread counts for a room, unless we marked it read here after its
// newest message: the server may not have seen our receipt yet, so the count may only go down.
// It reports a change.
func setCount(r *store.Room, unread *mautrix.UnreadNotificationCounts) bool {
	before, beforeHL := r.Unread, r.Highlight
	stale := r.ReadTS > 0 && r.LastTS <= r.ReadTS
	if !stale || unread.NotificationCount <= r.Unread {
		r.Unread = unread.NotificationCount
	}
	if !stale || unread.HighlightCount <= r.Highlight {
		r.Highlight = unread.HighlightCount
	}
	return r.Unread != before || r.Highlight != beforeHL
}
