package cli

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hstest"
)

type threadMsgOut struct {
	EventID       id.EventID `json:"event_id"`
	Body          string     `json:"body"`
	ReplyTo       id.EventID `json:"reply_to"`
	Thread        id.EventID `json:"thread"`
	ThreadReplies int        `json:"thread_replies"`
	E2E           bool       `json:"end_to_end_encrypted"`
	Undecryptable bool       `json:"undecryptable"`
}

// elementThreadReply sends what Element sends for a message in a thread: rel_type m.thread on
// root, and for clients without threads a reply to the thread's latest event, is_falling_back.
func elementThreadReply(t *testing.T, p *hstest.Person, room id.RoomID, root, latest id.EventID, body string) id.EventID {
	t.Helper()
	resp, err := p.Client.SendMessageEvent(hstest.Ctx(t), room, event.EventMessage, map[string]any{
		"msgtype": "m.text", "body": body,
		"m.relates_to": map[string]any{"rel_type": "m.thread", "event_id": root, "is_falling_back": true,
			"m.in_reply_to": map[string]any{"event_id": latest}},
	})
	if err != nil {
		t.Fatalf("thread reply %q: %v", body, err)
	}
	return resp.EventID
}

// threadMessages is `messages TARGET --json`, or with --thread ROOT that thread.
func (u *duetUser) threadMessages(t *testing.T, args ...string) []threadMsgOut {
	t.Helper()
	var out struct {
		Messages []threadMsgOut `json:"messages"`
	}
	u.jsonOut(t, &out, append([]string{"messages"}, args...)...)
	return out.Messages
}

// rawEvent is the event evt of room as the server hands it to p.
func rawEvent(t *testing.T, p *hstest.Person, room id.RoomID, evt id.EventID) (event.Type, []byte) {
	t.Helper()
	var e *event.Event
	hstest.Eventually(t, 20*time.Second, func() string { // Dendrite may not serve it for a moment
		var err error
		if e, err = p.Client.GetEvent(hstest.Ctx(t), room, evt); err != nil {
			return fmt.Sprintf("read %s: %v", evt, err)
		}
		return ""
	})
	raw, err := json.Marshal(e.Content.Raw)
	if err != nil {
		t.Fatal(err)
	}
	return e.Type, raw
}

// Issue "everything Element sends", threads, from the shell: bob (a plain client) starts a
// thread in his DM with alice and answers in it twice as Element does. alice's messages --json
// marks the replies with their thread and the root with its count; messages --thread prints the
// root and the two replies only, in order; send --thread puts on the server what the spec asks
// (m.thread on the root, a fallback reply to the thread's latest event) and the thread has it.
func TestThreadsFromTheShell(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	alice.login(t)
	room := alice.send(t, string(bob.ID), "hi bob").RoomID
	bob.Join(t, room)
	root := bob.Say(t, room, "shall we plan the trip?")
	bob.Say(t, room, "(something else meanwhile)")
	r1 := elementThreadReply(t, bob, room, root, root, "May works for me")
	r2 := elementThreadReply(t, bob, room, root, r1, "or early June")

	hstest.Eventually(t, 20*time.Second, func() string {
		msgs := alice.threadMessages(t, string(bob.ID))
		at := func(e id.EventID) int {
			return slices.IndexFunc(msgs, func(m threadMsgOut) bool { return m.EventID == e })
		}
		i, j, k := at(root), at(r1), at(r2)
		if i < 0 || j < 0 || k < 0 {
			return fmt.Sprintf("not all there: %+v", msgs)
		}
		if msgs[i].ThreadReplies != 2 || msgs[i].Thread != "" || msgs[j].Thread != root || msgs[k].Thread != root {
			return fmt.Sprintf("threads not marked: %+v", msgs)
		}
		if msgs[j].ReplyTo != "" || msgs[k].ReplyTo != "" {
			t.Fatalf("a thread's fallback reply is shown as a reply: %+v", msgs)
		}
		return ""
	})

	got := alice.threadMessages(t, string(bob.ID), "--thread", string(root))
	var ids []id.EventID
	for _, m := range got {
		ids = append(ids, m.EventID)
	}
	if !slices.Equal(ids, []id.EventID{root, r1, r2}) {
		t.Fatalf("messages --thread: %+v, want root, r1, r2", got)
	}
	plain := strings.Split(strings.TrimSpace(alice.ok(t, "", "messages", string(bob.ID), "--thread", string(root))), "\n")
	if len(plain) != 3 || !strings.Contains(plain[0], "shall we plan the trip?") || !strings.Contains(plain[1], "May works for me") ||
		!strings.Contains(plain[2], "or early June") {
		t.Fatalf("messages --thread, plain:\n%s", strings.Join(plain, "\n"))
	}
	// --limit keeps the newest replies, with the root.
	got = alice.threadMessages(t, string(bob.ID), "--thread", string(root), "--limit", "1")
	if len(got) != 2 || got[0].EventID != root || got[1].EventID != r2 {
		t.Fatalf("messages --thread --limit 1: %+v", got)
	}

	var sent sendOut
	alice.jsonOut(t, &sent, "send", string(bob.ID), "count me in", "--thread", string(root))
	if sent.RoomID != room {
		t.Fatalf("sent into %s, not the thread's room %s", sent.RoomID, room)
	}
	typ, raw := rawEvent(t, bob, room, sent.EventID)
	rel := gjson.GetBytes(raw, `m\.relates_to`)
	if typ != event.EventMessage || rel.Get("rel_type").Str != "m.thread" || rel.Get("event_id").Str != string(root) ||
		!rel.Get("is_falling_back").Bool() || rel.Get(`m\.in_reply_to.event_id`).Str != string(r2) {
		t.Fatalf("send --thread put %s %s on the server", typ, raw)
	}
	// A reply inside the thread keeps what it answers, not falling back.
	alice.jsonOut(t, &sent, "send", string(bob.ID), "June then", "--thread", string(root), "--reply-to", string(r1))
	_, raw = rawEvent(t, bob, room, sent.EventID)
	rel = gjson.GetBytes(raw, `m\.relates_to`)
	if rel.Get("rel_type").Str != "m.thread" || rel.Get("event_id").Str != string(root) || rel.Get("is_falling_back").Bool() ||
		rel.Get(`m\.in_reply_to.event_id`).Str != string(r1) {
		t.Fatalf("send --thread --reply-to put %s on the server", raw)
	}
	got = alice.threadMessages(t, string(bob.ID), "--thread", string(root))
	if len(got) != 5 || got[3].Body != "count me in" || got[4].Body != "June then" || got[4].ReplyTo != r1 {
		t.Fatalf("the thread after sending: %+v", got)
	}
	if r := alice.run(t, "", "send", string(bob.ID), "x", "--thread", "nonsense"); r.code != 2 {
		t.Fatalf("a bad --thread: exit %d", r.code)
	}
	if r := alice.run(t, "", "send", string(bob.ID), "👍", "--thread", string(root), "--react", string(r1)); r.code != 2 {
		t.Fatalf("--thread with --react: exit %d", r.code)
	}
}

