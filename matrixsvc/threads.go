package matrixsvc

import (
	"context"

	"maunium.net/go/mautrix/id"
)

// Threads (m.thread): a thread's messages are read from the store; paging a room's History
// back stores what is older, the root of a thread among it.

// ThreadMessages returns the thread on root in room as stored: the root first when it is
// stored (rootFound), then its newest limit replies, oldest first, with their replies,
// reactions and counts filled in. more says that older replies are stored than limit let in.
func (s *Service) ThreadMessages(ctx context.Context, room id.RoomID, root id.EventID, limit int) (msgs []Message, rootFound, more bool, err error) {
	limit = max(limit, 1)
	evts, err := s.store.Thread(ctx, room, root, limit+1)
	if err != nil {
		return nil, false, false, err
	}
	msgs = make([]Message, 0, len(evts))
	replies := 0
	for _, e := range evts {
		m := fromStored(e)
		if m.EventID == root {
			rootFound = true
		} else {
			replies++
		}
		msgs = append(msgs, m)
	}
	if replies > limit {
		// One more than asked was read to know whether there is more: the oldest reply goes.
		more = true
		for i, m := range msgs {
			if m.EventID != root {
				msgs = append(msgs[:i], msgs[i+1:]...)
				break
			}
		}
	}
	if err := s.relations(ctx, room, msgs); err != nil {
		return nil, false, false, err
	}
	return msgs, rootFound, more, nil
}
