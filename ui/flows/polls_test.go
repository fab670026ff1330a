package flows

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hstest"
)

// A poll bob sends in the stable m.poll form is voted on in the UI: picked, 2 votes for the
// second answer, 1 changes the vote; each reaches the server as an m.poll.response referring
// to the poll, and the screen marks our vote and counts bob's. An answer with an escape
// sequence is drawn inert.
func TestVoteOnAPollInTheUI(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	room := acceptedDM(t, bob, alice, "a question for you", nil)
	ctx := hstest.Ctx(t)

	s := start(t, alice)
	s.waitFor("bob in the list", "live", "a question for you")
	s.key(tea.KeyEnter)
	s.waitFor("the conversation", "Bob: a question for you")

	const osc52 = "\x1b]52;c;aGk=\x07"
	answer := func(id, text string) map[string]any {
		return map[string]any{"m.id": id, "m.text": []map[string]any{{"body": text}}}
	}
	sent, err := bob.Client.SendMessageEvent(ctx, room, event.Type{Type: "m.poll.start", Class: event.MessageEventType}, map[string]any{
		"m.poll": map[string]any{
			"kind": "m.disclosed", "max_selections": 1,
			"question": map[string]any{"m.text": []map[string]any{{"body": "Lunch?"}}},
			"answers":  []map[string]any{answer("pizza", "Pizza"), answer("soup", "Soup "+osc52)},
		},
		"m.text": []map[string]any{{"body": "Lunch?\n1. Pizza\n2. Soup"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	poll := sent.EventID
	if _, err := bob.Client.SendMessageEvent(ctx, room, event.Type{Type: "m.poll.response", Class: event.MessageEventType}, map[string]any{
		"m.selections": []string{"pizza"}, "m.relates_to": map[string]any{"rel_type": "m.reference", "event_id": poll},
	}); err != nil {
		t.Fatal(err)
	}
	s.waitFor("the poll with bob's vote", "Lunch?", "○ 1. Pizza", "○ 2. Soup ␛]52;c;aGk=␇", "1 vote")
	s.forget()

	s.tm.Send(tea.KeyPressMsg{Code: tea.KeyUp, Mod: tea.ModShift})
	s.waitFor("the poll's keys in the status bar", "1-9 vote on a poll", "x end your poll")
	s.key(tea.KeyEnter)
	s.waitFor("how to vote", "press 1-2 to vote")
	s.typeText("2")
	s.waitFor("our vote", "● 2. Soup", "2 votes")
	waitForVotes(t, bob, room, poll, alice.ID, []string{"soup"})
	s.forget()
	s.typeText("1")
	s.waitFor("the changed vote", "● 1. Pizza", "○ 2. Soup")
	waitForVotes(t, bob, room, poll, alice.ID, []string{"soup"}, []string{"pizza"})
	if bytes.Contains(s.raw.Bytes(), []byte("\x1b]52;")) {
		t.Fatalf("the answer's escape sequence reached the terminal:\n%q", s.raw.String())
	}
}

// waitForVotes waits until the server holds, from voter, m.poll.response events to poll picking
// each of want in order (oldest first), and nothing else from them.
func waitForVotes(t *testing.T, p *hstest.Person, room id.RoomID, poll id.EventID, voter id.UserID, want ...[]string) {
	t.Helper()
	hstest.Eventually(t, 20*time.Second, func() string {
		resp, err := p.Client.Messages(hstest.Ctx(t), room, "", "", mautrix.DirectionBackward, nil, 100)
		if err != nil {
			return err.Error()
		}
		var got [][]string
		for _, e := range slices.Backward(resp.Chunk) {
			if e.Sender != voter || e.StateKey != nil || e.Type.Type == "m.room.message" {
				continue
			}
			var c struct {
				Selections []string `json:"m.selections"`
				Rel        struct {
					Type    string     `json:"rel_type"`
					EventID id.EventID `json:"event_id"`
				} `json:"m.relates_to"`
			}
			_ = json.Unmarshal(e.Content.VeryRaw, &c)
			if e.Type.Type != "m.poll.response" || c.Rel.Type != "m.reference" || c.Rel.EventID != poll {
				t.Fatalf("%s sent %s: %s", voter, e.Type.Type, e.Content.VeryRaw)
			}
			got = append(got, c.Selections)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Sprintf("votes on the server %v, want %v", got, want)
		}
		return ""
	})
}