// In an encrypted DM between two duets a thread message is m.room.encrypted on the server with
// its m.relates_to (the thread) in the clear, as the spec asks, and the other side decrypts it
// into the thread.
func TestThreadMessageEncrypted(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	bob := newDuetUser(t, "bob", "Bob")
	alice.login(t)
	bob.login(t)
	bob.ok(t, "", "dms") // bob's keys are uploaded: the DM is encrypted (R10)
	first := alice.send(t, string(bob.ID), "a root to thread on")
	bob.accept(t, string(first.RoomID))
	bob.waitDuetMessage(t, string(alice.ID), "a root to thread on")

	var sent sendOut
	bob.jsonOut(t, &sent, "send", string(alice.ID), "secret in the thread", "--thread", string(first.EventID))
	typ, raw := rawEvent(t, alice.Person, first.RoomID, sent.EventID)
	rel := gjson.GetBytes(raw, `m\.relates_to`)
	if typ != event.EventEncrypted || rel.Get("rel_type").Str != "m.thread" || rel.Get("event_id").Str != string(first.EventID) {
		t.Fatalf("the thread message on the server: %s %s", typ, raw)
	}
	if strings.Contains(string(raw), "secret in the thread") {
		t.Fatalf("plain text on the server: %s", raw)
	}
	hstest.Eventually(t, 30*time.Second, func() string {
		got := alice.threadMessages(t, string(bob.ID), "--thread", string(first.EventID))
		if len(got) != 2 || got[1].Body != "secret in the thread" || !got[1].E2E || got[1].Thread != first.EventID {
			return fmt.Sprintf("alice's thread: %+v", got)
		}
		return ""
	})
}

// A thread stays in the room of its first message: after bob upgrades the DM (the
// conversation goes on in the new room), an answer in a thread of the old room is sent there,
// never into the new room with a relation to an event it does not have.
func TestThreadAnswerStaysInItsRoom(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	alice.login(t)
	old := alice.send(t, string(bob.ID), "hi bob").RoomID
	bob.Join(t, old)
	root := bob.Say(t, old, "shall we plan the trip?")
	alice.waitDuetMessage(t, string(bob.ID), "shall we plan the trip?")
	next := bob.Upgrade(t, old)
	if _, err := bob.Client.InviteUser(hstest.Ctx(t), next, &mautrix.ReqInviteUser{UserID: alice.ID}); err != nil {
		t.Fatal(err)
	}
	hstest.Eventually(t, 20*time.Second, func() string { // alice follows the upgrade (R23)
		var sent sendOut
		alice.jsonOut(t, &sent, "send", string(bob.ID), "in the new room")
		if sent.RoomID != next {
			return fmt.Sprintf("sent to %s, not yet to the new room %s", sent.RoomID, next)
		}
		return ""
	})
	r := alice.run(t, "", "send", string(bob.ID), "in the old thread", "--thread", string(root), "--json")
	t.Logf("send --thread into an upgraded room: exit %d, %s %s", r.code, r.stdout, r.stderr)
	for _, evt := range bob.RawEvents(t, next) {
		if strings.Contains(string(evt.Content.VeryRaw), "in the old thread") {
			t.Fatalf("the thread answer went to the new room, away from its thread: %s", evt.Content.VeryRaw)
		}
	}
	if r.code != 0 {
		t.Fatalf("send --thread into the old room: exit %d, %s", r.code, r.stderr) // Dendrite takes it
	}
	found := false
	for _, evt := range bob.RawEvents(t, old) {
		if strings.Contains(string(evt.Content.VeryRaw), "in the old thread") &&
			gjson.GetBytes(evt.Content.VeryRaw, `m\.relates_to.event_id`).Str == string(root) {
			found = true
		}
	}
	if !found {
		t.Fatal("sent, but not in the old room's thread")
	}
}
