package chat

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
	"duet/ui/contacts"
	"duet/ui/conversation"
	"duet/ui/keys"
	"duet/ui/styles"
)

// A conversation stands on its own: these tests drive one chat.Model with a fake of the roles
// it uses (Service) and of the screen around it (Host), no root model involved.

const (
	me    = id.UserID("@me:example.org")
	bob   = id.UserID("@bob:example.org")
	room  = id.RoomID("!bob:example.org")
	first = id.EventID("$1")
)

// fakeService answers from memory and records what was written to the outbox.
type fakeService struct {
	history []matrixsvc.Message
	sent    []matrixsvc.Outgoing
}

func (f *fakeService) History(context.Context, id.RoomID, string, int) ([]matrixsvc.Message, string, error) {
	return f.history, "", nil
}
func (f *fakeService) ThreadMessages(_ context.Context, _ id.RoomID, root id.EventID, _ int) ([]matrixsvc.Message, bool, bool, error) {
	var out []matrixsvc.Message
	found := false
	for _, m := range f.history {
		if m.EventID == root || m.Thread == root {
			found = found || m.EventID == root
			out = append(out, m)
		}
	}
	return out, found, false, nil
}
func (f *fakeService) Conversation(context.Context, id.UserID) ([]matrixsvc.ConversationRoom, error) {
	return []matrixsvc.ConversationRoom{{RoomID: room}}, nil
}
func (f *fakeService) Receipts(context.Context, id.RoomID) (map[id.UserID]id.EventID, error) {
	return nil, nil
}
func (f *fakeService) MemberNames(context.Context, id.RoomID) (map[id.UserID]string, error) {
	return nil, nil
}
func (f *fakeService) RoomEncrypted(context.Context, id.RoomID) bool { return true }
func (f *fakeService) Download(context.Context, *matrixsvc.Media, int64) ([]byte, error) {
	return nil, nil
}
func (f *fakeService) SaveMedia(context.Context, *matrixsvc.Media, string) (string, error) {
	return "", nil
}
func (f *fakeService) OpenMedia(context.Context, *matrixsvc.Media, string) (string, error) {
	return "", nil
}
func (f *fakeService) Enqueue(_ context.Context, o matrixsvc.Outgoing) error {
	f.sent = append(f.sent, o)
	return nil
}
func (f *fakeService) Outbox(context.Context) ([]matrixsvc.Outgoing, error) { return nil, nil }
func (f *fakeService) RetryOutgoing(context.Context, string) error          { return nil }
func (f *fakeService) OpenDM(context.Context, id.UserID) (id.RoomID, bool, error) {
	return room, false, nil
}
func (f *fakeService) SetTyping(context.Context, id.RoomID, bool, time.Duration) error { return nil }
func (f *fakeService) MarkRead(context.Context, id.RoomID, id.EventID) error           { return nil }
func (f *fakeService) MarkConversationRead(context.Context, id.UserID) error           { return nil }
func (f *fakeService) PeerTrust(context.Context, id.UserID) (matrixsvc.PeerTrust, error) {
	return matrixsvc.PeerTrust{Verified: true}, nil
}

// fakeHost is the screen around the conversation.
type fakeHost struct {
	err, info string
	question  string
	yes       tea.Cmd
	draft     string
	txns      int
}

func (h *fakeHost) Error(s string) { h.err = s }
func (h *fakeHost) Info(s string)  { h.info = s }
func (h *fakeHost) Ask(q string, yes tea.Cmd, _ string) {
	h.question, h.yes = q, yes
}
func (h *fakeHost) Draft() string        { return h.draft }
func (h *fakeHost) SetDraft(s string)    { h.draft = s }
func (h *fakeHost) Copy(string) tea.Cmd  { return nil }
func (h *fakeHost) RefreshList() tea.Cmd { return nil }
func (h *fakeHost) ImageID() uint32      { return 1 }
func (h *fakeHost) NewTxn() string       { h.txns++; return "txn" + strconv.Itoa(h.txns) }
func (h *fakeHost) Yes(t *testing.T) tea.Msg {
	t.Helper()
	if h.yes == nil {
		t.Fatal("nothing was asked")
	}
	return h.yes()
}

// run runs a Cmd and hands every message for the conversation back to it, as the root does.
func run(c *Model, cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	switch msg := cmd().(type) {
	case tea.BatchMsg:
		for _, cmd := range msg {
			run(c, cmd)
		}
	case Msg:
		run(c, c.Update(msg))
	}
}

