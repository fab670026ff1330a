package store

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"
)

// oldOutbox is an outbox as version 12 wrote it: no kind column, each entry's kind told by the
// columns it set.
var oldOutbox = []struct {
	txn, kind string
	columns   string // the old columns of the INSERT, after txn_id, body and created
	values    string
}{
	{"t-text", "text", "room_id", "'!r'"},
	{"t-emote", "emote", "room_id, emote", "'!r', 1"},
	{"t-edit", "edit", "room_id, edit_of", "'!r', '$orig'"},
	{"t-emote-edit", "edit", "room_id, edit_of, emote", "'!r', '$orig', 1"},
	{"t-redaction", "redaction", "room_id, edit_of, redact", "'!r', '$orig', 1"},
	{"t-reply", "reply", "target, reply_to", "'@bob:x', '$q'"},
	{"t-emote-reply", "reply", "target, reply_to, emote", "'@bob:x', '$q', 1"},
	{"t-reaction", "reaction", "room_id, edit_of, react", "'!r', '$q', '👍'"},
	{"t-file", "file", "room_id, file", "'!r', '/tmp/a.png'"},
}

// back12 takes a store back to version 12's outbox, holding oldOutbox.
func back12(t *testing.T, st *Store) {
	t.Helper()
	ctx := context.Background()
	for _, q := range []string{"ALTER TABLE duet_outbox DROP COLUMN kind", "DROP INDEX duet_event_thread_idx", "DROP INDEX duet_event_rel_idx",
		"DROP TABLE duet_vote", "ALTER TABLE duet_event DROP COLUMN kind", "ALTER TABLE duet_event DROP COLUMN extra",
		"ALTER TABLE duet_event DROP COLUMN thread", "ALTER TABLE duet_event DROP COLUMN rel",
		"ALTER TABLE duet_outbox DROP COLUMN thread", "ALTER TABLE duet_outbox DROP COLUMN extra", "UPDATE duet_version SET version=12"} {
		if _, err := st.db.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, o := range oldOutbox {
		q := `INSERT INTO duet_outbox (txn_id, body, created, ` + o.columns + `) VALUES ('` + o.txn + `', 'b', 1, ` + o.values + `)`
		if _, err := st.db.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func wantOldKinds(t *testing.T, got []*Outgoing) {
	t.Helper()
	if len(got) != len(oldOutbox) {
		t.Fatalf("%d entries, want %d", len(got), len(oldOutbox))
	}
	for i, o := range oldOutbox {
		if got[i].TxnID != o.txn || got[i].Kind != o.kind {
			t.Errorf("entry %d: %s is %q, want %s %q", i, got[i].TxnID, got[i].Kind, o.txn, o.kind)
		}
	}
}

// The upgrade to version 13 gives the entries waiting in the outbox the kind their columns said.
func TestOutboxUpgradeGivesOldEntriesTheirKind(t *testing.T) {
	path := filepath.Join(t.TempDir(), "duet.db")
	ctx := context.Background()
	st, err := Open(ctx, path, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	back12(t, st)
	st.Close()
	st, err = Open(ctx, path, zerolog.Nop())
	if err != nil {
		t.Fatalf("upgrade from version 12: %v", err)
	}
	defer st.Close()
	// Stored, not only read so: the column holds the kind.
	rows, err := st.db.Query(ctx, "SELECT txn_id, kind FROM duet_outbox ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	var stored []*Outgoing
	for rows.Next() {
		var o Outgoing
		if err := rows.Scan(&o.TxnID, &o.Kind); err != nil {
			t.Fatal(err)
		}
		stored = append(stored, &o)
	}
	rows.Close()
	wantOldKinds(t, stored)
	got, err := st.Outbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantOldKinds(t, got)
}

// A version-12 database set aside for a rebuild gives its outbox up with the kinds.
func TestOutboxSalvagedFromVersion12HasKinds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "duet.db")
	ctx := context.Background()
	st, err := Open(ctx, path, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	back12(t, st)
	st.Close()
	got, err := SalvageOutbox(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	wantOldKinds(t, got)
}

// An older duet may write into a newer database (compatible down to version 1): it leaves kind
// empty, and the entry reads back with the kind its other columns say.
func TestOutboxEntryOfAnOlderDuetHasItsKind(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	if _, err := st.db.Exec(ctx, `INSERT INTO duet_outbox (txn_id, body, created, room_id, edit_of, redact)
		VALUES ('t-old', '', 1, '!r', '$orig', 1)`); err != nil {
		t.Fatal(err)
	}
	got, err := st.Outbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Kind != "redaction" {
		t.Fatalf("an older duet's deletion reads as %+v", got)
	}
}
