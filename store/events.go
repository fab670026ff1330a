package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

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
	HTML      string // formatted_body of a formatted message (org.matrix.custom.html), else ""
	Encrypted bool   // not decrypted (yet): Raw, SessionID and DecryptError are set
	E2E       bool   // came encrypted and was decrypted

	SessionID    string
	Raw          string // the m.room.encrypted event, kept to decrypt it later
	DecryptError string
	Trust        string // a warning about the sending device, "" when none
	// Unauthenticated: decrypted with a room key that did not come from the sender's device
	// itself (key backup, import, forward).
	Unauthenticated bool

	Edited   bool // the body is that of the sender's latest edit
	Redacted bool // the message was deleted: no body

	ReplyTo id.EventID // the message this one answers (m.in_reply_to), "" when none
	Media   string     // a file's content (url or encrypted file, name, info) as JSON, "" when none

	NotEncrypted bool // came in plain text in a room that was encrypted then
	// Notice is set on duet's own lines, not messages (NoticeEncryption, NoticeMember,
	// NoticeDevice and what follows the prefix); "" for every message. Only duet's sync code
	// sets it, from state events and key queries: no message content can.
	Notice string

	// Kind is what the event is when it is not an m.room.message ("" for one): "sticker",
	// "poll", "poll_end", "call_invite", ... as matrixsvc names them. Extra is what that kind
	// carries (a poll's question and answers, a location), as JSON, "" when nothing.
	Kind  string
	Extra string
	// Thread is the root of the thread the event is in (m.thread), "" when none. Rel is the
	// event this one is about without being a reply or an edit: the poll a poll end ends.
	Thread id.EventID
	Rel    id.EventID
}

// eventSelect is the columns scanArgs reads, in its order.
const eventSelect = "room_id, event_id, pos, ts, sender, msgtype, body, encrypted, e2e, session_id, decrypt_error, trust, edited, redacted, html, reply_to, media, not_encrypted, notice, unauthenticated, kind, extra, thread, rel"

// eventSelectAs is eventSelect with each column of table t.
func eventSelectAs(t string) string {
	cols := strings.Split(eventSelect, ", ")
	for i, c := range cols {
		cols[i] = t + "." + c
	}
	return strings.Join(cols, ", ")
}

func (e *Event) scanArgs() []any {
	return []any{&e.Room, &e.ID, &e.Pos, &e.TS, &e.Sender, &e.MsgType, &e.Body, &e.Encrypted, &e.E2E, &e.SessionID, &e.DecryptError, &e.Trust, &e.Edited, &e.Redacted, &e.HTML, &e.ReplyTo, &e.Media, &e.NotEncrypted, &e.Notice, &e.Unauthenticated, &e.Kind, &e.Extra, &e.Thread, &e.Rel}
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

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
	for len(evts) > 0 {
		n := min(len(evts), insertBatch)
		var q strings.Builder
		q.WriteString("INSERT OR IGNORE INTO duet_event (" + eventColumns + ") VALUES ")
		args := make([]any, 0, n*eventColumnCount)
		for i := range evts[:n] {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString(eventPlaceholders()[i])
			args = append(args, eventArgs(room, &evts[i])...)
		}
		if _, err := s.db.Exec(ctx, q.String(), args...); err != nil {
			return err
		}
		if err := s.changesOf(ctx, room, evts[:n]); err != nil {
			return err
		}
		evts = evts[n:]
	}
	return nil
}

// changesOf applies the edits and redactions that came before the messages they change.
func (s *Store) changesOf(ctx context.Context, room id.RoomID, evts []Event) error {
	ids := make([]id.EventID, len(evts))
	for i := range evts {
		ids[i] = evts[i].ID
	}
	_, err := s.applyChanges(ctx, room, ids)
	return err
}

const (
	eventColumns     = "room_id, event_id, pos, ts, sender, msgtype, body, encrypted, e2e, session_id, raw, decrypt_error, trust, html, reply_to, media, not_encrypted, notice, unauthenticated, kind, extra, thread, rel"
	eventColumnCount = 23
	insertBatch      = 500
)

// eventPlaceholders()[i] is the "($..)" of the i-th row of a multi-row insert. Built on first
// use: 11,500 numbers are not worth making at every start (1.5 ms before main ran).
var eventPlaceholders = sync.OnceValue(func() []string {
	out := make([]string, insertBatch)
	for i := range out {
		var b strings.Builder
		b.WriteByte('(')
		for c := range eventColumnCount {
			if c > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "$%d", i*eventColumnCount+c+1)
		}
		b.WriteByte(')')
		out[i] = b.String()
	}
	return out
})

func eventArgs(room id.RoomID, e *Event) []any {
	return []any{room, e.ID, e.Pos, e.TS, e.Sender, e.MsgType, e.Body, e.Encrypted, e.E2E, e.SessionID, e.Raw, e.DecryptError, e.Trust, e.HTML, e.ReplyTo, e.Media, e.NotEncrypted, e.Notice, e.Unauthenticated, e.Kind, e.Extra, e.Thread, e.Rel}
}

