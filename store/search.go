package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/mattn/go-sqlite3"
	"maunium.net/go/mautrix/id"
)

// Edits, redactions and the search index.
//
// An edit or a redaction is kept in duet_change, whatever arrives first: the change or the
// message it changes (backfill brings newer events first). A stored message shows its latest
// edit by its own sender, or nothing once redacted.
//
// duet_search is an FTS4 index over the stored text of every message (decrypted ones too).
// Its content is duet_event's body, kept in step by triggers: an edit or a decryption rewrites
// the body and so the indexed words, a redaction empties it, a deleted room takes its rows
// along. FTS4 is built into the SQLite of go-sqlite3 as it is; its unicode61 tokenizer folds
// case and accents. The index refers to duet_event's rowid, which only VACUUM could renumber:
// duet never runs it, and INSERT INTO duet_search (duet_search) VALUES ('rebuild') makes the
// index again from the events.
const searchSchema = `
ALTER TABLE duet_event ADD COLUMN edited INTEGER NOT NULL DEFAULT 0;
ALTER TABLE duet_event ADD COLUMN redacted INTEGER NOT NULL DEFAULT 0;
CREATE TABLE duet_change (
	room_id  TEXT NOT NULL,
	event_id TEXT NOT NULL,
	target   TEXT NOT NULL,
	sender   TEXT NOT NULL,
	ts       INTEGER NOT NULL,
	redact   INTEGER NOT NULL DEFAULT 0,
	msgtype  TEXT NOT NULL DEFAULT '',
	body     TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (room_id, event_id)
);
CREATE INDEX duet_change_target_idx ON duet_change (room_id, target);
CREATE VIRTUAL TABLE duet_search USING fts4(content="duet_event", body, tokenize=unicode61 "remove_diacritics=2");
CREATE TRIGGER duet_search_bu BEFORE UPDATE OF body ON duet_event BEGIN
	DELETE FROM duet_search WHERE docid=old.rowid;
END;
CREATE TRIGGER duet_search_bd BEFORE DELETE ON duet_event BEGIN
	DELETE FROM duet_search WHERE docid=old.rowid;
END;
CREATE TRIGGER duet_search_au AFTER UPDATE OF body ON duet_event BEGIN
	INSERT INTO duet_search (docid, body) VALUES (new.rowid, new.body);
END;
CREATE TRIGGER duet_search_ai AFTER INSERT ON duet_event BEGIN
	INSERT INTO duet_search (docid, body) VALUES (new.rowid, new.body);
END;
INSERT INTO duet_search (duet_search) VALUES ('rebuild');
`

// Change is an edit (m.replace) or a redaction of the message Target.
type Change struct {
	ID      id.EventID // the edit or redaction event
	Target  id.EventID
	Sender  id.UserID
	TS      int64
	Redact  bool
	MsgType string // the edit's m.new_content
	Body    string
	HTML    string // its formatted_body, "" when it is not formatted
	E2E     bool   // the edit came encrypted; a plain one never applies to an encrypted message
	// Unauthenticated: the edit was decrypted with a key of unproven authenticity; the message
	// it changes is marked so too.
	Unauthenticated bool

	Reaction string // not a change but a reaction (m.annotation) with this key to Target
	// NotEncrypted: a reaction or a vote that came in plain text in a room that was encrypted then.
	NotEncrypted bool

	// Vote: not a change but a poll response to the poll Target, picking Answers (none: a
	// spoiled vote, which still replaces the sender's earlier one).
	Vote    bool
	Answers []string
	// Related: not a change but an event that is about Target (a poll end): Target is
	// reported changed when it is stored.
	Related bool
	// Location: not a change but a new point (a geo: URI, at TS) of the live location Target,
	// which only its own sender can move, and a point that came in plain text in an encrypted room
	// (NotEncrypted) cannot.
	Location string
}

