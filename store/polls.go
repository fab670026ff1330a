package store

import (
	"context"
	"encoding/json"
	"time"

	"maunium.net/go/mautrix/id"
)

// Polls, threads and the events that are not m.room.message.
//
// Such an event is a row of duet_event like a message, with its kind and what that kind carries
// (extra, JSON). A thread reply names its root in thread. A poll's votes (m.poll.response) are
// kept in duet_vote whether or not the poll is stored, like reactions; a poll end is a row of
// its own (kind "poll_end") naming its poll in rel. Who counts and which vote counts is
// matrixsvc's to decide: the store keeps them all.
const kindsSchema = `
ALTER TABLE duet_event ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE duet_event ADD COLUMN extra TEXT NOT NULL DEFAULT '';
ALTER TABLE duet_event ADD COLUMN thread TEXT NOT NULL DEFAULT '';
ALTER TABLE duet_event ADD COLUMN rel TEXT NOT NULL DEFAULT '';
CREATE INDEX duet_event_thread_idx ON duet_event (room_id, thread) WHERE thread != '';
CREATE INDEX duet_event_rel_idx ON duet_event (room_id, rel) WHERE rel != '';
CREATE TABLE duet_vote (
	room_id       TEXT NOT NULL,
	event_id      TEXT NOT NULL,
	poll          TEXT NOT NULL,
	sender        TEXT NOT NULL,
	ts            INTEGER NOT NULL,
	answers       TEXT NOT NULL,
	e2e           INTEGER NOT NULL DEFAULT 0,
	not_encrypted INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (room_id, event_id)
);
CREATE INDEX duet_vote_poll_idx ON duet_vote (room_id, poll);
ALTER TABLE duet_outbox ADD COLUMN thread TEXT NOT NULL DEFAULT '';
ALTER TABLE duet_outbox ADD COLUMN extra TEXT NOT NULL DEFAULT '';
`

// Vote is one poll response (m.poll.response): the answers someone picked, as they sent them.
type Vote struct {
	EventID id.EventID
	Sender  id.UserID
	TS      int64
	Answers []string
	E2E     bool // came end-to-end encrypted

	NotEncrypted bool // came in plain text in a room that was encrypted then
}

// maxVoteAnswers bounds what is kept of one response: a poll has at most 20 answers (Element's
// limit), and a response listing more is not one anyone made by hand.
const maxVoteAnswers = 20

