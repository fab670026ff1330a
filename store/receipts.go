package store

import (
	"context"

	"maunium.net/go/mautrix/id"
)

// SetReceipt records that user has read room up to evt at ts (ms), unless a newer receipt of
// theirs is stored. It reports whether it changed anything.
func (s *Store) SetReceipt(ctx context.Context, room id.RoomID, user id.UserID, evt id.EventID, ts int64) (bool, error) {
	res, err := s.db.Exec(ctx, `INSERT INTO duet_receipt (room_id, user_id, event_id, ts) VALUES ($1, $2, $3, $4)
		ON CONFLICT (room_id, user_id) DO UPDATE SET event_id=excluded.event_id, ts=excluded.ts
		WHERE excluded.ts >= duet_receipt.ts AND excluded.event_id != duet_receipt.event_id`, room, user, evt, ts)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// Receipts returns how far each other member has read room: user -> event.
func (s *Store) Receipts(ctx context.Context, room id.RoomID) (map[id.UserID]id.EventID, error) {
	rows, err := s.db.Query(ctx, "SELECT user_id, event_id FROM duet_receipt WHERE room_id=$1", room)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[id.UserID]id.EventID{}
	for rows.Next() {
		var u id.UserID
		var e id.EventID
		if err := rows.Scan(&u, &e); err != nil {
			return nil, err
		}
		out[u] = e
	}
	return out, rows.Err()
}
