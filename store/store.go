// Package store is duet's local persistence: the saved session (a JSON file only the user can
// read) and one SQLite database per profile holding the sync position, account data, a summary of
// every room we have seen, the timeline (messages with their edits, reactions and the search
// index), read receipts, the outbox, and mautrix's own state store (members, encryption, create
// events).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mattn/go-sqlite3" // the "sqlite3" driver, as mautrix's stores use it
	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/sqlstatestore"
)

// Store is one profile's database.
type Store struct {
	db    *dbutil.Database
	State *StateStore
}

// Open opens (creating if needed) the database at path and brings its schema up to date.
func Open(ctx context.Context, path string, log zerolog.Logger) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	uri := "file:" + path + "?_journal_mode=WAL&_busy_timeout=10000&_foreign_keys=on&_synchronous=NORMAL&_txlock=immediate&_stmt_cache_size=64"
	raw, err := sql.Open("sqlite3", uri)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	// Every later file created in the data dir is private, the database included.
	if err := raw.PingContext(ctx); err != nil {
		raw.Close()
		return nil, unusable(path, err)
	}
	_ = os.Chmod(path, 0o600)
	db, err := dbutil.NewWithDB(raw, "sqlite3")
	if err != nil {
		raw.Close()
		return nil, err
	}
	dblog := dbutil.ZeroLogger(log.With().Str("component", "db").Logger())
	db.Log = dblog
	// mautrix's tables first: duet's own migrations index one of them.
	state := sqlstatestore.NewSQLStateStore(db, dblog, false)
	if err := state.Upgrade(ctx); err != nil {
		raw.Close()
		return nil, unusable(path, err)
	}
	own := db.Child("duet_version", upgrades, dblog)
	if err := own.Upgrade(ctx); err != nil {
		raw.Close()
		return nil, unusable(path, err)
	}
	return &Store{db: db, State: &StateStore{SQLStateStore: state, log: log}}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.RawDB.Close() }

// DB exposes the database for stores that keep their own tables in it (mautrix's crypto store).
func (s *Store) DB() *dbutil.Database { return s.db }

