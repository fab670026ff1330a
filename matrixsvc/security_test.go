package matrixsvc

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hostile"
	"duet/internal/testkit/hstest"
	"duet/store"
)

// hostileSession logs p in and points the session at a hostile proxy in front of the test
// homeserver; the service is opened on dir, so that a test can restart it.
func hostileSession(t *testing.T, p *hstest.Person) (*store.Session, *hostile.Proxy) {
	t.Helper()
	proxy := hostile.Start(t, hs.URL)
	sess, err := Login(hstest.Ctx(t), LoginParams{Homeserver: hs.URL, User: string(p.ID), Password: p.Password}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	sess.Homeserver = proxy.URL
	return sess, proxy
}

// deliver syncs svc until the proxy has handed out what done waits for.
func deliver(t *testing.T, svc *Service, done <-chan struct{}) {
	t.Helper()
	for range 5 {
		catchUp(t, svc)
		select {
		case <-done:
			catchUp(t, svc)
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatal("the hostile server's events were not delivered")
}

// sentEncrypted sends body from svc and checks that bob's device got it encrypted.
func sentEncrypted(t *testing.T, svc *Service, bob *hstest.CryptoPerson, room id.RoomID, body string) {
	t.Helper()
	if _, err := svc.SendText(hstest.Ctx(t), room, body, false, ""); err != nil {
		t.Fatalf("send %q: %v", body, err)
	}
	if got := bob.WaitMessage(t, room, body, 20*time.Second); !got.Encrypted || !got.Decrypted {
		t.Fatalf("bob got %q as %+v: sent in plain text after the encryption event was changed", body, got)
	}
	waitBody(t, svc, room, body) // our own copy, in order in the timeline
}

// Issue 19, class 2: a hostile server (or a member) that sends an m.room.encryption event
// with no algorithm or another one cannot make duet send plain text, before or after a restart,
// and the conversation says who tried.
func TestEncryptionCannotBeSwitchedOff(t *testing.T) {
	ctx := hstest.Ctx(t)
	p := hstest.NewPerson(t, hs, "alice", "Alice")
	sess, proxy := hostileSession(t, p)
	dir := t.TempDir()
	alice := openService(t, sess, dir)
	bob, room := encryptedDMWithBob(t, alice)

	// Empty content, in the state section of a sync.
	deliver(t, alice, proxy.InjectState(room, proxy.NewState(bob.ID, "m.room.encryption", "", map[string]any{})))
	sentEncrypted(t, alice, bob, room, "after an empty encryption event")
	// Another algorithm, as a state event in the timeline.
	deliver(t, alice, proxy.InjectTimeline(room, proxy.NewState(bob.ID, "m.room.encryption", "", map[string]any{"algorithm": "m.plain"})))
	sentEncrypted(t, alice, bob, room, "after m.plain")
	// Through the outbox (what the UI and `duet send` use).
	if err := alice.Enqueue(ctx, Outgoing{Kind: KindText, Room: room, Body: "from the outbox", TxnID: alice.NewTxnID()}); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.FlushOutbox(ctx); err != nil {
		t.Fatal(err)
	}
	if got := bob.WaitMessage(t, room, "from the outbox", 20*time.Second); !got.Encrypted || !got.Decrypted {
		t.Fatalf("bob got %+v from the outbox", got)
	}
	if !alice.RoomEncrypted(ctx, room) {
		t.Fatal("the room is no longer shown as encrypted")
	}
	checkChangeLines(t, alice, room, bob.ID)

	alice.Close()
	alice.store.Close()
	again := openService(t, sess, dir)
	sentEncrypted(t, again, bob, room, "after a restart")
	checkChangeLines(t, again, room, bob.ID)
	if types := serverEventTypes(t, bob.Client, room); slices.Contains(types, event.EventMessage.Type) {
		t.Fatalf("plain text on the server: %v", types)
	}
}

// checkChangeLines checks that the conversation has a line, where each happened, for the two
// refused changes of the encryption settings by who, and that no message came of them.
func checkChangeLines(t *testing.T, svc *Service, room id.RoomID, who id.UserID) {
	t.Helper()
	msgs, err := svc.Messages(hstest.Ctx(t), room, 50)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range msgs {
		switch {
		case m.EncryptionChange != nil:
			if m.Sender != who || m.Body != "" || m.MsgType != "" {
				t.Errorf("change line %+v, want one by %s without a body", m, who)
			}
			got = append(got, "change to "+strconv.Quote(m.EncryptionChange.Algorithm))
		case strings.HasPrefix(m.Body, "after "):
			got = append(got, m.Body)
		}
	}
	want := []string{`change to ""`, "after an empty encryption event", `change to "m.plain"`, "after m.plain"}
	if len(got) < len(want) || !slices.Equal(got[:len(want)], want) {
		t.Fatalf("conversation: %q, want it to start %q", got, want)
	}
}

// Issue 19, class 3: a plain message the server makes up in an encrypted DM is marked, an
// encrypted one is not; so is a plain reaction there, and a reply's quote of the plain message.
func TestPlainMessageInEncryptedDMIsMarked(t *testing.T) {
	p := hstest.NewPerson(t, hs, "alice", "Alice")
	sess, proxy := hostileSession(t, p)
	alice := openService(t, sess, t.TempDir())
	bob, room := encryptedDMWithBob(t, alice)
	original := bob.SendText(t, room, "encrypted, from bob")
	waitBody(t, alice, room, "encrypted, from bob")
	plain := proxy.NewEvent(bob.ID, "m.room.message", map[string]any{"msgtype": "m.text", "body": "plain, made up"})
	deliver(t, alice, proxy.InjectTimeline(room, plain,
		proxy.NewEvent(bob.ID, "m.reaction", map[string]any{"m.relates_to": map[string]any{
			"rel_type": "m.annotation", "event_id": string(original), "key": "👍"}})))
	// bob answers it, encrypted: the quote carries the mark of what it quotes.
	reply := &event.MessageEventContent{MsgType: event.MsgText, Body: "an encrypted answer",
		RelatesTo: &event.RelatesTo{InReplyTo: &event.InReplyTo{EventID: id.EventID(plain["event_id"].(string))}}}
	if _, err := bob.CryptoClient.SendMessageEvent(hstest.Ctx(t), room, event.EventMessage, reply); err != nil {
		t.Fatal(err)
	}
	waitBody(t, alice, room, "an encrypted answer")
	msgs, err := alice.Messages(hstest.Ctx(t), room, 50)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, m := range msgs {
		switch m.Body {
		case "plain, made up":
			seen++
			if !m.NotEncrypted || m.E2E {
				t.Errorf("plain message in an encrypted DM: NotEncrypted=%v E2E=%v", m.NotEncrypted, m.E2E)
			}
		case "an encrypted answer":
			seen++
			if m.Reply == nil || m.Reply.Body != "plain, made up" || !m.Reply.NotEncrypted || m.NotEncrypted {
				t.Errorf("encrypted answer to a plain message: NotEncrypted=%v quote %+v", m.NotEncrypted, m.Reply)
			}
		case "encrypted, from bob", "first, from bob":
			seen++
			if m.NotEncrypted || !m.E2E {
				t.Errorf("encrypted message %q: NotEncrypted=%v E2E=%v", m.Body, m.NotEncrypted, m.E2E)
			}
			if m.Body == "encrypted, from bob" && (len(m.Reactions) != 1 || !m.Reactions[0].NotEncrypted) {
				t.Errorf("a plain reaction in an encrypted DM is not marked: %+v", m.Reactions)
			}
		}
	}
	if seen != 4 {
		t.Fatalf("messages: %+v", msgs)
	}
}

// Issue 19, class 3: an edit in plain text of an encrypted message is not applied, whoever
// claims to send it; an encrypted edit by the sender is.
func TestPlaintextEditOfEncryptedMessageIsIgnored(t *testing.T) {
	ctx := hstest.Ctx(t)
	p := hstest.NewPerson(t, hs, "alice", "Alice")
	sess, proxy := hostileSession(t, p)
	alice := openService(t, sess, t.TempDir())
	bob, room := encryptedDMWithBob(t, alice)
	original := bob.SendText(t, room, "the encrypted original")
	waitBody(t, alice, room, "the encrypted original")

	forged := proxy.NewEvent(bob.ID, "m.room.message", map[string]any{
		"msgtype": "m.text", "body": "* forged in plain text",
		"m.new_content": map[string]any{"msgtype": "m.text", "body": "forged in plain text"},
		"m.relates_to":  map[string]any{"rel_type": "m.replace", "event_id": string(original)},
	})
	deliver(t, alice, proxy.InjectTimeline(room, forged))
	if got := bodies(t, alice, room); slices.Contains(got, "forged in plain text") || !slices.Contains(got, "the encrypted original") {
		t.Fatalf("a plain-text edit replaced an encrypted message: %v", got)
	}

	// The real sender's encrypted edit still applies.
	edit := &event.MessageEventContent{MsgType: event.MsgText, Body: "* edited, encrypted",
		NewContent: &event.MessageEventContent{MsgType: event.MsgText, Body: "edited, encrypted"},
		RelatesTo:  &event.RelatesTo{Type: event.RelReplace, EventID: original}}
	if _, err := bob.CryptoClient.SendMessageEvent(ctx, room, event.EventMessage, edit); err != nil {
		t.Fatal(err)
	}
	waitBody(t, alice, room, "edited, encrypted")
}

// A DM that was plain and had encryption turned on later: once it is encrypted, every plain
// message in it is marked, the ones stored before as well as later ones, since duet cannot
// tell a message from before encryption from one the server places there.
func TestMessagesFromBeforeEncryptionAreMarked(t *testing.T) {
	ctx := hstest.Ctx(t)
	alice := newService(t, hstest.NewPerson(t, hs, "alice", "Alice"), "")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	catchUp(t, alice)
	room := bob.CreateRoom(t, true, alice.Me())
	said := bob.Say(t, room, "plain, before encryption")
	if _, err := bob.Client.SendReaction(ctx, room, said, "👍"); err != nil {
		t.Fatal(err)
	}
	acceptInvite(t, alice, room)
	waitBody(t, alice, room, "plain, before encryption")
	marked := func() bool {
		msgs, err := alice.Messages(ctx, room, 50)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.Body == "plain, before encryption" {
				if len(m.Reactions) != 1 || m.Reactions[0].NotEncrypted != m.NotEncrypted {
					t.Fatalf("the reaction is marked otherwise than the message (%v): %+v", m.NotEncrypted, m.Reactions)
				}
				return m.NotEncrypted
			}
		}
		t.Fatalf("the message is gone: %+v", msgs)
		return false
	}
	if marked() {
		t.Fatal("a message in a plain room is marked as not encrypted")
	}
	if _, err := bob.Client.SendStateEvent(ctx, room, event.StateEncryption, "", &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}); err != nil {
		t.Fatal(err)
	}
	hstest.Eventually(t, 20*time.Second, func() string {
		catchUp(t, alice)
		if !alice.RoomEncrypted(ctx, room) {
			return "the room is not encrypted yet"
		}
		return ""
	})
	if !marked() {
		t.Fatal("a plain message in a room that is now encrypted is not marked")
	}
}

// A room whose first encryption event names an algorithm duet cannot do gets nothing from
// duet, and the error says why: it is never treated as a plain room.
func TestUnknownEncryptionAlgorithmSendsNothing(t *testing.T) {
	ctx := hstest.Ctx(t)
	sess, proxy := hostileSession(t, hstest.NewPerson(t, hs, "alice", "Alice"))
	alice := openService(t, sess, t.TempDir())
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	catchUp(t, alice)
	room := bob.CreateRoom(t, true, alice.Me())
	acceptInvite(t, alice, room)
	deliver(t, alice, proxy.InjectTimeline(room, proxy.NewState(bob.ID, "m.room.encryption", "", map[string]any{"algorithm": "m.unknown.v9"})))
	_, err := alice.SendText(ctx, room, "must not go out", false, "")
	if !errors.Is(err, ErrEncryptedRoom) || !strings.Contains(err.Error(), `"m.unknown.v9", which duet cannot do`) {
		t.Fatalf("sending to a room encrypted with an unknown algorithm: %v", err)
	}
	if !alice.RoomEncrypted(ctx, room) {
		t.Fatal("the room is shown as not encrypted")
	}
	if slices.Contains(bob.Bodies(t, room), "must not go out") {
		t.Fatal("the message reached the server in plain text")
	}
}

// The same when the plain message and the encryption event come in one sync chunk, the message
// first: it is marked like one stored before, and so is its reaction.
func TestPlainMessagesInTheChunkThatTurnsEncryptionOnAreMarked(t *testing.T) {
	ctx := hstest.Ctx(t)
	alice := newService(t, hstest.NewPerson(t, hs, "alice", "Alice"), "")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	catchUp(t, alice)
	room := bob.CreateRoom(t, true, alice.Me())
	acceptInvite(t, alice, room)
	said := bob.Say(t, room, "plain, in the same chunk")
	if _, err := bob.Client.SendReaction(ctx, room, said, "👍"); err != nil {
		t.Fatal(err)
	}
	enc, err := bob.Client.SendStateEvent(ctx, room, event.StateEncryption, "", &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1})
	if err != nil {
		t.Fatal(err)
	}
	bob.WaitSynced(t, enc.EventID) // Dendrite has it all before alice's next sync
	hstest.Eventually(t, 20*time.Second, func() string {
		catchUp(t, alice)
		if !alice.RoomEncrypted(ctx, room) {
			return "the room is not encrypted yet"
		}
		return ""
	})
	msgs, err := alice.Messages(ctx, room, 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Body == "plain, in the same chunk" {
			if !m.NotEncrypted || len(m.Reactions) != 1 || !m.Reactions[0].NotEncrypted {
				t.Fatalf("a plain message (and its reaction) of the chunk that turned encryption on is not marked: %+v", m)
			}
			return
		}
	}
	t.Fatalf("the message is not there: %+v", msgs)
}

// History fetched from the server into an encrypted room (a gap below the first sync's page) is
// marked like what the sync brought: plain messages there carry "not encrypted" too.
func TestPlainHistoryOfAnEncryptedRoomIsMarked(t *testing.T) {
	ctx := hstest.Ctx(t)
	ap := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	room := bob.CreateRoom(t, true, ap.ID)
	ap.Join(t, room)
	for i := range 15 {
		bob.Say(t, room, fmt.Sprintf("old %d", i+1))
	}
	enc, err := bob.Client.SendStateEvent(ctx, room, event.StateEncryption, "", &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1})
	if err != nil {
		t.Fatal(err)
	}
	ap.WaitSynced(t, enc.EventID)
	alice := newService(t, ap, "") // its first sync has the newest ten events, and a gap below
	catchUp(t, alice)
	if !alice.RoomEncrypted(ctx, room) {
		t.Fatal("the room is not encrypted for alice")
	}
	msgs, err := alice.Messages(ctx, room, 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Body == "old 1" {
			if !m.NotEncrypted {
				t.Fatalf("a plain message from the history of an encrypted room is not marked: %+v", m)
			}
			return
		}
	}
	t.Fatalf("the oldest message did not come from history: %v", bodies(t, alice, room))
}
