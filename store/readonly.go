package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// OpenReadOnly opens an existing database for reading only: no migration, no write, no wait
// of more than a moment for a writer. It is for shell completion, which answers while a duet
// (the UI, a command) holds the profile and writes the same file. Only the reading methods
// of the Store it returns may be used; it has no State.
func OpenReadOnly(ctx context.Context, path string) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	raw, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=100&_query_only=1")
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := raw.PingContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	db, err := dbutil.NewWithDB(raw, "sqlite3")
	if err != nil {
		raw.Close()
		return nil, err
	}
	return &Store{db: db}, nil
}

// RecentMessage is a message as completion offers it: its event ID and the start of its body.
type RecentMessage struct {
	RoomID  id.RoomID
	EventID id.EventID
	Sender  id.UserID
	Body    string
	TS      int64
}

// RecentMessages returns the newest readable messages, newest first: in rooms (all rooms when
// empty), from sender (anyone when empty), at most limit.
func (s *Store) RecentMessages(ctx context.Context, rooms []id.RoomID, sender id.UserID, limit int) ([]RecentMessage, error) {
	query := "SELECT room_id, event_id, sender, body, ts FROM duet_event WHERE body <> '' AND encrypted = 0"
	var args []any
	if sender != "" {
		args = append(args, sender)
		query += fmt.Sprintf(" AND sender = $%d", len(args))
	}
	if len(rooms) > 0 {
		query += " AND room_id IN ("
		for i, r := range rooms {
			args = append(args, r)
			if i > 0 {
				query += ", "
			}
			query += fmt.Sprintf("$%d", len(args))
		}
		query += ")"
	}
	args = append(args, limit)
	query += fmt.Sprintf(" ORDER BY ts DESC LIMIT $%d", len(args))
	rows, err := s.db.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RecentMessage
	for rows.Next() {
		var m RecentMessage
		if err := rows.Scan(&m.RoomID, &m.EventID, &m.Sender, &m.Body, &m.TS); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
