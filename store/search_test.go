package store

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"
)

func say(room id.RoomID, evt, sender, body string, ts int64) Event {
	return Event{Room: room, ID: id.EventID(evt), Sender: id.UserID(sender), MsgType: "m.text", Body: body, TS: ts}
}

func found(t *testing.T, st *Store, q string, rooms ...id.RoomID) []string {
	t.Helper()
	hits, err := st.Search(context.Background(), q, rooms, 50)
	if err != nil {
		t.Fatalf("search %q: %v", q, err)
	}
	var out []string
	for _, h := range hits {
		out = append(out, string(h.ID))
	}
	return out
}

func TestSearchFoldsCaseAndAccentsAndMatchesPrefixes(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	if err := st.AppendEvents(ctx, "!a", []Event{
		say("!a", "$1", "@b:x", "Crème brûlée at the CAFÉ tomorrow?", 1),
		say("!a", "$2", "@me:x", "picnic on Saturday", 2),
		say("!a", "$3", "@b:x", "the pic was great", 3),
	}, false, ""); err != nil {
		t.Fatal(err)
	}
	if err := st.AppendEvents(ctx, "!b", []Event{say("!b", "$4", "@c:x", "another picnic, in the other room", 4)}, false, ""); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string][]string{
		"creme":            {"$1"},
		"cafe TOMORROW":    {"$1"},
		"brûlée":           {"$1"},
		"pic":              {"$4", "$3", "$2"}, // newest first
		`"on saturday"`:    {"$2"},
		`"saturday on"`:    nil,
		"picnic, room!":    {"$4"},
		"nothing-like-it":  nil,
		"pic*":             {"$4", "$3", "$2"},
		"NOT":              nil, // a word, not an operator
		"satur":            {"$2"},
		`the "pic was" gr`: {"$3"},
	} {
		if got := found(t, st, q); !slices.Equal(got, want) {
			t.Errorf("%q found %v, want %v", q, got, want)
		}
	}
	if got := found(t, st, "picnic", "!a"); !slices.Equal(got, []string{"$2"}) {
		t.Errorf("picnic in !a: %v", got)
	}
	hits, err := st.Search(ctx, "cafe", nil, 5)
	if err != nil || len(hits) != 1 || !strings.Contains(hits[0].Snippet, "\x01CAFÉ\x02") {
		t.Fatalf("snippet: %+v, %v", hits, err)
	}
}

func TestBadQueriesAreClearErrors(t *testing.T) {
	st := openStore(t)
	for _, q := range []string{`"unbalanced`, "*", "   ", `""`, "?!", strings.Repeat("a", 10_000), strings.Repeat("w ", 40)} {
		_, err := st.Search(context.Background(), q, nil, 10)
		if !errors.Is(err, ErrBadQuery) {
			t.Errorf("%.20q: %v, want a bad query error", q, err)
			continue
		}
		if strings.Contains(err.Error(), "MATCH") || strings.Contains(err.Error(), "fts") {
			t.Errorf("%.20q: the error speaks SQLite: %v", q, err)
		}
	}
}

