package store

import (
	"context"
	"sync"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/sqlstatestore"
)

// securitySchema is issue 19's encryption state (migration 11 -> 12).
//
// duet_event.not_encrypted: the message came in plain text in a room that was encrypted when it
// was stored (decided then, never recomputed from a later state event).
// duet_event.notice: not a message but duet's own line in the timeline (a column no remote
// message can set): NoticeEncryption+ALG is a refused change of the room's encryption settings to
// ALG ("" = none), by the row's sender; NoticeMember+JSON someone else coming into a 1:1;
// NoticeDevice+JSON a new device of the contact or of ours. "" for every message.
// duet_change.e2e: whether an edit came encrypted; a plain edit never applies to an encrypted
// message. NULL for edits recorded before: they are taken as encrypted.
// duet_reaction.e2e and not_encrypted: whether a reaction came encrypted, and whether it came
// in plain text in a room that was encrypted then (shown marked, like a message).
const securitySchema = `
ALTER TABLE duet_event ADD COLUMN not_encrypted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE duet_event ADD COLUMN notice TEXT NOT NULL DEFAULT '';
CREATE INDEX duet_event_notice_idx ON duet_event (room_id, ts) WHERE notice<>'';
ALTER TABLE duet_change ADD COLUMN e2e INTEGER;
ALTER TABLE duet_reaction ADD COLUMN e2e INTEGER NOT NULL DEFAULT 0;
ALTER TABLE duet_reaction ADD COLUMN not_encrypted INTEGER NOT NULL DEFAULT 0;
`

// unauthenticatedSchema: duet_event.unauthenticated says the message was decrypted with a room
// key that did not come straight from the sender's device (key backup, a key import, a
// forward); the mark stays (matrixsvc's sessionGuard never promotes such a session).
// duet_change.unauthenticated: an edit decrypted with such a key marks the message it
// changes.
const unauthenticatedSchema = `
ALTER TABLE duet_event ADD COLUMN unauthenticated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE duet_change ADD COLUMN unauthenticated INTEGER NOT NULL DEFAULT 0;
`

// The prefixes of a notice row (duet_event.notice), one for each kind of duet's own line.
const (
	NoticeEncryption = "encryption:" // a refused change of the encryption settings
	NoticeMember     = "member:"     // someone else joined, was invited to or knocked on a 1:1
	NoticeDevice     = "device:"     // a new device of the contact, or of ours
)

// StateStore is mautrix's SQL state store with encryption made sticky, as the spec says it is:
// once a room has an m.room.encryption event, a later one never replaces it. A hostile server
// or member cannot turn encryption off (empty content), change the algorithm or weaken the
// rotation settings; every reader, mautrix's crypto included, keeps seeing the first settings.
// The refused events are recorded in the timeline by the sync code (who, and what they asked).
type StateStore struct {
	*sqlstatestore.SQLStateStore
	log zerolog.Logger

	// enc caches each room's encryption settings as stored (nil: none), read for every plain
	// message a sync brings. Only SetEncryptionEvent writes them, and only once, so an entry
	// is never stale once SetEncryptionEvent has dropped it.
	encMu sync.RWMutex
	enc   map[id.RoomID]*event.EncryptionEventContent
}

// GetEncryptionEvent returns a room's first encryption settings, nil when it has none.
func (s *StateStore) GetEncryptionEvent(ctx context.Context, room id.RoomID) (*event.EncryptionEventContent, error) {
	s.encMu.RLock()
	cfg, ok := s.enc[room]
	s.encMu.RUnlock()
	if !ok {
		var err error
		if cfg, err = s.SQLStateStore.GetEncryptionEvent(ctx, room); err != nil {
			return nil, err
		}
		s.encMu.Lock()
		if s.enc == nil {
			s.enc = make(map[id.RoomID]*event.EncryptionEventContent)
		}
		s.enc[room] = cfg
		s.encMu.Unlock()
	}
	if cfg == nil {
		return nil, nil
	}
	c := *cfg
	return &c, nil
}

// SetEncryptionEvent records a room's encryption settings the first time only.
func (s *StateStore) SetEncryptionEvent(ctx context.Context, room id.RoomID, content *event.EncryptionEventContent) error {
	if content == nil {
		return nil
	}
	prev, err := s.GetEncryptionEvent(ctx, room)
	if err != nil {
		return err
	}
	if prev != nil {
		if *prev != *content {
			s.log.Warn().Stringer("room_id", room).Str("algorithm", string(content.Algorithm)).
				Str("kept_algorithm", string(prev.Algorithm)).Msg("refused a change of a room's encryption settings")
		}
		return nil
	}
	err = s.SQLStateStore.SetEncryptionEvent(ctx, room, content)
	s.encMu.Lock()
	delete(s.enc, room) // read again: stored now, or not if that failed
	s.encMu.Unlock()
	if err != nil {
		return err
	}
	// From now on every plain message here is marked, those stored before too: which came
	// before encryption is the server's word (it orders the timeline), not something duet can
	// check, so the mark means what it says for all of them.
	if _, err = s.SQLStateStore.Exec(ctx, `UPDATE duet_event SET not_encrypted=1
		WHERE room_id=$1 AND e2e=0 AND encrypted=0 AND redacted=0 AND notice='' AND msgtype!=''`, room); err != nil {
		return err
	}
	_, err = s.SQLStateStore.Exec(ctx, `UPDATE duet_reaction SET not_encrypted=1 WHERE room_id=$1 AND e2e=0`, room)
	return err
}

// IsEncrypted reports whether the room ever had an m.room.encryption event, whatever its
// algorithm: a room encrypted with something duet cannot do is not a plain room (sending to it
// fails, see EncryptionAlgorithm).
func (s *StateStore) IsEncrypted(ctx context.Context, room id.RoomID) (bool, error) {
	cfg, err := s.GetEncryptionEvent(ctx, room)
	return cfg != nil, err
}

// EncryptionAlgorithm returns the algorithm of a room's first encryption event; ok is false
// for a room that was never encrypted. The algorithm is "" when that event named none.
func (s *StateStore) EncryptionAlgorithm(ctx context.Context, room id.RoomID) (alg id.Algorithm, ok bool, err error) {
	cfg, err := s.GetEncryptionEvent(ctx, room)
	if err != nil || cfg == nil {
		return "", false, err
	}
	return cfg.Algorithm, true, nil
}
