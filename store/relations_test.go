package store

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"
)

func keysOf(rs []Reaction) []string {
	var out []string
	for _, r := range rs {
		out = append(out, string(r.Sender)+" "+r.Key)
	}
	return out
}

// Reactions are kept whatever comes first, the reaction or its message; a redaction of a
// reaction takes it back; and the message they belong to is reported as changed.
func TestReactionsInAnyOrder(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	// Backfill order: the reaction before the message it reacts to.
	changed, err := st.RecordChanges(ctx, "!a", []Change{{ID: "$r1", Target: "$m", Sender: "@b:x", TS: 5, Reaction: "👍"}})
	if err != nil || len(changed) != 0 {
		t.Fatalf("a reaction to a message not stored: %v %v", changed, err)
	}
	if err := st.AppendEvents(ctx, "!a", []Event{say("!a", "$m", "@me:x", "lunch?", 1)}, false, ""); err != nil {
		t.Fatal(err)
	}
	changed, err = st.RecordChanges(ctx, "!a", []Change{
		{ID: "$r2", Target: "$m", Sender: "@me:x", TS: 6, Reaction: "👍"},
		{ID: "$r3", Target: "$m", Sender: "@b:x", TS: 7, Reaction: "🎉"},
	})
	if err != nil || !slices.Equal(changed, []id.EventID{"$m"}) {
		t.Fatalf("reactions to a stored message: %v %v", changed, err)
	}
	got, err := st.Reactions(ctx, "!a", []id.EventID{"$m", "$other"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"@b:x 👍", "@me:x 👍", "@b:x 🎉"}; !slices.Equal(keysOf(got["$m"]), want) {
		t.Fatalf("reactions: %v, want %v", keysOf(got["$m"]), want)
	}
	// Taking one back: its redaction names the reaction, and the message is what changed.
	changed, err = st.RecordChanges(ctx, "!a", []Change{{ID: "$x", Target: "$r1", Sender: "@b:x", TS: 8, Redact: true}})
	if err != nil || !slices.Equal(changed, []id.EventID{"$m"}) {
		t.Fatalf("a reaction taken back: %v %v", changed, err)
	}
	got, _ = st.Reactions(ctx, "!a", []id.EventID{"$m"})
	if want := []string{"@me:x 👍", "@b:x 🎉"}; !slices.Equal(keysOf(got["$m"]), want) {
		t.Fatalf("after the redaction: %v, want %v", keysOf(got["$m"]), want)
	}
	// The message itself is untouched by all this.
	evts, _ := st.EventsByID(ctx, "!a", []id.EventID{"$m"})
	if len(evts) != 1 || evts[0].Body != "lunch?" || evts[0].Edited || evts[0].Redacted {
		t.Fatalf("the message: %+v", evts)
	}
	// Another room knows nothing of them; a forgotten room takes its reactions along.
	if got, _ := st.Reactions(ctx, "!b", []id.EventID{"$m"}); len(got) != 0 {
		t.Fatalf("another room: %v", got)
	}
	if err := st.DeleteRoom(ctx, "!a"); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Reactions(ctx, "!a", []id.EventID{"$m"}); len(got) != 0 {
		t.Fatalf("a forgotten room: %v", got)
	}
}

// A reply keeps the message it answers, and a file message its content.
func TestReplyAndMediaStored(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	e := say("!a", "$2", "@b:x", "yes", 2)
	e.ReplyTo = "$1"
	f := say("!a", "$3", "@b:x", "cat.png", 3)
	f.MsgType, f.Media = "m.image", `{"url":"mxc://x/y"}`
	if err := st.AppendEvents(ctx, "!a", []Event{say("!a", "$1", "@me:x", "lunch?", 1), e, f}, false, ""); err != nil {
		t.Fatal(err)
	}
	evts, err := st.EventsByID(ctx, "!a", []id.EventID{"$2", "$3"})
	if err != nil || len(evts) != 2 || evts[0].ReplyTo != "$1" || evts[1].Media != `{"url":"mxc://x/y"}` {
		t.Fatalf("%+v %v", evts, err)
	}
}

// A page of 50 messages' reactions, in a room of 10,000 messages with a reaction on every
// fifth: what opening a conversation or paging adds for reactions.
func BenchmarkReactionsOfAPage(b *testing.B) {
	st, err := Open(context.Background(), b.TempDir()+"/duet.db", zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	evts := make([]Event, 10000)
	var changes []Change
	for i := range evts {
		evts[i] = say("!a", fmt.Sprintf("$m%d", i), "@b:x", "message", int64(i))
		if i%5 == 0 {
			changes = append(changes, Change{ID: id.EventID(fmt.Sprintf("$r%d", i)), Target: evts[i].ID, Sender: "@me:x", TS: int64(i), Reaction: "👍"})
		}
	}
	if err := st.AppendEvents(ctx, "!a", evts, false, ""); err != nil {
		b.Fatal(err)
	}
	if _, err := st.RecordChanges(ctx, "!a", changes); err != nil {
		b.Fatal(err)
	}
	page := make([]id.EventID, 50)
	for i := range page {
		page[i] = evts[5000+i].ID
	}
	b.ResetTimer()
	for range b.N {
		got, err := st.Reactions(ctx, "!a", page)
		if err != nil || len(got) != 10 {
			b.Fatalf("%d, %v", len(got), err)
		}
	}
}
