package flows

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/tidwall/gjson"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hstest"
	"duet/matrixsvc"
	"duet/ui"
)

// notes records desktop notifications.
type notes struct {
	mu   sync.Mutex
	said []string
}

func (n *notes) Notify(_ context.Context, summary, body string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.said = append(n.said, summary+": "+body)
	return nil
}

func (n *notes) all() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return strings.Join(n.said, " | ")
}

// threadReply sends a message into the thread on root as Element does: m.thread, and a reply
// to the thread's latest event marked is_falling_back.
func threadReply(t *testing.T, p *hstest.Person, room id.RoomID, root, latest id.EventID, body string) id.EventID {
	t.Helper()
	resp, err := p.Client.SendMessageEvent(hstest.Ctx(t), room, event.EventMessage, map[string]any{
		"msgtype": "m.text", "body": body,
		"m.relates_to": map[string]any{"rel_type": "m.thread", "event_id": root, "is_falling_back": true,
			"m.in_reply_to": map[string]any{"event_id": latest}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return resp.EventID
}

// unreadFrom is the unread count of the contact u in svc's list.
func unreadFrom(svc *matrixsvc.Service, u id.UserID) (int, string) {
	ov, err := svc.Overview(context.Background())
	if err != nil {
		return -1, err.Error()
	}
	for _, c := range ov.Contacts {
		if c.UserID == u {
			return c.Unread, fmt.Sprintf("%+v", c)
		}
	}
	return -1, "no contact " + string(u)
}

// A thread as Element sends it, in the UI: a reply in it from bob raises the unread count and
// is notified; in the conversation the reply shows the root it is in and the root its count,
// which goes up live; t on a picked message opens the thread (root and replies only), what is
// written there goes into the thread on the server, and esc comes back to the conversation.
func TestThreadInTheUI(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	room := acceptedDM(t, bob, alice, "hello there", nil)
	root := bob.Say(t, room, "shall we plan the trip?")
	bob.Say(t, room, "unrelated: the cat is fine")

	svc, ctx := runService(t, alice, "")
	n := &notes{}
	s := newScreen(t, svc, ui.New(svc, ui.Options{Context: ctx, Desktop: n}))
	t.Cleanup(func() { _ = s.tm.Quit() })
	s.waitFor("bob in the list", "live", "unrelated: the cat is fine")
	// What the server counts before the thread (its counts may lag: settled once the same
	// twice, past duet's recount).
	before, last := -1, -2
	hstest.Eventually(t, 30*time.Second, func() string {
		got, c := unreadFrom(svc, bob.ID)
		if got < 3 || got != last {
			last = got
			time.Sleep(3 * time.Second)
			return "unread before the thread not settled: " + c
		}
		before = got
		return ""
	})

	r1 := threadReply(t, bob, room, root, root, "May works for me")
	hstest.Eventually(t, 20*time.Second, func() string {
		if got, c := unreadFrom(svc, bob.ID); got != before+1 {
			return "the thread reply is not counted unread: " + c
		}
		if !strings.Contains(n.all(), "May works for me") {
			return "not notified: " + n.all()
		}
		return ""
	})

	s.key(tea.KeyEnter)
	s.waitFor("the thread reply with its root, the root with its count",
		"⤷ in a thread on: Bob: shall we plan the trip?", "May works for me", "💬 1 reply in thread · t opens it")
	s.forget()
	r2 := threadReply(t, bob, room, root, r1, "or early June")
	s.waitFor("the count going up live", "or early June", "💬 2 replies in thread")

	s.forget()
	s.tm.Send(tea.KeyPressMsg{Code: tea.KeyUp, Mod: tea.ModShift})
	s.typeText("t")
	s.waitFor("the thread view", "💬 thread", "esc goes back to the conversation", "shall we plan the trip?", "May works for me", "or early June")
	s.forget()
	s.typeText("count me in")
	s.key(tea.KeyEnter)
	s.waitFor("our message in the thread", "count me in")
	var sent []byte
	hstest.Eventually(t, 20*time.Second, func() string {
		resp, err := bob.Client.Messages(hstest.Ctx(t), room, "", "", mautrix.DirectionBackward, nil, 20)
		if err != nil {
			return err.Error()
		}
		for _, e := range resp.Chunk {
			if e.Sender == alice.ID && e.Type == event.EventMessage {
				raw, _ := json.Marshal(e.Content.Raw)
				if gjson.GetBytes(raw, "body").Str == "count me in" {
					sent = raw
					return ""
				}
			}
		}
		return "not on the server yet"
	})
	rel := gjson.GetBytes(sent, `m\.relates_to`)
	if rel.Get("rel_type").Str != "m.thread" || rel.Get("event_id").Str != string(root) || !rel.Get("is_falling_back").Bool() ||
		rel.Get(`m\.in_reply_to.event_id`).Str != string(r2) {
		t.Fatalf("written in the thread view, on the server: %s", sent)
	}
	if drawn := s.out.String()[s.floor:]; strings.Contains(drawn, "unrelated: the cat is fine") {
		t.Fatalf("the thread view shows a message outside the thread:\n%s", drawn)
	}

	s.forget()
	s.key(tea.KeyEscape)
	s.waitFor("the conversation again, counting our reply", "unrelated: the cat is fine", "💬 3 replies in thread")
}