func (s *Store) addVote(ctx context.Context, room id.RoomID, c Change) error {
	answers := c.Answers
	if len(answers) > maxVoteAnswers {
		answers = answers[:maxVoteAnswers]
	}
	raw, err := json.Marshal(answers)
	if err != nil {
		return err
	}
	_, err = s.db.Exec(ctx, `INSERT OR IGNORE INTO duet_vote (room_id, event_id, poll, sender, ts, answers, e2e, not_encrypted)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, room, c.ID, c.Target, c.Sender, c.TS, string(raw), c.E2E, c.NotEncrypted)
	return err
}

// Votes returns the responses to each of polls, oldest first, deleted ones left out.
func (s *Store) Votes(ctx context.Context, room id.RoomID, polls []id.EventID) (map[id.EventID][]Vote, error) {
	out := map[id.EventID][]Vote{}
	for len(polls) > 0 {
		n := min(len(polls), insertBatch)
		list, args := inList(room, polls[:n])
		rows, err := s.db.Query(ctx, `SELECT v.poll, v.event_id, v.sender, v.ts, v.answers, v.e2e, v.not_encrypted FROM duet_vote v
			WHERE v.room_id=$1 AND v.poll IN (`+list+`)
			AND NOT EXISTS (SELECT 1 FROM duet_change c WHERE c.room_id=v.room_id AND c.target=v.event_id AND c.redact=1)
			ORDER BY v.ts, v.event_id`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var poll id.EventID
			var v Vote
			var answers string
			if err := rows.Scan(&poll, &v.EventID, &v.Sender, &v.TS, &answers, &v.E2E, &v.NotEncrypted); err != nil {
				rows.Close()
				return nil, err
			}
			_ = json.Unmarshal([]byte(answers), &v.Answers) // written by addVote: a list of strings
			out[poll] = append(out[poll], v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		polls = polls[n:]
	}
	return out, nil
}

// voteTarget is the poll a vote evt answers, "" when evt is no vote we know.
func (s *Store) voteTarget(ctx context.Context, room id.RoomID, evt id.EventID) (id.EventID, error) {
	var poll id.EventID
	err := s.db.QueryRow(ctx, "SELECT poll FROM duet_vote WHERE room_id=$1 AND event_id=$2", room, evt).Scan(&poll)
	if isNoRows(err) {
		return "", nil
	}
	return poll, err
}

// Related returns the stored events that name one of ids in rel (the ends of polls), oldest
// first.
func (s *Store) Related(ctx context.Context, room id.RoomID, ids []id.EventID) ([]Event, error) {
	return s.eventsWhere(ctx, room, "rel", ids)
}

// ThreadCounts returns how many stored events are in the thread of each of roots (deleted ones
// count: they were said), for those that have any.
func (s *Store) ThreadCounts(ctx context.Context, room id.RoomID, roots []id.EventID) (map[id.EventID]int, error) {
	out := map[id.EventID]int{}
	for len(roots) > 0 {
		n := min(len(roots), insertBatch)
		list, args := inList(room, roots[:n])
		rows, err := s.db.Query(ctx, `SELECT thread, COUNT(*) FROM duet_event WHERE room_id=$1 AND thread IN (`+list+`) GROUP BY thread`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var root id.EventID
			var count int
			if err := rows.Scan(&root, &count); err != nil {
				rows.Close()
				return nil, err
			}
			out[root] = count
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		roots = roots[n:]
	}
	return out, nil
}

// Thread returns the stored events of the thread on root (root itself first when it is
// stored), oldest first, at most limit of the newest replies.
func (s *Store) Thread(ctx context.Context, room id.RoomID, root id.EventID, limit int) ([]Event, error) {
	rows, err := s.db.Query(ctx, `SELECT `+eventSelect+` FROM (
			SELECT * FROM duet_event WHERE room_id=$1 AND thread=$2 ORDER BY pos DESC LIMIT $3)
		UNION ALL SELECT `+eventSelect+` FROM duet_event WHERE room_id=$1 AND event_id=$2
		ORDER BY pos`, room, root, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		if err := rows.Scan(e.scanArgs()...); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// eventsWhere returns the stored events of room whose column col is one of ids, oldest first.
func (s *Store) eventsWhere(ctx context.Context, room id.RoomID, col string, ids []id.EventID) ([]Event, error) {
	var out []Event
	for len(ids) > 0 {
		n := min(len(ids), insertBatch)
		list, args := inList(room, ids[:n])
		rows, err := s.db.Query(ctx, `SELECT `+eventSelect+` FROM duet_event WHERE room_id=$1 AND `+col+` IN (`+list+`) ORDER BY pos`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var e Event
			if err := rows.Scan(e.scanArgs()...); err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		ids = ids[n:]
	}
	return out, nil
}

// relTarget is the event a stored event evt is about (rel), "" when none.
func (s *Store) relTarget(ctx context.Context, room id.RoomID, evt id.EventID) (id.EventID, error) {
	var rel id.EventID
	err := s.db.QueryRow(ctx, "SELECT rel FROM duet_event WHERE room_id=$1 AND event_id=$2", room, evt).Scan(&rel)
	if isNoRows(err) {
		return "", nil
	}
	return rel, err
}

// moveLocation sets the latest point of the live location c.Target to c.Location when c is
// newer than the point it has and comes from its sender; moved reports that it did.
func (s *Store) moveLocation(ctx context.Context, room id.RoomID, c Change) (moved bool, err error) {
	res, err := s.db.Exec(ctx, `UPDATE duet_event SET extra=json_set(extra, '$.location.uri', $4, '$.location.updated', $5)
		WHERE room_id=$1 AND event_id=$2 AND sender=$3 AND kind='live_location' AND redacted=0 AND json_valid(extra)
		AND IFNULL(json_extract(extra, '$.location.updated'), '') < $5`,
		room, c.Target, c.Sender, c.Location, time.UnixMilli(c.TS).UTC().Format("2006-01-02T15:04:05.000Z07:00")) // fixed width: compared as text
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}
