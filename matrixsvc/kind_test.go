package matrixsvc

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"duet/internal/testkit/hstest"
	"duet/store"
)

// offlineService is a service on a fresh store whose homeserver is never reached: for what
// happens before a request.
func offlineService(t testing.TB) *Service {
	t.Helper()
	return openService(t, &store.Session{Homeserver: closedServer(t), UserID: "@me:localhost", DeviceID: "OFFLINE", AccessToken: "unused"}, t.TempDir())
}

// The outbox stores a kind by its name; the store's upgrade writes the same names.
func TestOutboxKindNames(t *testing.T) {
	want := []string{"text", "emote", "edit", "reply", "reaction", "redaction", "file", "vote", "poll_end", "poll"}
	var got []string
	for k := KindText; k <= KindNewPoll; k++ {
		got = append(got, k.String())
		if kindNamed(k.String()) != k {
			t.Errorf("%s does not read back", k)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("kinds are named %v, want %v", got, want)
	}
	if kindNamed("") != 0 || kindNamed("sticker") != 0 || Kind(0).String() != "Kind(0)" {
		t.Fatal("a kind that is none has a name")
	}
}

// Enqueue checks an entry by its kind before anything is written, in the words the separate
// Enqueue functions had; what it takes, Outbox gives back as it was meant.
func TestOutboxEnqueueChecksEachKind(t *testing.T) {
	svc := offlineService(t)
	ctx := hstest.Ctx(t)
	const room, evt, bob = "!room:localhost", "$evt", "@bob:localhost"
	dir := t.TempDir()
	file := filepath.Join(dir, "dot.png")
	if err := os.WriteFile(file, []byte("\x89PNG\r\n\x1a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		o    Outgoing
		says string // "" when it is taken
		is   error
	}{
		{o: Outgoing{Room: room, Body: "no kind"}, says: "an outgoing message needs a kind, not Kind(0)"},
		{o: Outgoing{Kind: KindNewPoll + 1, Target: bob, Body: "no kind"}, says: "an outgoing message needs a kind, not Kind(11)"},
		{o: Outgoing{Kind: KindVote, Room: room, Answers: []string{"1"}}, says: "a vote needs the room and the poll"},
		{o: Outgoing{Kind: KindEndPoll, Of: evt}, says: "a poll_end needs the room and the poll"},
		{o: Outgoing{Kind: KindNewPoll, Target: bob, Poll: &Poll{Question: "Tea?", Answers: []PollAnswer{{Text: "yes"}}}}, says: "it needs 2 to 20 answers", is: ErrBadPoll},
		{o: Outgoing{Kind: KindText, Room: room, Body: "  "}, says: "nothing to send: the message is empty"},
		{o: Outgoing{Kind: KindText, Body: "to nobody"}, says: "a message needs a room or a contact"},
		{o: Outgoing{Kind: KindEmote, Room: room}, says: "nothing to send: the message is empty"},
		{o: Outgoing{Kind: KindEdit, Room: room, Body: "new text"}, says: "an edit needs the room and the message it changes"},
		{o: Outgoing{Kind: KindEdit, Of: evt, Body: "new text"}, says: "an edit needs the room and the message it changes"},
		{o: Outgoing{Kind: KindEdit, Room: room, Of: evt}, says: "nothing to send: the message is empty"},
		{o: Outgoing{Kind: KindReply, Room: room, Body: "yes"}, says: "a reply needs the message it answers"},
		{o: Outgoing{Kind: KindReply, Room: room, ReplyTo: evt, Body: "\n"}, says: "nothing to send: the message is empty"},
		{o: Outgoing{Kind: KindReply, ReplyTo: evt, Body: "yes"}, says: "a message needs a room or a contact"},
		{o: Outgoing{Kind: KindReaction, Room: room, Key: "👍"}, says: "a reaction needs the room and the message"},
		{o: Outgoing{Kind: KindReaction, Room: room, Of: evt}, says: "it is empty", is: ErrBadReaction},
		{o: Outgoing{Kind: KindReaction, Room: room, Of: evt, Key: "a\tb"}, says: "it has control characters", is: ErrBadReaction},
		{o: Outgoing{Kind: KindRedaction, Of: evt}, says: "a deletion needs the room and the message"},
		{o: Outgoing{Kind: KindFile, Room: room, File: filepath.Join(dir, "gone.png")}, says: "no such file: " + filepath.Join(dir, "gone.png")},
		{o: Outgoing{Kind: KindFile, File: file}, says: "a message needs a room or a contact"},
		// A field the kind does not take is a mistake, not ignored.
		{o: Outgoing{Kind: KindText, Room: room, Body: "hi", Of: evt}, says: "an outgoing text takes no message to change"},
		{o: Outgoing{Kind: KindText, Room: room, Body: "hi", Emote: true}, says: "an outgoing text takes no emote flag"},
		{o: Outgoing{Kind: KindEdit, Room: room, Target: bob, Of: evt, Body: "x"}, says: "an outgoing edit takes no contact"},
		{o: Outgoing{Kind: KindReaction, Room: room, Of: evt, Key: "👍", Body: "👍"}, says: "an outgoing reaction takes no text"},
		{o: Outgoing{Kind: KindRedaction, Room: room, Of: evt, Key: "👍"}, says: "an outgoing redaction takes no reaction key"},
		{o: Outgoing{Kind: KindReply, Room: room, ReplyTo: evt, Body: "x", File: file}, says: "an outgoing reply takes no file"},
		{o: Outgoing{Kind: KindFile, Room: room, File: file, ReplyTo: evt}, says: "an outgoing file takes no message to answer"},

		{o: Outgoing{Kind: KindText, Target: bob, Body: "hello", TxnID: "t-text"}},
		{o: Outgoing{Kind: KindEmote, Room: room, Body: "waves", TxnID: "t-emote"}},
		{o: Outgoing{Kind: KindEdit, Room: room, Of: evt, Body: "shrugs", Emote: true, TxnID: "t-edit"}},
		{o: Outgoing{Kind: KindReply, Room: room, Target: bob, ReplyTo: evt, Body: "yes", TxnID: "t-reply"}},
		{o: Outgoing{Kind: KindReaction, Room: room, Of: evt, Key: "👍", TxnID: "t-reaction"}},
		{o: Outgoing{Kind: KindRedaction, Room: room, Of: evt, TxnID: "t-redaction"}},
		{o: Outgoing{Kind: KindFile, Target: bob, File: file, TxnID: "t-file"}},
	} {
		err := svc.Enqueue(ctx, c.o)
		switch {
		case c.says == "" && err != nil:
			t.Errorf("%+v: %v", c.o, err)
		case c.says != "" && (err == nil || !strings.Contains(err.Error(), c.says)):
			t.Errorf("%+v: %v, want %q", c.o, err, c.says)
		case c.is != nil && !errors.Is(err, c.is):
			t.Errorf("%+v: %v is not %v", c.o, err, c.is)
		}
	}
	queued, err := svc.Outbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		Kind                    Kind
		TxnID, Body, Key, File  string
		Emote                   bool
		Room, Target, Of, Reply string
	}
	var got []entry
	for _, o := range queued {
		if o.Created.IsZero() || o.Failed != "" {
			t.Errorf("%s: created %v, failed %q", o.TxnID, o.Created, o.Failed)
		}
		got = append(got, entry{o.Kind, o.TxnID, o.Body, o.Key, o.File, o.Emote, string(o.Room), string(o.Target), string(o.Of), string(o.ReplyTo)})
	}
	want := []entry{
		{Kind: KindText, TxnID: "t-text", Body: "hello", Target: bob},
		{Kind: KindEmote, TxnID: "t-emote", Body: "waves", Emote: true, Room: room},
		{Kind: KindEdit, TxnID: "t-edit", Body: "shrugs", Emote: true, Room: room, Of: evt},
		{Kind: KindReply, TxnID: "t-reply", Body: "yes", Room: room, Target: bob, Reply: evt},
		{Kind: KindReaction, TxnID: "t-reaction", Key: "👍", Room: room, Of: evt},
		{Kind: KindRedaction, TxnID: "t-redaction", Room: room, Of: evt},
		{Kind: KindFile, TxnID: "t-file", Body: "dot.png", File: file, Target: bob},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("the outbox holds\n%+v\nwant\n%+v", got, want)
	}
}

// An entry of a kind this duet does not know (a newer one wrote it) is given up on, not sent as
// something else, and the outbox goes on.
func TestOutboxEntryOfUnknownKindFails(t *testing.T) {
	svc := offlineService(t)
	ctx := hstest.Ctx(t)
	if err := svc.store.AddOutgoing(ctx, &store.Outgoing{TxnID: "t-sticker", Kind: "sticker", Room: "!room:localhost", Body: "🐱", Created: 1}); err != nil {
		t.Fatal(err)
	}
	if sent, err := svc.FlushOutbox(ctx); sent != 0 || err != nil {
		t.Fatalf("flush: %d sent, %v", sent, err)
	}
	queued, err := svc.Outbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(queued) != 1 || queued[0].Kind != 0 || !strings.Contains(queued[0].Failed, `the kind "sticker"`) {
		t.Fatalf("the outbox: %+v", queued)
	}
}