// An edit replaces the indexed words, whichever of the edit and the message is stored first; an
// edit by someone else than the sender changes nothing; a redaction takes the message out.
func TestEditsAndRedactionsKeepTheIndexRight(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	if err := st.AppendEvents(ctx, "!a", []Event{say("!a", "$orig", "@b:x", "meet at the lighthouse", 1)}, false, ""); err != nil {
		t.Fatal(err)
	}
	changed, err := st.RecordChanges(ctx, "!a", []Change{
		{ID: "$e1", Target: "$orig", Sender: "@b:x", TS: 2, MsgType: "m.text", Body: "meet at the harbour"},
		{ID: "$forged", Target: "$orig", Sender: "@mallory:x", TS: 9, MsgType: "m.text", Body: "meet at the cellar"},
	})
	if err != nil || !slices.Equal(changed, []id.EventID{"$orig"}) {
		t.Fatalf("changed %v, %v", changed, err)
	}
	if got := found(t, st, "lighthouse"); got != nil {
		t.Errorf("the old words still match: %v", got)
	}
	if got := found(t, st, "harbour"); !slices.Equal(got, []string{"$orig"}) {
		t.Errorf("the new words: %v", got)
	}
	if got := found(t, st, "cellar"); got != nil {
		t.Errorf("someone else's edit applied: %v", got)
	}
	evts, _ := st.EventsByID(ctx, "!a", []id.EventID{"$orig"})
	if len(evts) != 1 || !evts[0].Edited || evts[0].Body != "meet at the harbour" {
		t.Fatalf("stored after the edit: %+v", evts)
	}
	// An older edit arriving later (backfill) does not win over the newer one.
	if _, err := st.RecordChanges(ctx, "!a", []Change{{ID: "$e0", Target: "$orig", Sender: "@b:x", TS: 1, Body: "meet at noon"}}); err != nil {
		t.Fatal(err)
	}
	if got := found(t, st, "harbour"); !slices.Equal(got, []string{"$orig"}) {
		t.Errorf("an older edit won: %v", got)
	}

	// The edit first, then the message (backfill brings newer events first).
	if _, err := st.RecordChanges(ctx, "!a", []Change{{ID: "$e2", Target: "$later", Sender: "@b:x", TS: 5, MsgType: "m.text", Body: "fixed typo"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.AppendEvents(ctx, "!a", []Event{say("!a", "$later", "@b:x", "fixed tpyo", 4)}, false, ""); err != nil {
		t.Fatal(err)
	}
	if got := found(t, st, "typo"); !slices.Equal(got, []string{"$later"}) {
		t.Errorf("an edit stored before its message: %v", got)
	}

	// A redaction: nothing of it matches, and it stays deleted when an edit comes after.
	if _, err := st.RecordChanges(ctx, "!a", []Change{{ID: "$r", Target: "$orig", Sender: "@b:x", TS: 6, Redact: true}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordChanges(ctx, "!a", []Change{{ID: "$e3", Target: "$orig", Sender: "@b:x", TS: 7, Body: "back again"}}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"harbour", "meet", "back"} {
		if got := found(t, st, q); got != nil {
			t.Errorf("%q matches a redacted message: %v", q, got)
		}
	}
	evts, _ = st.EventsByID(ctx, "!a", []id.EventID{"$orig"})
	if len(evts) != 1 || !evts[0].Redacted || evts[0].Body != "" {
		t.Fatalf("stored after the redaction: %+v", evts)
	}
}

// A message decrypted later is indexed with its text, and an edit that came before the key
// applies once it is decrypted.
func TestDecryptedMessagesAreIndexed(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	enc := Event{Room: "!e", ID: "$enc", Sender: "@b:x", TS: 1, Encrypted: true, SessionID: "s", Raw: "{}"}
	if err := st.AppendEvents(ctx, "!e", []Event{enc}, false, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordChanges(ctx, "!e", []Change{{ID: "$ed", Target: "$enc", Sender: "@b:x", TS: 2, MsgType: "m.text", Body: "the secret is marmalade", E2E: true}}); err != nil {
		t.Fatal(err)
	}
	if got := found(t, st, "marmalade"); got != nil {
		t.Fatalf("an undecrypted message matched: %v", got)
	}
	dec := Event{Room: "!e", ID: "$enc", Sender: "@b:x", TS: 1, MsgType: "m.text", Body: "the secret is jam", E2E: true}
	if err := st.ReplaceEvent(ctx, &dec); err != nil {
		t.Fatal(err)
	}
	if got := found(t, st, "marmalade"); !slices.Equal(got, []string{"$enc"}) {
		t.Fatalf("after decryption: %v", got)
	}
	if got := found(t, st, "jam"); got != nil {
		t.Fatalf("the text before the edit matches: %v", got)
	}
	// Forgetting the room takes its messages out of the index.
	if err := st.DeleteRoom(ctx, "!e"); err != nil {
		t.Fatal(err)
	}
	if got := found(t, st, "marmalade"); got != nil {
		t.Fatalf("a forgotten room's message matches: %v", got)
	}
}

// A database written before the index (version 6) gets one on upgrade, filled with the
// messages it already stores.
func TestUpgradeIndexesStoredMessages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "duet.db")
	ctx := context.Background()
	st, err := Open(ctx, path, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AppendEvents(ctx, "!a", []Event{say("!a", "$1", "@b:x", "an old message about otters", 1)}, false, ""); err != nil {
		t.Fatal(err)
	}
	// Back to what version 6 had: no index, no changes, no edit marks, no HTML,
	for _, q := range []string{
		"DROP TRIGGER duet_search_bu", "DROP TRIGGER duet_search_bd", "DROP TRIGGER duet_search_au", "DROP TRIGGER duet_search_ai",
		"DROP TABLE duet_search", "DROP TABLE duet_change", "DROP TABLE duet_receipt",
		"ALTER TABLE duet_event DROP COLUMN edited", "ALTER TABLE duet_event DROP COLUMN redacted", "ALTER TABLE duet_event DROP COLUMN html",
		"ALTER TABLE duet_outbox DROP COLUMN edit_of", "ALTER TABLE duet_outbox DROP COLUMN redact",
		// and none of version 11's replies, reactions and media
		"DROP TABLE duet_reaction", "ALTER TABLE duet_event DROP COLUMN reply_to", "ALTER TABLE duet_event DROP COLUMN media",
		"ALTER TABLE duet_outbox DROP COLUMN reply_to", "ALTER TABLE duet_outbox DROP COLUMN react",
		"ALTER TABLE duet_outbox DROP COLUMN file", "ALTER TABLE duet_outbox DROP COLUMN media",
		// nor version 12's security state and member changes
		"ALTER TABLE duet_event DROP COLUMN not_encrypted",
		"DROP INDEX duet_event_notice_idx", "ALTER TABLE duet_event DROP COLUMN notice",
		// and none of version 12's security state
		"ALTER TABLE duet_event DROP COLUMN unauthenticated",
		// nor version 13's outbox kinds
		"ALTER TABLE duet_outbox DROP COLUMN kind",
		// nor version 14's kinds of events, threads and votes
		"DROP INDEX duet_event_thread_idx", "DROP INDEX duet_event_rel_idx", "DROP TABLE duet_vote",
		"ALTER TABLE duet_event DROP COLUMN kind", "ALTER TABLE duet_event DROP COLUMN extra",
		"ALTER TABLE duet_event DROP COLUMN thread", "ALTER TABLE duet_event DROP COLUMN rel",
		"ALTER TABLE duet_outbox DROP COLUMN thread", "ALTER TABLE duet_outbox DROP COLUMN extra",
		"UPDATE duet_version SET version=6",
	} {
		if _, err := st.db.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	st.Close()
	st, err = Open(ctx, path, zerolog.Nop())
	if err != nil {
		t.Fatalf("upgrade from version 6: %v", err)
	}
	defer st.Close()
	if got := found(t, st, "otters"); !slices.Equal(got, []string{"$1"}) {
		t.Fatalf("a message stored before the index: %v", got)
	}
}
