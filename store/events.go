package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"

	"maunium.net/go/mautrix/id"
)

// Event is a stored timeline message.
type Event struct {
	Room      id.RoomID
	ID        id.EventID
	Pos       float64
	TS        int64
	Sender    id.UserID
	MsgType   string
	Body      string
	Encrypted bool
}

// Gap marks missing history below Pos, fetched backwards from Token ("" = from the newest).
type Gap struct {
	Pos   float64
	Token string
}

// AppendEvents stores a sync timeline chunk after a room's newest stored event. limited (with
// prevBatch) means events before the chunk may be missing: a gap is recorded below it.
// Events already stored are skipped.
func (s *Store) AppendEvents(ctx context.Context, room id.RoomID, evts []Event, limited bool, prevBatch string) error {
	if len(evts) == 0 {
		return nil
	}
	var top sql.NullFloat64
	if err := s.db.QueryRow(ctx, "SELECT MAX(pos) FROM duet_event WHERE room_id=$1", room).Scan(&top); err != nil {
		return err
	}
	base := 0.0
	if top.Valid {
		base = math.Floor(top.Float64) + 1
	}
	if limited || !top.Valid && prevBatch != "" {
		if _, err := s.db.Exec(ctx, "INSERT OR REPLACE INTO duet_gap (room_id, pos, token) VALUES ($1, $2, $3)", room, base, prevBatch); err != nil {
			return err
		}
	}
	for i := range evts {
		evts[i].Pos = base + float64(i)
	}
	return s.insertEvents(ctx, room, evts)
}

// insertEvents stores events with one statement per 500 (a statement per event costs more
// than the rest of applying a sync).
func (s *Store) insertEvents(ctx context.Context, room id.RoomID, evts []Event) error {
	const batch = 500
	for len(evts) > 0 {
		n := min(len(evts), batch)
		var q strings.Builder
		q.WriteString("INSERT OR IGNORE INTO duet_event (room_id, event_id, pos, ts, sender, msgtype, body, encrypted) VALUES ")
		args := make([]any, 0, n*8)
		for i, e := range evts[:n] {
			if i > 0 {
				q.WriteByte(',')
			}
			k := i * 8
			fmt.Fprintf(&q, "($%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d)", k+1, k+2, k+3, k+4, k+5, k+6, k+7, k+8)
			args = append(args, room, e.ID, e.Pos, e.TS, e.Sender, e.MsgType, e.Body, e.Encrypted)
		}
		if _, err := s.db.Exec(ctx, q.String(), args...); err != nil {
			return err
		}
		evts = evts[n:]
	}
	return nil
}

func (s *Store) insertEvent(ctx context.Context, room id.RoomID, e *Event) error {
	_, err := s.db.Exec(ctx, `INSERT OR IGNORE INTO duet_event (room_id, event_id, pos, ts, sender, msgtype, body, encrypted)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, room, e.ID, e.Pos, e.TS, e.Sender, e.MsgType, e.Body, e.Encrypted)
	return err
}

// EventsBelow returns up to limit stored events of a room with pos < below (newest first),
// stopping at the first gap: the events returned are contiguous. gap is the gap they stop at,
// if any.
func (s *Store) EventsBelow(ctx context.Context, room id.RoomID, below float64, limit int) (evts []Event, gap *Gap, err error) {
	var g Gap
	err = s.db.QueryRow(ctx, "SELECT pos, token FROM duet_gap WHERE room_id=$1 AND pos < $2 ORDER BY pos DESC LIMIT 1", room, below).Scan(&g.Pos, &g.Token)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		g.Pos = math.Inf(-1)
	case err != nil:
		return nil, nil, err
	default:
		gap = &g
	}
	rows, err := s.db.Query(ctx, `SELECT event_id, pos, ts, sender, msgtype, body, encrypted FROM duet_event
		WHERE room_id=$1 AND pos < $2 AND pos >= $3 ORDER BY pos DESC LIMIT $4`, room, below, g.Pos, limit)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		e := Event{Room: room}
		if err := rows.Scan(&e.ID, &e.Pos, &e.TS, &e.Sender, &e.MsgType, &e.Body, &e.Encrypted); err != nil {
			return nil, nil, err
		}
		evts = append(evts, e)
	}
	return evts, gap, rows.Err()
}

// HasEvents reports whether anything of a room's timeline is stored.
func (s *Store) HasEvents(ctx context.Context, room id.RoomID) (bool, error) {
	var n int
	err := s.db.QueryRow(ctx, "SELECT EXISTS(SELECT 1 FROM duet_event WHERE room_id=$1 UNION SELECT 1 FROM duet_gap WHERE room_id=$1)", room).Scan(&n)
	return n == 1, err
}

// FillGap stores a page fetched backwards from gap (newest first, as /messages returns them)
// below it, and moves the gap below the page: to next, or away when the page reached older
// stored events or the start of the room (next == "" or reachedStored).
func (s *Store) FillGap(ctx context.Context, room id.RoomID, gap Gap, page []Event, next string) error {
	var floor sql.NullFloat64
	if err := s.db.QueryRow(ctx, "SELECT MAX(pos) FROM duet_event WHERE room_id=$1 AND pos < $2", room, gap.Pos).Scan(&floor); err != nil {
		return err
	}
	low := gap.Pos - float64(len(page)) - 1
	if floor.Valid {
		low = floor.Float64
	}
	step := (gap.Pos - low) / float64(len(page)+1)
	reachedStored := false
	lowest := gap.Pos
	for i := range page {
		var exists bool
		if err := s.db.QueryRow(ctx, "SELECT EXISTS(SELECT 1 FROM duet_event WHERE room_id=$1 AND event_id=$2)", room, page[i].ID).Scan(&exists); err != nil {
			return err
		}
		if exists {
			reachedStored = true
			break
		}
		page[i].Pos = gap.Pos - step*float64(i+1)
		lowest = page[i].Pos
		if err := s.insertEvent(ctx, room, &page[i]); err != nil {
			return err
		}
	}
	if _, err := s.db.Exec(ctx, "DELETE FROM duet_gap WHERE room_id=$1 AND pos=$2", room, gap.Pos); err != nil {
		return err
	}
	if reachedStored || next == "" {
		return nil
	}
	_, err := s.db.Exec(ctx, "INSERT OR REPLACE INTO duet_gap (room_id, pos, token) VALUES ($1, $2, $3)", room, lowest, next)
	return err
}

// SetGapToken sets the token of a room's gap at pos.
func (s *Store) SetGapToken(ctx context.Context, room id.RoomID, pos float64, token string) error {
	_, err := s.db.Exec(ctx, "INSERT OR REPLACE INTO duet_gap (room_id, pos, token) VALUES ($1, $2, $3)", room, pos, token)
	return err
}