func newChat(t *testing.T, history ...matrixsvc.Message) (*Model, *fakeService, *fakeHost) {
	t.Helper()
	svc, host := &fakeService{history: history}, &fakeHost{}
	now := func() time.Time { return time.Date(2026, 3, 2, 15, 30, 0, 0, time.UTC) }
	opts := Options{Keys: keys.DefaultKeyMap(), Styles: styles.Default(), Me: me, Now: now}
	it := contacts.Item{Kind: contacts.KindContact, UserID: bob, Name: "Bob", RoomID: room}
	c := New(svc, host, opts, it)
	c.SetSize(60, 20)
	run(c, c.Start())
	return c, svc, host
}

func bobSays(evt id.EventID, body string) matrixsvc.Message {
	return matrixsvc.Message{RoomID: room, EventID: evt, Sender: bob, Body: body, MsgType: "m.text",
		Timestamp: time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)}
}

func TestSendShowsAtOnceAndGoesToThePerson(t *testing.T) {
	c, svc, _ := newChat(t)
	run(c, c.Send("hello", false))
	if len(svc.sent) != 1 {
		t.Fatalf("enqueued %d messages, want 1", len(svc.sent))
	}
	o := svc.sent[0]
	if o.Kind != matrixsvc.KindText || o.Target != bob || o.Room != room || o.Body != "hello" || o.TxnID != "txn1" {
		t.Fatalf("enqueued %+v", o)
	}
	if body, _, state, ok := c.Timeline().Echo("txn1"); !ok || body != "hello" || state != conversation.Queued {
		t.Fatalf("echo: %q %v %v", body, state, ok)
	}
	if !c.Owns("txn1") {
		t.Fatal("the conversation does not own its own message")
	}
	run(c, c.OutgoingChanged(matrixsvc.OutgoingChanged{TxnID: "txn1", Room: room, State: matrixsvc.OutgoingSent, EventID: "$sent"}))
	if _, _, state, _ := c.Timeline().Echo("txn1"); state != conversation.Sent {
		t.Fatalf("after the server took it: %v", state)
	}
	if !strings.Contains(strings.Join(c.View(60, true), "\n"), "hello") {
		t.Fatal("the message is not drawn")
	}
}

func TestReactionIsSentOnceAndNotTakenBackWhilePending(t *testing.T) {
	c, svc, host := newChat(t, bobSays(first, "lunch?"))
	if !c.StartPick() {
		t.Fatalf("nothing to pick: %s", host.info)
	}
	cmd, next := c.PickKey(tea.KeyPressMsg{Code: '+', Text: "+"})
	run(c, cmd)
	if next != StayPicking || !c.Reacting() {
		t.Fatalf("+ did not start a reaction (next %v)", next)
	}
	cmd, _ = c.PickKey(tea.KeyPressMsg{Code: '1', Text: "1"})
	run(c, cmd)
	if len(svc.sent) != 1 || svc.sent[0].Kind != matrixsvc.KindReaction || svc.sent[0].Of != first || svc.sent[0].Key != "👍" {
		t.Fatalf("enqueued %+v", svc.sent)
	}
	// The same reaction again while the server has not got the first: not taken back yet.
	run(c, mustPick(t, c, '+'))
	run(c, mustPick(t, c, '1'))
	if len(svc.sent) != 1 || !strings.Contains(host.err, "still being sent") {
		t.Fatalf("a pending reaction was taken back: %+v, %q", svc.sent, host.err)
	}
}

func mustPick(t *testing.T, c *Model, r rune) tea.Cmd {
	t.Helper()
	cmd, _ := c.PickKey(tea.KeyPressMsg{Code: r, Text: string(r)})
	return cmd
}

func TestEmptiedEditAsksThenDeletes(t *testing.T) {
	mine := matrixsvc.Message{RoomID: room, EventID: "$mine", Sender: me, Body: "typo", MsgType: "m.text",
		Timestamp: time.Date(2026, 3, 2, 15, 1, 0, 0, time.UTC)}
	c, svc, host := newChat(t, mine)
	host.draft = "half a thought"
	if !c.EditLast() || !c.Editing() || host.draft != "typo" {
		t.Fatalf("edit not started: editing %v, composer %q", c.Editing(), host.draft)
	}
	run(c, c.SendEmptiedEdit())
	if len(svc.sent) != 0 || !strings.HasPrefix(host.question, "Delete your message?") {
		t.Fatalf("deleted without asking: %+v, %q", svc.sent, host.question)
	}
	if host.draft != "half a thought" {
		t.Fatalf("the draft did not come back: %q", host.draft)
	}
	run(c, c.Update(host.Yes(t).(Msg)))
	if len(svc.sent) != 1 || svc.sent[0].Kind != matrixsvc.KindRedaction || svc.sent[0].Of != "$mine" {
		t.Fatalf("enqueued %+v", svc.sent)
	}
}
