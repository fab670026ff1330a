package store

import (
	"context"
	"testing"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Encryption is sticky: a later m.room.encryption event with no or another algorithm, or with
// weaker rotation settings, changes nothing any reader sees.
func TestEncryptionStaysAsFirstSet(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	room := id.RoomID("!r")
	first := &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1, RotationPeriodMillis: 604800000, RotationPeriodMessages: 100}
	if err := st.State.SetEncryptionEvent(ctx, room, first); err != nil {
		t.Fatal(err)
	}
	for _, later := range []*event.EncryptionEventContent{
		{},
		{Algorithm: "m.plain"},
		{Algorithm: id.AlgorithmMegolmV1, RotationPeriodMessages: 1000000},
	} {
		if err := st.State.SetEncryptionEvent(ctx, room, later); err != nil {
			t.Fatal(err)
		}
		got, err := st.State.GetEncryptionEvent(ctx, room)
		if err != nil || got == nil || *got != *first {
			t.Fatalf("after %+v: settings %+v, %v; want the first %+v", later, got, err, first)
		}
		if enc, err := st.State.IsEncrypted(ctx, room); err != nil || !enc {
			t.Fatalf("after %+v: encrypted = %v, %v", later, enc, err)
		}
	}
	// A room whose first event names an algorithm duet cannot do is encrypted, with it.
	if err := st.State.SetEncryptionEvent(ctx, "!odd", &event.EncryptionEventContent{Algorithm: "m.unknown"}); err != nil {
		t.Fatal(err)
	}
	alg, ok, err := st.State.EncryptionAlgorithm(ctx, "!odd")
	if err != nil || !ok || alg != "m.unknown" {
		t.Fatalf("room with an unknown algorithm: %q %v %v", alg, ok, err)
	}
	if _, ok, _ := st.State.EncryptionAlgorithm(ctx, "!plain"); ok {
		t.Fatal("a room never encrypted is encrypted")
	}
}

// A plain edit never replaces an encrypted message; an encrypted one does, and a plain edit
// of a plain message does.
func TestPlainEditOfEncryptedMessageIsNotApplied(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	enc := say("!a", "$enc", "@b:x", "said encrypted", 1)
	enc.E2E = true
	plain := say("!a", "$plain", "@b:x", "said plainly", 2)
	if err := st.AppendEvents(ctx, "!a", []Event{enc, plain}, false, ""); err != nil {
		t.Fatal(err)
	}
	body := func(evt id.EventID) string {
		evts, err := st.EventsByID(ctx, "!a", []id.EventID{evt})
		if err != nil || len(evts) != 1 {
			t.Fatalf("%s: %v %v", evt, evts, err)
		}
		return evts[0].Body
	}
	if _, err := st.RecordChanges(ctx, "!a", []Change{
		{ID: "$e1", Target: "$enc", Sender: "@b:x", TS: 3, MsgType: "m.text", Body: "forged"},
		{ID: "$e2", Target: "$plain", Sender: "@b:x", TS: 3, MsgType: "m.text", Body: "plain edit"},
	}); err != nil {
		t.Fatal(err)
	}
	if got := body("$enc"); got != "said encrypted" {
		t.Fatalf("a plain edit replaced an encrypted message: %q", got)
	}
	if got := body("$plain"); got != "plain edit" {
		t.Fatalf("a plain edit of a plain message: %q", got)
	}
	if _, err := st.RecordChanges(ctx, "!a", []Change{{ID: "$e3", Target: "$enc", Sender: "@b:x", TS: 4, MsgType: "m.text", Body: "encrypted edit", E2E: true}}); err != nil {
		t.Fatal(err)
	}
	if got := body("$enc"); got != "encrypted edit" {
		t.Fatalf("an encrypted edit: %q", got)
	}
}
