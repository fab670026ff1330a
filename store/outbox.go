package store

import (
	"context"

	"maunium.net/go/mautrix/id"
)

// Outgoing is a message written down before it is sent: it survives a crash and a restart,
// and its transaction ID makes every retry idempotent.
type Outgoing struct {
	TxnID   string
	Kind    string     // what it is, by the name matrixsvc.Kind gives it: "text", "emote", "edit", "reply", "reaction", "redaction" or "file"
	Room    id.RoomID  // "" until the DM room for Target is known
	Target  id.UserID  // the contact, when the room was not known yet
	Body    string     // the text; a file's name
	Emote   bool       // said as an action: an emote, or an edit or a reply of one
	Created int64      // ms
	Failed  string     // why it was given up on; "" while it is still to be sent
	Of      id.EventID // an edit, a reaction or a deletion: the message it is about (the column edit_of)
	ReplyTo id.EventID // a reply: the message it answers
	Key     string     // a reaction's key (the column react)
	File    string     // a file to upload and send (Body is its name)
	Media   string     // the file's message content once uploaded (JSON), so a retry does not upload again
	Thread  id.EventID // the root of the thread it goes into, "" for the main timeline
	Extra   string     // what a kind carries besides (a vote's answers, a poll), as JSON

	SentAs id.EventID // not stored: the event it became, once sent
}

// The kind column came with version 13. Before it, an entry's kind was told by the columns it
// set, in this order (the order the sender looked at them in); kindFromFlags says it in SQL, for
// the upgrade, and for a row an older duet writes into a newer database (it leaves kind empty).
const (
	kindFromFlags = `CASE WHEN redact THEN 'redaction' WHEN file != '' THEN 'file' WHEN react != '' THEN 'reaction'
		WHEN edit_of != '' THEN 'edit' WHEN reply_to != '' THEN 'reply' WHEN emote THEN 'emote' ELSE 'text' END`
	// Version 9 and 10: edits and deletions, nothing of version 11 yet.
	kindFromFlags9 = `CASE WHEN redact THEN 'redaction' WHEN edit_of != '' THEN 'edit' WHEN emote THEN 'emote' ELSE 'text' END`
	// Before version 9: messages alone.
	kindFromFlags2 = `CASE WHEN emote THEN 'emote' ELSE 'text' END`
)

// outboxColumns is what AddOutgoing writes. redact is kept up to date with kind for an older
// duet that opens this database: it still tells a deletion by it.
const outboxColumns = "txn_id, kind, room_id, target, body, emote, created, failed, edit_of, redact, reply_to, react, file, media, thread, extra"

// outboxSelect is what scanArgs reads, in its order.
const outboxSelect = "txn_id, CASE WHEN kind != '' THEN kind ELSE " + kindFromFlags + " END, room_id, target, body, emote, created, failed, edit_of, reply_to, react, file, media, thread, extra"

func (o *Outgoing) scanArgs() []any {
	return []any{&o.TxnID, &o.Kind, &o.Room, &o.Target, &o.Body, &o.Emote, &o.Created, &o.Failed, &o.Of, &o.ReplyTo, &o.Key, &o.File, &o.Media, &o.Thread, &o.Extra}
}

// AddOutgoing appends a message to the outbox.
func (s *Store) AddOutgoing(ctx context.Context, o *Outgoing) error {
	_, err := s.db.Exec(ctx, `INSERT INTO duet_outbox (`+outboxColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		o.TxnID, o.Kind, o.Room, o.Target, o.Body, o.Emote, o.Created, o.Failed, o.Of, o.Kind == "redaction", o.ReplyTo, o.Key, o.File, o.Media, o.Thread, o.Extra)
	return err
}

// Outbox lists the outbox in the order the messages were written.
func (s *Store) Outbox(ctx context.Context) ([]*Outgoing, error) {
	rows, err := s.db.Query(ctx, `SELECT `+outboxSelect+` FROM duet_outbox ORDER BY seq`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Outgoing
	for rows.Next() {
		var o Outgoing
		if err := rows.Scan(o.scanArgs()...); err != nil {
			return nil, err
		}
		out = append(out, &o)
	}
	return out, rows.Err()
}

// SetOutgoingRoom records the room a message to a contact goes to.
func (s *Store) SetOutgoingRoom(ctx context.Context, txnID string, room id.RoomID) error {
	_, err := s.db.Exec(ctx, "UPDATE duet_outbox SET room_id=$2 WHERE txn_id=$1", txnID, room)
	return err
}

// SetOutgoingFailed marks a message as given up on (why != "") or to be sent again (why == "").
func (s *Store) SetOutgoingFailed(ctx context.Context, txnID, why string) error {
	_, err := s.db.Exec(ctx, "UPDATE duet_outbox SET failed=$2 WHERE txn_id=$1", txnID, why)
	return err
}

// RemoveOutgoing deletes a message from the outbox once the server has it.
func (s *Store) RemoveOutgoing(ctx context.Context, txnID string) error {
	_, err := s.db.Exec(ctx, "DELETE FROM duet_outbox WHERE txn_id=$1", txnID)
	return err
}

// SetOutgoingMedia records the message content of an uploaded file, so that a retry sends it
// without uploading it again.
func (s *Store) SetOutgoingMedia(ctx context.Context, txnID, media string) error {
	_, err := s.db.Exec(ctx, "UPDATE duet_outbox SET media=$2 WHERE txn_id=$1", txnID, media)
	return err
}
