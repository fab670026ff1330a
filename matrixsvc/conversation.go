package matrixsvc

import (
	"cmp"
	"context"
	"slices"

	"maunium.net/go/mautrix/id"
)

// Conversation is R22 for x: every room that is or was a 1:1 with x, the current one first.
func (s *Service) Conversation(ctx context.Context, x id.UserID) ([]ConversationRoom, error) {
	if _, err := ValidateUserID(s.me, string(x)); err != nil {
		return nil, err
	}
	v, err := s.resolveView(ctx, x)
	if err != nil {
		return nil, err
	}
	return ConversationWith(s.me, x, v.direct, v.rooms), nil
}

// Move marks where a merged conversation goes on in another room (R22, R23).
type Move struct {
	Before   int       // the index of the first message in the new room
	Room     id.RoomID // the room it goes on in
	Upgraded bool      // the new room replaced the old one (R23); else it is a new DM (R9)
}

// ConversationMessages is the newest limit messages with x across every room of the
// conversation, oldest first by server time, with a Move wherever it goes on in another room.
// Each room's history comes from the store, fetched from the server where it has gaps.
func (s *Service) ConversationMessages(ctx context.Context, x id.UserID, limit int) ([]Message, []Move, error) {
	rooms, err := s.Conversation(ctx, x)
	if err != nil || len(rooms) == 0 {
		return nil, nil, err
	}
	var all []Message
	for _, r := range rooms {
		msgs, err := s.Messages(ctx, r.RoomID, limit)
		if err != nil {
			return nil, nil, err
		}
		all = append(all, msgs...)
	}
	slices.SortStableFunc(all, func(a, b Message) int { return cmp.Compare(a.Timestamp.UnixMilli(), b.Timestamp.UnixMilli()) })
	if len(all) > limit {
		all = all[len(all)-limit:]
	}
	stored, err := s.store.Rooms(ctx)
	if err != nil {
		return nil, nil, err
	}
	var moves []Move
	for i := 1; i < len(all); i++ {
		if all[i].RoomID == all[i-1].RoomID {
			continue
		}
		upgraded := false
		if r := stored[all[i].RoomID]; r != nil && r.Predecessor == all[i-1].RoomID {
			upgraded = true
		}
		moves = append(moves, Move{Before: i, Room: all[i].RoomID, Upgraded: upgraded})
	}
	return all, moves, nil
}

// MarkConversationRead marks the other rooms of the conversation with x read at their newest
// message (R22: reading the conversation reads each room), skipping rooms whose newest message
// this process marked read already. The stored unread count cannot decide: the server may not
// have counted a message that just came. The current room is marked by MarkRead as the UI
// shows it.
func (s *Service) MarkConversationRead(ctx context.Context, x id.UserID) error {
	rooms, err := s.Conversation(ctx, x)
	if err != nil {
		return err
	}
	for _, r := range rooms {
		if r.Why == "" {
			continue
		}
		msgs, _, err := s.History(ctx, r.RoomID, "", 1)
		if err != nil {
			return err
		}
		if len(msgs) == 0 || msgs[len(msgs)-1].EventID == "" {
			continue
		}
		if marked, ok := s.readMarks.Load(r.RoomID); ok && marked == msgs[len(msgs)-1].EventID {
			continue
		}
		if err := s.MarkRead(ctx, r.RoomID, msgs[len(msgs)-1].EventID); err != nil {
			return err
		}
	}
	return nil
}