func (s *Store) insertEvent(ctx context.Context, room id.RoomID, e *Event) error {
	if _, err := s.db.Exec(ctx, "INSERT OR IGNORE INTO duet_event ("+eventColumns+") VALUES "+eventPlaceholders()[0], eventArgs(room, e)...); err != nil {
		return err
	}
	_, err := s.applyChanges(ctx, room, []id.EventID{e.ID})
	return err
}

// CountUndecrypted counts the stored events not decrypted yet.
func (s *Store) CountUndecrypted(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM duet_event WHERE encrypted=1").Scan(&n)
	return n, err
}

// DeleteEvent removes a stored event.
func (s *Store) DeleteEvent(ctx context.Context, room id.RoomID, eventID id.EventID) error {
	_, err := s.db.Exec(ctx, "DELETE FROM duet_event WHERE room_id=$1 AND event_id=$2", room, eventID)
	return err
}

// Undecrypted returns the stored events of a room that wait for the key of a Megolm session.
func (s *Store) Undecrypted(ctx context.Context, room id.RoomID, sessionID string) ([]Event, error) {
	return s.undecrypted(ctx, "room_id=$1 AND session_id=$2", room, sessionID)
}

// AllUndecrypted returns every stored event that could not be decrypted yet (after a key
// backup restore or a key import).
func (s *Store) AllUndecrypted(ctx context.Context) ([]Event, error) {
	return s.undecrypted(ctx, "1=1")
}

func (s *Store) undecrypted(ctx context.Context, where string, args ...any) ([]Event, error) {
	rows, err := s.db.Query(ctx, "SELECT room_id, event_id, pos, ts, sender, session_id, raw, decrypt_error FROM duet_event WHERE encrypted=1 AND "+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		e := Event{Encrypted: true}
		if err := rows.Scan(&e.Room, &e.ID, &e.Pos, &e.TS, &e.Sender, &e.SessionID, &e.Raw, &e.DecryptError); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ReplaceEvent rewrites a stored event in place (same room, ID and position): an event that has
// been decrypted, or whose reason for not being decrypted changed.
func (s *Store) ReplaceEvent(ctx context.Context, e *Event) error {
	_, err := s.db.Exec(ctx, `UPDATE duet_event SET msgtype=$3, body=$4, encrypted=$5, e2e=$6, session_id=$7, raw=$8, decrypt_error=$9, trust=$10, html=$11,
		reply_to=$12, media=$13, unauthenticated=$14, kind=$15, extra=$16, thread=$17, rel=$18
		WHERE room_id=$1 AND event_id=$2 AND redacted=0`, e.Room, e.ID, e.MsgType, e.Body, e.Encrypted, e.E2E, e.SessionID, e.Raw, e.DecryptError, e.Trust, e.HTML, e.ReplyTo, e.Media, e.Unauthenticated,
		e.Kind, e.Extra, e.Thread, e.Rel)
	if err != nil {
		return err
	}
	_, err = s.applyChanges(ctx, e.Room, []id.EventID{e.ID}) // an edit that came before the key
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
	rows, err := s.db.Query(ctx, `SELECT `+eventSelect+` FROM duet_event
		WHERE room_id=$1 AND pos < $2 AND pos >= $3 ORDER BY pos DESC LIMIT $4`, room, below, g.Pos, limit)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var e Event
		if err := rows.Scan(e.scanArgs()...); err != nil {
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

// TopPos is where a room's stored timeline ends (the highest position), -Inf when nothing is stored.
func (s *Store) TopPos(ctx context.Context, room id.RoomID) (float64, error) {
	var top sql.NullFloat64
	if err := s.db.QueryRow(ctx, "SELECT MAX(pos) FROM duet_event WHERE room_id=$1", room).Scan(&top); err != nil {
		return 0, err
	}
	if !top.Valid {
		return math.Inf(-1), nil
	}
	return top.Float64, nil
}

// OwnAfter returns the messages of sender in room stored after position pos with this msgtype
// and body, oldest first.
func (s *Store) OwnAfter(ctx context.Context, room id.RoomID, sender id.UserID, pos float64, msgtype, body string) ([]id.EventID, error) {
	rows, err := s.db.Query(ctx, `SELECT event_id FROM duet_event WHERE room_id=$1 AND sender=$2 AND pos > $3
		AND msgtype=$4 AND body=$5 AND redacted=0 ORDER BY pos`, room, sender, pos, msgtype, body)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []id.EventID
	for rows.Next() {
		var evt id.EventID
		if err := rows.Scan(&evt); err != nil {
			return nil, err
		}
		out = append(out, evt)
	}
	return out, rows.Err()
}
