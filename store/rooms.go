package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// Room is what duet remembers about one room between runs: our membership and the summary the
// contacts list needs, so that it can be shown without asking the server.
type Room struct {
	ID             id.RoomID
	Membership     string // ours: join, invite, leave, ban
	Name           string
	LastTS         int64 // origin_server_ts of the newest event we have seen, ms
	JoinedCount    int
	InvitedCount   int
	Heroes         []id.UserID
	Unread         int
	Highlight      int
	Inviter        id.UserID // for invites: who invited us
	DirectInvite   bool      // for invites: our member event said is_direct (R4)
	ServiceMembers []id.UserID
	Tombstone      id.RoomID // replacement room, when upgraded
	Predecessor    id.RoomID
	Preview        string // body of the newest message
	PreviewSender  id.UserID
	// ReadTS is LastTS when we last marked the room read here: a count the server sends later
	// without any newer event is from before our receipt.
	ReadTS int64
}

const roomColumns = `room_id, membership, name, last_ts, joined_count, invited_count, heroes, unread,
	highlight, inviter, direct_invite, service_members, tombstone, predecessor, preview, preview_sender, read_ts`

func scanRoom(row dbutil.Scannable) (*Room, error) {
	var r Room
	var heroes, service string
	err := row.Scan(&r.ID, &r.Membership, &r.Name, &r.LastTS, &r.JoinedCount, &r.InvitedCount, &heroes,
		&r.Unread, &r.Highlight, &r.Inviter, &r.DirectInvite, &service, &r.Tombstone, &r.Predecessor,
		&r.Preview, &r.PreviewSender, &r.ReadTS)
	if err != nil {
		return nil, err
	}
	_ = json.Unmarshal([]byte(heroes), &r.Heroes)
	_ = json.Unmarshal([]byte(service), &r.ServiceMembers)
	return &r, nil
}

func jsonList(v []id.UserID) string {
	if len(v) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// Room returns one room, or ErrNotFound.
func (s *Store) Room(ctx context.Context, roomID id.RoomID) (*Room, error) {
	r, err := scanRoom(s.db.QueryRow(ctx, "SELECT "+roomColumns+" FROM duet_room WHERE room_id=$1", roomID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return r, err
}

// Rooms returns every room we remember.
func (s *Store) Rooms(ctx context.Context) (map[id.RoomID]*Room, error) {
	return s.roomsWhere(ctx, "")
}

// Upgraded returns the joined rooms that have been replaced (m.room.tombstone) and the rooms
// that replaced them, where known: a few rows at most, read after syncs that may change them.
func (s *Store) Upgraded(ctx context.Context) (map[id.RoomID]*Room, error) {
	return s.roomsWhere(ctx, ` WHERE (tombstone <> '' AND membership = 'join')
		OR room_id IN (SELECT tombstone FROM duet_room WHERE tombstone <> '' AND membership = 'join')`)
}

func (s *Store) roomsWhere(ctx context.Context, where string) (map[id.RoomID]*Room, error) {
	rows, err := s.db.Query(ctx, "SELECT "+roomColumns+" FROM duet_room"+where)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[id.RoomID]*Room)
	for rows.Next() {
		r, err := scanRoom(rows)
		if err != nil {
			return nil, err
		}
		out[r.ID] = r
	}
	return out, rows.Err()
}

// PutRoom inserts or replaces a room.
func (s *Store) PutRoom(ctx context.Context, r *Room) error {
	return s.insertRoom(ctx, "INSERT OR REPLACE", r)
}

func (s *Store) insertRoom(ctx context.Context, verb string, r *Room) error {
	_, err := s.db.Exec(ctx, verb+` INTO duet_room (`+roomColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		r.ID, r.Membership, r.Name, r.LastTS, r.JoinedCount, r.InvitedCount, jsonList(r.Heroes), r.Unread,
		r.Highlight, r.Inviter, r.DirectInvite, jsonList(r.ServiceMembers), r.Tombstone, r.Predecessor,
		r.Preview, r.PreviewSender, r.ReadTS)
	return err
}

// DeleteRoom forgets a room entirely (after we left and forgot it), its stored timeline too.
func (s *Store) DeleteRoom(ctx context.Context, roomID id.RoomID) error {
	return s.Txn(ctx, func(ctx context.Context) error {
		for _, table := range []string{"duet_room", "duet_event", "duet_gap", "duet_change", "duet_receipt", "duet_reaction"} {
			if _, err := s.db.Exec(ctx, "DELETE FROM "+table+" WHERE room_id=$1", roomID); err != nil {
				return err
			}
		}
		return nil
	})
}

// AccountData returns the stored content of a global account data event (nil when absent).
func (s *Store) AccountData(ctx context.Context, evtType string) ([]byte, error) {
	var content []byte
	err := s.db.QueryRow(ctx, "SELECT content FROM duet_account_data WHERE type=$1", evtType).Scan(&content)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return content, err
}

// SetAccountData stores the content of a global account data event.
func (s *Store) SetAccountData(ctx context.Context, evtType string, content []byte) error {
	_, err := s.db.Exec(ctx, "INSERT OR REPLACE INTO duet_account_data (type, content) VALUES ($1, $2)", evtType, content)
	return err
}

// Get returns a value from the key-value table ("" when absent).
func (s *Store) Get(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.QueryRow(ctx, "SELECT value FROM duet_kv WHERE key=$1", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// Set stores a value in the key-value table.
func (s *Store) Set(ctx context.Context, key, value string) error {
	_, err := s.db.Exec(ctx, "INSERT OR REPLACE INTO duet_kv (key, value) VALUES ($1, $2)", key, value)
	return err
}

// Txn runs fn in one transaction; the Store methods called with the ctx it passes take part in it.
func (s *Store) Txn(ctx context.Context, fn func(ctx context.Context) error) error {
	return s.db.DoTxn(ctx, nil, fn)
}

// SetMembership records our membership of a room without touching what sync recorded about it
// (a whole-record write from a stale copy would undo a sync that ran in between). Joining
// clears the invite fields.
func (s *Store) SetMembership(ctx context.Context, roomID id.RoomID, membership string) error {
	_, err := s.db.Exec(ctx, `INSERT INTO duet_room (room_id, membership) VALUES ($1, $2)
		ON CONFLICT (room_id) DO UPDATE SET membership=excluded.membership,
			inviter=CASE WHEN excluded.membership='invite' THEN inviter ELSE '' END,
			direct_invite=CASE WHEN excluded.membership='invite' THEN direct_invite ELSE 0 END`,
		roomID, membership)
	return err
}

// AddRoom inserts a room unless one is already recorded (sync may have brought it first).
func (s *Store) AddRoom(ctx context.Context, r *Room) error {
	return s.insertRoom(ctx, "INSERT OR IGNORE", r)
}

// ClearUnread sets a room's unread counts to zero (after we read it); the next sync brings the
// server's own counts.
func (s *Store) ClearUnread(ctx context.Context, roomID id.RoomID) error {
	_, err := s.db.Exec(ctx, "UPDATE duet_room SET unread=0, highlight=0, read_ts=last_ts WHERE room_id=$1", roomID)
	return err
}
