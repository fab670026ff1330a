package matrixsvc

import (
	"context"
	"fmt"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// A conversation that was encrypted stays encrypted. The server decides which room a
// conversation goes on in: it can announce an upgrade (a tombstone) to a room it made without
// encryption, or hand us a new DM from the other person's account, and the DM rules then move
// the conversation there (R9, R22, R23). Neither may turn what the user reads as an encrypted
// conversation into plain text: before the first message goes to such a room, duet turns
// encryption on in it, and if it cannot, the message is not sent.

// encryptedBefore reports whether room continues an encrypted conversation: a room it
// replaced (by its tombstone or its own predecessor field) is encrypted, or room is a 1:1 of
// m.direct's with x and another room m.direct lists under x is. It names that room. A room
// that is no DM of one person (a group, a room of no conversation) continues nothing.
func (s *Service) encryptedBefore(ctx context.Context, room id.RoomID) (id.RoomID, bool, error) {
	var before []id.RoomID
	if r, err := s.store.Room(ctx, room); err == nil && r.Predecessor != "" {
		before = append(before, r.Predecessor)
	}
	upgraded, err := s.store.Upgraded(ctx)
	if err != nil {
		return "", false, err
	}
	for old, r := range upgraded {
		if r.Tombstone == room {
			before = append(before, old)
		}
	}
	for _, old := range before {
		if enc, err := s.store.State.IsEncrypted(ctx, old); err != nil {
			return "", false, err
		} else if enc {
			return old, true, nil
		}
	}
	x, err := s.dmPeer(ctx, room)
	if err != nil || x == "" {
		return "", false, err
	}
	return s.encryptedRoomWith(ctx, x, room)
}

// encryptedRoomWith returns an encrypted room other than except that m.direct lists under x.
func (s *Service) encryptedRoomWith(ctx context.Context, x id.UserID, except id.RoomID) (id.RoomID, bool, error) {
	d, _, err := s.direct(ctx)
	if err != nil {
		return "", false, err
	}
	for _, room := range d[x] {
		if room == except {
			continue
		}
		if enc, err := s.store.State.IsEncrypted(ctx, room); err != nil {
			return "", false, err
		} else if enc {
			return room, true, nil
		}
	}
	return "", false, nil
}

// conversationEncrypted reports whether a room that is or was a 1:1 with x (in m.direct) is
// encrypted.
func (s *Service) conversationEncrypted(ctx context.Context, x id.UserID) bool {
	_, ok, err := s.encryptedRoomWith(ctx, x, "")
	return err == nil && ok
}

// keepEncrypted turns encryption on in room when it continues an encrypted conversation, and
// reports whether it did. A room whose encryption cannot be turned on gets nothing sent.
func (s *Service) keepEncrypted(ctx context.Context, room id.RoomID) (bool, error) {
	before, ok, err := s.encryptedBefore(ctx, room)
	if err != nil || !ok {
		return false, err
	}
	if s.cryptoPath == "" {
		return false, fmt.Errorf("%w: this conversation was encrypted before", ErrEncryptedRoom)
	}
	content := &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}
	if _, err := s.cli.SendStateEvent(ctx, room, event.StateEncryption, "", content); err != nil {
		err = s.wrap(err)
		if Temporary(err) {
			return false, err
		}
		return false, &saidError{err: fmt.Errorf("%w: %w", ErrEncryptedRoom, err),
			msg: fmt.Sprintf("%v: this conversation was encrypted (in %s) and encryption could not be turned on in %s, where it goes on: %s",
				ErrEncryptedRoom, before, room, Explain(err))}
	}
	if err := s.store.State.SetEncryptionEvent(ctx, room, content); err != nil {
		return false, err
	}
	s.log.Warn().Stringer("room_id", room).Stringer("encrypted_room", before).
		Msg("turned encryption on in a room that continues an encrypted conversation")
	return true, nil
}