// RecordChanges keeps edits and redactions of a room and applies them to the messages they
// change that are stored. It reports the stored messages that changed.
func (s *Store) RecordChanges(ctx context.Context, room id.RoomID, changes []Change) (changed []id.EventID, err error) {
	if len(changes) == 0 {
		return nil, nil
	}
	targets := make([]id.EventID, 0, len(changes))
	var reacted []id.EventID // messages whose reactions changed
	for _, c := range changes {
		if c.Target == "" || c.ID == "" {
			continue
		}
		switch {
		case c.Reaction != "":
			if err := s.addReaction(ctx, room, c); err != nil {
				return nil, err
			}
			reacted = append(reacted, c.Target)
			continue
		case c.Vote:
			if err := s.addVote(ctx, room, c); err != nil {
				return nil, err
			}
			reacted = append(reacted, c.Target)
			continue
		case c.Related:
			reacted = append(reacted, c.Target)
			continue
		case c.Location != "" && c.NotEncrypted:
			continue // a point in plain text in an encrypted room: anyone's, the server's too
		case c.Location != "":
			moved, err := s.moveLocation(ctx, room, c)
			if err != nil {
				return nil, err
			}
			if moved {
				reacted = append(reacted, c.Target)
			}
			continue
		}
		if c.Redact {
			of, err := s.reactionTarget(ctx, room, c.Target)
			if err != nil {
				return nil, err
			}
			if of == "" {
				if of, err = s.voteTarget(ctx, room, c.Target); err != nil {
					return nil, err
				}
			}
			if of == "" {
				if of, err = s.relTarget(ctx, room, c.Target); err != nil {
					return nil, err
				}
			}
			if of != "" {
				reacted = append(reacted, of)
			}
		}
		if _, err := s.db.Exec(ctx, `INSERT OR IGNORE INTO duet_change (room_id, event_id, target, sender, ts, redact, msgtype, body, html, e2e, unauthenticated)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, room, c.ID, c.Target, c.Sender, c.TS, c.Redact, c.MsgType, c.Body, c.HTML, c.E2E, c.Unauthenticated); err != nil {
			return nil, err
		}
		targets = append(targets, c.Target)
	}
	changed, err = s.applyChanges(ctx, room, targets)
	if err != nil || len(reacted) == 0 {
		return changed, err
	}
	return s.withStored(ctx, room, changed, reacted)
}

// applyChanges brings the stored messages among ids up to date with their recorded changes,
// and reports those that changed.
func (s *Store) applyChanges(ctx context.Context, room id.RoomID, ids []id.EventID) ([]id.EventID, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	// Most rooms have no edits or redactions at all: one cheap look says so. In a room that
	// has, only the messages they target are updated, found with one query for the batch, so
	// that edits in a room's past do not cost two updates per new message on the sync path.
	var any bool
	if err := s.db.QueryRow(ctx, "SELECT EXISTS(SELECT 1 FROM duet_change WHERE room_id=$1)", room).Scan(&any); err != nil || !any {
		return nil, err
	}
	changed, err := s.changedAmong(ctx, room, ids)
	if err != nil || len(changed) == 0 {
		return nil, err
	}
	var out []id.EventID
	for _, evt := range changed {
		res, err := s.db.Exec(ctx, `UPDATE duet_event SET body='', html='', msgtype='', media='', extra='', redacted=1, edited=0,
				encrypted=0, raw='', session_id='', decrypt_error=''
			WHERE room_id=$1 AND event_id=$2 AND redacted=0
			AND EXISTS (SELECT 1 FROM duet_change WHERE room_id=$1 AND target=$2 AND redact=1)`, room, evt)
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			out = append(out, evt)
			continue
		}
		// The latest edit by the message's own sender that is not less protected than the
		// message: encrypted for an encrypted message, so that a plain-text edit (a hostile
		// server can make one up) never replaces what was said encrypted. An undecrypted
		// message waits for its decryption (ReplaceEvent applies it then).
		res, err = s.db.Exec(ctx, `UPDATE duet_event SET (body, msgtype, html, edited, unauthenticated) = (
				SELECT c.body, c.msgtype, c.html, 1, MAX(duet_event.unauthenticated, c.unauthenticated) FROM duet_change c
				WHERE c.room_id=$1 AND c.target=$2 AND c.redact=0 AND c.sender=duet_event.sender
				AND (c.e2e IS NOT 0 OR duet_event.e2e=0)
				ORDER BY c.ts DESC, c.event_id DESC LIMIT 1)
			WHERE room_id=$1 AND event_id=$2 AND redacted=0 AND encrypted=0
			AND EXISTS (SELECT 1 FROM duet_change c WHERE c.room_id=$1 AND c.target=$2 AND c.redact=0 AND c.sender=duet_event.sender
				AND (c.e2e IS NOT 0 OR duet_event.e2e=0))
			AND (edited=0 OR body IS NOT (
				SELECT c.body FROM duet_change c
				WHERE c.room_id=$1 AND c.target=$2 AND c.redact=0 AND c.sender=duet_event.sender
				AND (c.e2e IS NOT 0 OR duet_event.e2e=0)
				ORDER BY c.ts DESC, c.event_id DESC LIMIT 1))`, room, evt)
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			out = append(out, evt)
		}
	}
	return out, nil
}

// inList is the placeholders of ids for "IN (...)" after the room's $1, and the arguments
// for both.
func inList(room id.RoomID, ids []id.EventID) (string, []any) {
	args := make([]any, 0, len(ids)+1)
	args = append(args, room)
	ph := make([]string, len(ids))
	for i, evt := range ids {
		args = append(args, evt)
		ph[i] = fmt.Sprintf("$%d", i+2)
	}
	return strings.Join(ph, ","), args
}

// changedAmong returns those of ids (at most insertBatch) that edits or redactions target.
func (s *Store) changedAmong(ctx context.Context, room id.RoomID, ids []id.EventID) ([]id.EventID, error) {
	var out []id.EventID
	for len(ids) > 0 {
		n := min(len(ids), insertBatch)
		list, args := inList(room, ids[:n])
		rows, err := s.db.Query(ctx, "SELECT DISTINCT target FROM duet_change WHERE room_id=$1 AND target IN ("+list+")", args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var evt id.EventID
			if err := rows.Scan(&evt); err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, evt)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		ids = ids[n:]
	}
	return out, nil
}

// EventsByID returns the stored messages with these IDs as they are now (edited, redacted),
// oldest first.
func (s *Store) EventsByID(ctx context.Context, room id.RoomID, ids []id.EventID) ([]Event, error) {
	var out []Event
	for _, evt := range ids {
		e := Event{Room: room}
		err := s.db.QueryRow(ctx, "SELECT "+eventSelect+" FROM duet_event WHERE room_id=$1 AND event_id=$2", room, evt).Scan(e.scanArgs()...)
		if err != nil {
			if isNoRows(err) {
				continue
			}
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// ErrBadQuery is a search the index cannot run; the message says what to change.
var ErrBadQuery = errors.New("bad search")

// maxQuery bounds what is searched for: longer is surely a paste by mistake.
const (
	maxQuery = 500
	maxTerms = 16
)

// ParseQuery turns what a person typed into an FTS4 MATCH expression. Every word must occur in
// the message, as a word or the start of one ("pic" finds "picnic"); "words in quotes" must
// occur together. Case and accents do not matter (the tokenizer folds them). Punctuation
// separates words, as the tokenizer does; nothing typed can reach the MATCH syntax.
func ParseQuery(q string) (string, error) {
	q = strings.TrimSpace(q)
	if n := len([]rune(q)); n > maxQuery {
		return "", fmt.Errorf("%w: the search is %d characters long; search for at most %d", ErrBadQuery, n, maxQuery)
	}
	var terms []string
	words := func(s string) []string {
		return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r) })
	}
	rest := q
	for rest != "" {
		before, after, quoted := strings.Cut(rest, `"`)
		for _, w := range words(before) {
			terms = append(terms, w+"*")
		}
		if !quoted {
			break
		}
		phrase, tail, closed := strings.Cut(after, `"`)
		if !closed {
			return "", fmt.Errorf(`%w: a quote is not closed; put a " after the words to find together, or remove it`, ErrBadQuery)
		}
		if ws := words(phrase); len(ws) > 0 {
			terms = append(terms, `"`+strings.Join(ws, " ")+`*"`)
		}
		rest = tail
	}
	if len(terms) == 0 {
		return "", fmt.Errorf("%w: nothing to search for; type a word", ErrBadQuery)
	}
	if len(terms) > maxTerms {
		return "", fmt.Errorf("%w: %d words; search for at most %d", ErrBadQuery, len(terms), maxTerms)
	}
	return strings.Join(terms, " "), nil
}

// Hit is a message found by Search, with a snippet of its text around the match: matched words
// are between \x01 and \x02, and … marks where text was cut.
type Hit struct {
	Event
	Snippet string
}

// Search finds up to limit messages whose text matches query (see ParseQuery), newest first,
// in rooms (every room when empty).
func (s *Store) Search(ctx context.Context, query string, rooms []id.RoomID, limit int) ([]Hit, error) {
	match, err := ParseQuery(query)
	if err != nil {
		return nil, err
	}
	args := []any{match, limit}
	inRooms := ""
	if len(rooms) > 0 {
		ph := make([]string, len(rooms))
		for i, r := range rooms {
			args = append(args, r)
			ph[i] = fmt.Sprintf("$%d", i+3)
		}
		inRooms = " AND e.room_id IN (" + strings.Join(ph, ",") + ")"
	}
	// The newest matches first, then the snippets of those only: snippet() costs, and a
	// common word matches thousands. CROSS JOIN keeps the index the outer loop: the planner
	// would otherwise walk a conversation's messages and run the full-text query for each.
	rows, err := s.db.Query(ctx, `WITH hits AS (
			SELECT e.rowid AS rid FROM duet_search CROSS JOIN duet_event e ON e.rowid=duet_search.docid
			WHERE duet_search MATCH $1 AND e.redacted=0 AND e.encrypted=0`+inRooms+`
			ORDER BY e.ts DESC, e.rowid DESC LIMIT $2)
		SELECT `+eventSelectAs("e")+`, snippet(duet_search, char(1), char(2), '…', -1, 12)
		FROM duet_search CROSS JOIN duet_event e ON e.rowid=duet_search.docid
		WHERE duet_search MATCH $1 AND duet_search.docid IN (SELECT rid FROM hits)
		ORDER BY e.ts DESC, e.rowid DESC`, args...)
	if err != nil {
		var serr sqlite3.Error
		if errors.As(err, &serr) && serr.Code == sqlite3.ErrError {
			return nil, fmt.Errorf("%w: %w", ErrBadQuery, err)
		}
		return nil, err
	}
	defer rows.Close()
	var out []Hit
	for rows.Next() {
		var h Hit
		if err := rows.Scan(append(h.scanArgs(), &h.Snippet)...); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}
