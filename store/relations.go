package store

import (
	"context"
	"slices"

	"maunium.net/go/mautrix/id"
)

// Replies, reactions and media.
//
// A reply names the message it answers in reply_to; what that message says is read from the
// store when it is shown. A reaction (m.annotation) is kept in duet_reaction whether or not its
// message is stored (backfill brings reactions before their messages); a redaction of a
// reaction is a duet_change row like any other, and hides the reaction. Media is the content of
// a file message (its url or encrypted file, name and info) as JSON, read by matrixsvc.
const relationSchema = `
ALTER TABLE duet_event ADD COLUMN reply_to TEXT NOT NULL DEFAULT '';
ALTER TABLE duet_event ADD COLUMN media TEXT NOT NULL DEFAULT '';
CREATE TABLE duet_reaction (
	room_id  TEXT NOT NULL,
	event_id TEXT NOT NULL,
	target   TEXT NOT NULL,
	sender   TEXT NOT NULL,
	key      TEXT NOT NULL,
	ts       INTEGER NOT NULL,
	PRIMARY KEY (room_id, event_id)
);
CREATE INDEX duet_reaction_target_idx ON duet_reaction (room_id, target);
ALTER TABLE duet_outbox ADD COLUMN reply_to TEXT NOT NULL DEFAULT '';
ALTER TABLE duet_outbox ADD COLUMN react TEXT NOT NULL DEFAULT '';
ALTER TABLE duet_outbox ADD COLUMN file TEXT NOT NULL DEFAULT '';
ALTER TABLE duet_outbox ADD COLUMN media TEXT NOT NULL DEFAULT '';
`

// Reaction is one person's reaction to a message.
type Reaction struct {
	EventID id.EventID // the m.reaction event
	Sender  id.UserID
	Key     string // usually an emoji
	TS      int64

	NotEncrypted bool // came in plain text in a room that was encrypted then
}

// maxReactionKey bounds a reaction's key: longer is not a reaction anyone means to show.
const maxReactionKey = 100

func (s *Store) addReaction(ctx context.Context, room id.RoomID, c Change) error {
	key := c.Reaction
	if len(key) > maxReactionKey {
		return nil
	}
	_, err := s.db.Exec(ctx, `INSERT OR IGNORE INTO duet_reaction (room_id, event_id, target, sender, key, ts, e2e, not_encrypted)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, room, c.ID, c.Target, c.Sender, key, c.TS, c.E2E, c.NotEncrypted)
	return err
}

// reactionTarget is the message a reaction evt reacts to, "" when evt is no reaction we know.
func (s *Store) reactionTarget(ctx context.Context, room id.RoomID, evt id.EventID) (id.EventID, error) {
	var target id.EventID
	err := s.db.QueryRow(ctx, "SELECT target FROM duet_reaction WHERE room_id=$1 AND event_id=$2", room, evt).Scan(&target)
	if isNoRows(err) {
		return "", nil
	}
	return target, err
}

// withStored adds to changed those of more that are stored messages, once each.
func (s *Store) withStored(ctx context.Context, room id.RoomID, changed, more []id.EventID) ([]id.EventID, error) {
	for _, evt := range more {
		if slices.Contains(changed, evt) {
			continue
		}
		var ok bool
		if err := s.db.QueryRow(ctx, "SELECT EXISTS(SELECT 1 FROM duet_event WHERE room_id=$1 AND event_id=$2)", room, evt).Scan(&ok); err != nil {
			return nil, err
		}
		if ok {
			changed = append(changed, evt)
		}
	}
	return changed, nil
}

// Reactions returns the reactions to the messages ids of a room that were not taken back,
// oldest first per message.
func (s *Store) Reactions(ctx context.Context, room id.RoomID, ids []id.EventID) (map[id.EventID][]Reaction, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	// Most rooms have no reactions: one cheap look says so.
	var some bool
	if err := s.db.QueryRow(ctx, "SELECT EXISTS(SELECT 1 FROM duet_reaction WHERE room_id=$1)", room).Scan(&some); err != nil || !some {
		return nil, err
	}
	out := map[id.EventID][]Reaction{}
	for len(ids) > 0 {
		n := min(len(ids), insertBatch)
		list, args := inList(room, ids[:n])
		rows, err := s.db.Query(ctx, `SELECT r.target, r.event_id, r.sender, r.key, r.ts, r.not_encrypted FROM duet_reaction r
			WHERE r.room_id=$1 AND r.target IN (`+list+`)
			AND NOT EXISTS (SELECT 1 FROM duet_change c WHERE c.room_id=r.room_id AND c.target=r.event_id AND c.redact=1)
			ORDER BY r.ts, r.event_id`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var target id.EventID
			var r Reaction
			if err := rows.Scan(&target, &r.EventID, &r.Sender, &r.Key, &r.TS, &r.NotEncrypted); err != nil {
				rows.Close()
				return nil, err
			}
			out[target] = append(out[target], r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		ids = ids[n:]
	}
	return out, nil
}