var upgrades = dbutil.BuildUpgradeTable().WithRaw(0, 1, 1, "duet tables", dbutil.TxnModeOn,
	func(ctx context.Context, db *dbutil.Database) error {
		_, err := db.Exec(ctx, `
CREATE TABLE duet_kv (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
CREATE TABLE duet_account_data (
	type    TEXT PRIMARY KEY,
	content BLOB NOT NULL
);
CREATE TABLE duet_room (
	room_id         TEXT PRIMARY KEY,
	membership      TEXT NOT NULL DEFAULT '',
	name            TEXT NOT NULL DEFAULT '',
	last_ts         INTEGER NOT NULL DEFAULT 0,
	joined_count    INTEGER NOT NULL DEFAULT 0,
	invited_count   INTEGER NOT NULL DEFAULT 0,
	heroes          TEXT NOT NULL DEFAULT '[]',
	unread          INTEGER NOT NULL DEFAULT 0,
	highlight       INTEGER NOT NULL DEFAULT 0,
	inviter         TEXT NOT NULL DEFAULT '',
	direct_invite   INTEGER NOT NULL DEFAULT 0,
	service_members TEXT NOT NULL DEFAULT '[]',
	tombstone       TEXT NOT NULL DEFAULT '',
	predecessor     TEXT NOT NULL DEFAULT '',
	preview         TEXT NOT NULL DEFAULT '',
	preview_sender  TEXT NOT NULL DEFAULT ''
);
`)
		return err
	}).WithRaw(1, 2, 1, "outbox", dbutil.TxnModeOn,
	func(ctx context.Context, db *dbutil.Database) error {
		_, err := db.Exec(ctx, `
CREATE TABLE duet_outbox (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	txn_id     TEXT NOT NULL UNIQUE,
	room_id    TEXT NOT NULL DEFAULT '',
	target     TEXT NOT NULL DEFAULT '',
	body       TEXT NOT NULL,
	emote      INTEGER NOT NULL DEFAULT 0,
	created    INTEGER NOT NULL,
	failed     TEXT NOT NULL DEFAULT ''
);
`)
		return err
	}).WithRaw(2, 3, 1, "names by user", dbutil.TxnModeOn,
	func(ctx context.Context, db *dbutil.Database) error {
		// Display names are looked up by user across rooms (the contacts list).
		_, err := db.Exec(ctx, `CREATE INDEX IF NOT EXISTS duet_profile_user_idx ON mx_user_profile (user_id)`)
		return err
	}).WithRaw(3, 4, 1, "timeline", dbutil.TxnModeOn,
	func(ctx context.Context, db *dbutil.Database) error {
		// Messages in each room ordered by pos (newer is higher). A gap at pos P says that
		// events older than the one at P may be missing; token pages backwards from there
		// ("" = from the newest event).
		_, err := db.Exec(ctx, `
CREATE TABLE duet_event (
	room_id   TEXT NOT NULL,
	event_id  TEXT NOT NULL,
	pos       REAL NOT NULL,
	ts        INTEGER NOT NULL,
	sender    TEXT NOT NULL,
	msgtype   TEXT NOT NULL DEFAULT '',
	body      TEXT NOT NULL DEFAULT '',
	encrypted INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (room_id, event_id)
);
CREATE INDEX duet_event_pos_idx ON duet_event (room_id, pos);
CREATE TABLE duet_gap (
	room_id TEXT NOT NULL,
	pos     REAL NOT NULL,
	token   TEXT NOT NULL,
	PRIMARY KEY (room_id, pos)
);
-- Rooms known from before: their history is not stored, so all of it is one gap.
INSERT INTO duet_gap (room_id, pos, token) SELECT room_id, 0, '' FROM duet_room;
`)
		return err
	}).WithRaw(4, 5, 1, "end-to-end encryption", dbutil.TxnModeOn,
	func(ctx context.Context, db *dbutil.Database) error {
		// e2e: the message came encrypted and was decrypted. An event that could not be
		// decrypted yet (encrypted=1) keeps its Megolm session and the encrypted event itself,
		// so that it can be decrypted in place when its key arrives; decrypt_error says why not.
		// trust: what is known about the sending device ("" when nothing is wrong).
		_, err := db.Exec(ctx, `
ALTER TABLE duet_event ADD COLUMN e2e INTEGER NOT NULL DEFAULT 0;
ALTER TABLE duet_event ADD COLUMN session_id TEXT NOT NULL DEFAULT '';
ALTER TABLE duet_event ADD COLUMN raw TEXT NOT NULL DEFAULT '';
ALTER TABLE duet_event ADD COLUMN decrypt_error TEXT NOT NULL DEFAULT '';
ALTER TABLE duet_event ADD COLUMN trust TEXT NOT NULL DEFAULT '';
CREATE INDEX duet_event_session_idx ON duet_event (session_id) WHERE encrypted=1;
`)
		return err
	}).WithRaw(5, 6, 1, "read marks", dbutil.TxnModeOn,
	func(ctx context.Context, db *dbutil.Database) error {
		_, err := db.Exec(ctx, `ALTER TABLE duet_room ADD COLUMN read_ts INTEGER NOT NULL DEFAULT 0`)
		return err
	}).WithRaw(6, 7, 1, "edits, redactions and the search index", dbutil.TxnModeOn,
	func(ctx context.Context, db *dbutil.Database) error {
		_, err := db.Exec(ctx, searchSchema)
		return err
	}).WithRaw(7, 8, 1, "formatted messages", dbutil.TxnModeOn,
	func(ctx context.Context, db *dbutil.Database) error {
		// The HTML of a formatted message (formatted_body), and of an edit's new content.
		_, err := db.Exec(ctx, `ALTER TABLE duet_event ADD COLUMN html TEXT NOT NULL DEFAULT '';
ALTER TABLE duet_change ADD COLUMN html TEXT NOT NULL DEFAULT '';`)
		return err
	}).WithRaw(8, 9, 1, "edits in the outbox", dbutil.TxnModeOn,
	func(ctx context.Context, db *dbutil.Database) error {
		// An outgoing edit or deletion: the event whose text it replaces, or that it deletes.
		_, err := db.Exec(ctx, `ALTER TABLE duet_outbox ADD COLUMN edit_of TEXT NOT NULL DEFAULT '';
ALTER TABLE duet_outbox ADD COLUMN redact INTEGER NOT NULL DEFAULT 0;`)
		return err
	}).WithRaw(9, 10, 1, "read receipts", dbutil.TxnModeOn,
	func(ctx context.Context, db *dbutil.Database) error {
		// How far each other member of a room has read (their public m.read receipt).
		_, err := db.Exec(ctx, `CREATE TABLE duet_receipt (
	room_id  TEXT NOT NULL,
	user_id  TEXT NOT NULL,
	event_id TEXT NOT NULL,
	ts       INTEGER NOT NULL,
	PRIMARY KEY (room_id, user_id)
)`)
		return err
	}).WithRaw(10, 11, 1, "replies, reactions and media", dbutil.TxnModeOn,
	func(ctx context.Context, db *dbutil.Database) error {
		_, err := db.Exec(ctx, relationSchema)
		return err
	}).WithRaw(11, 12, 1, "issue 19 security state", dbutil.TxnModeOn,
	func(ctx context.Context, db *dbutil.Database) error {
		_, err := db.Exec(ctx, securitySchema+unauthenticatedSchema)
		return err
	}).WithRaw(12, 13, 1, "the kind of an outbox entry", dbutil.TxnModeOn,
	func(ctx context.Context, db *dbutil.Database) error {
		// What an outbox entry is (a message, an edit, a reaction, ...) is said, not told from
		// the columns it happens to set; the entries already waiting get theirs from those.
		_, err := db.Exec(ctx, `ALTER TABLE duet_outbox ADD COLUMN kind TEXT NOT NULL DEFAULT '';
UPDATE duet_outbox SET kind = `+kindFromFlags)
		return err
	}).WithRaw(13, 14, 1, "stickers, polls, threads and other kinds of events", dbutil.TxnModeOn,
	func(ctx context.Context, db *dbutil.Database) error {
		_, err := db.Exec(ctx, kindsSchema)
		return err
	}).Finish()

// ErrUnusable means the database cannot be used: it is damaged, or a newer duet wrote it. The
// caller offers to rebuild it (everything in it but the outbox comes back from the server).
var ErrUnusable = errors.New("the local database cannot be used")

func unusable(path string, err error) error {
	var sqlErr sqlite3.Error
	if errors.Is(err, dbutil.ErrUnsupportedDatabaseVersion) ||
		errors.As(err, &sqlErr) && (sqlErr.Code == sqlite3.ErrCorrupt || sqlErr.Code == sqlite3.ErrNotADB) {
		return fmt.Errorf("%w: %s: %w", ErrUnusable, path, err)
	}
	return fmt.Errorf("open database %s: %w", path, err)
}

// SetAside renames a database (and SQLite's side files) out of the way, keeping it for
// inspection, and returns its new name.
func SetAside(path string) (string, error) {
	aside := fmt.Sprintf("%s.broken-%s", path, time.Now().Format("20060102-150405"))
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Rename(path+suffix, aside+suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("move %s aside: %w", path+suffix, err)
		}
	}
	return aside, nil
}

// SalvageOutbox reads the outbox of a database that may be damaged or of a newer version,
// directly and read-only, so that queued messages survive a rebuild.
func SalvageOutbox(ctx context.Context, path string) ([]*Outgoing, error) {
	raw, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	// thread and extra came with version 14, kind with 13, reply_to, react, file and media with 11, edit_of and redact
	// with 9: an older database has not all of them (and nothing of the kinds they say in its
	// outbox); its entries' kinds are told from the columns it has.
	rows, err := raw.QueryContext(ctx, `SELECT `+outboxSelect+` FROM duet_outbox ORDER BY seq`)
	if err != nil {
		rows, err = raw.QueryContext(ctx, `SELECT txn_id, CASE WHEN kind != '' THEN kind ELSE `+kindFromFlags+` END, room_id, target, body, emote, created, failed, edit_of, reply_to, react, file, media, '', '' FROM duet_outbox ORDER BY seq`)
	}
	if err != nil {
		rows, err = raw.QueryContext(ctx, `SELECT txn_id, `+kindFromFlags+`, room_id, target, body, emote, created, failed, edit_of, reply_to, react, file, media, '', '' FROM duet_outbox ORDER BY seq`)
	}
	if err != nil {
		rows, err = raw.QueryContext(ctx, `SELECT txn_id, `+kindFromFlags9+`, room_id, target, body, emote, created, failed, edit_of, '', '', '', '', '', '' FROM duet_outbox ORDER BY seq`)
	}
	if err != nil {
		rows, err = raw.QueryContext(ctx, `SELECT txn_id, `+kindFromFlags2+`, room_id, target, body, emote, created, failed, '', '', '', '', '', '', '' FROM duet_outbox ORDER BY seq`)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Outgoing
	for rows.Next() {
		var o Outgoing
		if err := rows.Scan(o.scanArgs()...); err != nil {
			return out, err
		}
		out = append(out, &o)
	}
	return out, rows.Err()
}

// ErrNotFound is returned by Room for a room the store does not know.
var ErrNotFound = errors.New("not found")
