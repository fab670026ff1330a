package cli

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hstest"
)

type pollOut struct {
	EventID id.EventID `json:"event_id"`
	Sender  id.UserID  `json:"sender"`
	Kind    string     `json:"kind"`
	Poll    *struct {
		Question string   `json:"question"`
		Ended    bool     `json:"ended"`
		Voters   *int     `json:"voters"`
		Mine     []string `json:"my_answers"`
		Answers  []struct {
			ID     string      `json:"id"`
			Text   string      `json:"text"`
			Count  *int        `json:"count"`
			Voters []id.UserID `json:"voters"`
		} `json:"answers"`
	} `json:"poll"`
}

// counts is a poll's answers as "id=count" in order, for comparing.
func (p pollOut) counts() string {
	var parts []string
	for _, a := range p.Poll.Answers {
		n := -1
		if a.Count != nil {
			n = *a.Count
		}
		parts = append(parts, fmt.Sprintf("%s=%d", a.ID, n))
	}
	return strings.Join(parts, " ")
}

// Polls as Element sends them, in both namespaces, answered from the shell: bob (a plain
// client) asks in org.matrix.msc3381 (as Element does) and in the stable m.poll, and votes
// himself; alice votes with --vote (changing her vote once), starts a poll with --poll and ends
// it with --end-poll. On the server, each response is of its poll's namespace and refers to
// it; `messages --json` counts both people.
func TestPollsFromTheShellInBothNamespaces(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	alice.login(t)
	ctx := hstest.Ctx(t)
	room := bob.CreateRoom(t, true, alice.ID)
	alice.accept(t, string(room))

	unstable, err := bob.Client.SendMessageEvent(ctx, room, event.Type{Type: "org.matrix.msc3381.poll.start", Class: event.MessageEventType}, map[string]any{
		"org.matrix.msc3381.poll.start": map[string]any{
			"kind": "org.matrix.msc3381.poll.disclosed", "max_selections": 1,
			"question": map[string]any{"org.matrix.msc1767.text": "Lunch?"},
			"answers": []map[string]any{
				{"id": "pizza", "org.matrix.msc1767.text": "Pizza"},
				{"id": "soup", "org.matrix.msc1767.text": "Soup"},
			},
		},
		"org.matrix.msc1767.text": "Lunch?\n1. Pizza\n2. Soup",
	})
	if err != nil {
		t.Fatal(err)
	}
	stable, err := bob.Client.SendMessageEvent(ctx, room, event.Type{Type: "m.poll.start", Class: event.MessageEventType}, map[string]any{
		"m.poll": map[string]any{
			"kind": "m.disclosed", "max_selections": 2,
			"question": map[string]any{"m.text": []map[string]any{{"body": "Where?"}}},
			"answers": []map[string]any{
				{"m.id": "park", "m.text": []map[string]any{{"body": "Park"}}},
				{"m.id": "beach", "m.text": []map[string]any{{"body": "Beach"}}},
				{"m.id": "home", "m.text": []map[string]any{{"body": "Home"}}},
			},
		},
		"m.text": []map[string]any{{"body": "Where?\n1. Park\n2. Beach\n3. Home"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Client.SendMessageEvent(ctx, room, event.Type{Type: "org.matrix.msc3381.poll.response", Class: event.MessageEventType}, map[string]any{
		"org.matrix.msc3381.poll.response": map[string]any{"answers": []string{"soup"}},
		"m.relates_to":                     map[string]any{"rel_type": "m.reference", "event_id": unstable.EventID},
	}); err != nil {
		t.Fatal(err)
	}

	polls := func() map[id.EventID]pollOut {
		var out struct {
			Messages []pollOut `json:"messages"`
		}
		alice.jsonOut(t, &out, "messages", string(bob.ID))
		got := map[id.EventID]pollOut{}
		for _, m := range out.Messages {
			if m.Kind == "poll" && m.Poll != nil {
				got[m.EventID] = m
			}
		}
		return got
	}
	hstest.Eventually(t, 20*time.Second, func() string {
		got := polls()
		if got[unstable.EventID].Poll == nil || got[stable.EventID].Poll == nil || got[unstable.EventID].counts() != "pizza=0 soup=1" {
			return fmt.Sprintf("polls: %+v", got)
		}
		return ""
	})

	// Alice votes soup, then changes to pizza (by number); on the stable poll beach and home
	// (by ID and number).
	var v1, v2, v3 sendOut
	alice.jsonOut(t, &v1, "send", string(bob.ID), "--vote", string(unstable.EventID), "2")
	alice.jsonOut(t, &v2, "send", string(bob.ID), "--vote", string(unstable.EventID), "1")
	alice.jsonOut(t, &v3, "send", string(bob.ID), "--vote", string(stable.EventID), "beach,3")
	for _, v := range []sendOut{v1, v2, v3} {
		if v.RoomID != room || !strings.HasPrefix(string(v.EventID), "$") {
			t.Fatalf("vote sent: %+v", v)
		}
	}

	// What the server has: each response in its poll's namespace, referring to the poll.
	raw := map[id.EventID]*event.Event{}
	resp, err := bob.Client.Messages(ctx, room, "", "", mautrix.DirectionBackward, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range resp.Chunk {
		raw[e.ID] = e
	}
	for _, c := range []struct {
		evt      id.EventID
		typ      string
		poll     id.EventID
		answers  string // the path to the answers
		selected []string
	}{
		{v1.EventID, "org.matrix.msc3381.poll.response", unstable.EventID, "org.matrix.msc3381.poll.response", []string{"soup"}},
		{v2.EventID, "org.matrix.msc3381.poll.response", unstable.EventID, "org.matrix.msc3381.poll.response", []string{"pizza"}},
		{v3.EventID, "m.poll.response", stable.EventID, "m.selections", []string{"beach", "home"}},
	} {
		e := raw[c.evt]
		if e == nil {
			t.Fatalf("the server has no %s", c.evt)
		}
		var content map[string]json.RawMessage
		if err := json.Unmarshal(e.Content.VeryRaw, &content); err != nil {
			t.Fatal(err)
		}
		var rel struct {
			Type    string     `json:"rel_type"`
			EventID id.EventID `json:"event_id"`
		}
		_ = json.Unmarshal(content["m.relates_to"], &rel)
		var answers []string
		if c.answers == "m.selections" {
			_ = json.Unmarshal(content["m.selections"], &answers)
		} else {
			var r struct {
				Answers []string `json:"answers"`
			}
			_ = json.Unmarshal(content[c.answers], &r)
			answers = r.Answers
		}
		if e.Type.Type != c.typ || e.Sender != alice.ID || rel.Type != "m.reference" || rel.EventID != c.poll || !slices.Equal(answers, c.selected) {
			t.Fatalf("on the server: %s from %s, relates %+v, answers %v; want %s to %s with %v:\n%s",
				e.Type.Type, e.Sender, rel, answers, c.typ, c.poll, c.selected, e.Content.VeryRaw)
		}
	}

	// Counted: alice's latest vote and bob's.
	hstest.Eventually(t, 20*time.Second, func() string {
		got := polls()
		u, s := got[unstable.EventID], got[stable.EventID]
		if u.counts() != "pizza=1 soup=1" || u.Poll.Voters == nil || *u.Poll.Voters != 2 || !slices.Equal(u.Poll.Mine, []string{"pizza"}) ||
			s.counts() != "park=0 beach=1 home=1" || !slices.Equal(s.Poll.Mine, []string{"beach", "home"}) {
			return fmt.Sprintf("unstable %s %+v, stable %s %+v", u.counts(), u.Poll, s.counts(), s.Poll)
		}
		return ""
	})
	if plain := alice.ok(t, "", "messages", string(bob.ID)); !strings.Contains(plain, "1. Pizza  1 vote  (your vote)") || !strings.Contains(plain, "2. Soup  1 vote\n") {
		t.Fatalf("messages:\n%s", plain)
	}

	// Mistakes are said plainly and send nothing.
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"--vote", string(unstable.EventID), "3"}, 2, "answer 3 is out of range: the poll has answers 1-2"},
		{[]string{"--vote", string(unstable.EventID), "caviar"}, 2, `the poll has no answer "caviar"`},
		{[]string{"--vote", string(unstable.EventID), "1,2"}, 2, "at most 1 answer"},
		{[]string{"--vote", "$nope", "1"}, 1, "unknown poll $nope"},
		{[]string{"--vote", string(unstable.EventID)}, 2, "--vote needs the answers"},
		{[]string{"--end-poll", string(unstable.EventID)}, 1, "is not yours: only " + string(bob.ID)},
		{[]string{"--poll", "Tea?", "--answer", "yes"}, 2, "at least 2 answers"},
		{[]string{"--answer", "yes"}, 2, "go with --poll"},
	} {
		r := alice.run(t, "", append([]string{"send", string(bob.ID)}, c.args...)...)
		if r.code != c.code || !strings.Contains(r.stderr, c.says) {
			t.Errorf("send %v: exit %d, %q; want %d, %q", c.args, r.code, r.stderr, c.code, c.says)
		}
	}

	// Alice's own poll, started and ended from the shell.
	var mine, end sendOut
	alice.jsonOut(t, &mine, "send", string(bob.ID), "--poll", "Tea or coffee?", "--answer", "Tea", "--answer", "Coffee", "--undisclosed")
	alice.jsonOut(t, &end, "send", string(bob.ID), "--end-poll", string(mine.EventID))
	hstest.Eventually(t, 20*time.Second, func() string {
		start, err1 := bob.Client.GetEvent(ctx, room, mine.EventID)
		stop, err2 := bob.Client.GetEvent(ctx, room, end.EventID)
		if err1 != nil || err2 != nil {
			return fmt.Sprintf("%v %v", err1, err2)
		}
		if start.Type.Type != "org.matrix.msc3381.poll.start" || !strings.Contains(string(start.Content.VeryRaw), `"org.matrix.msc3381.poll.undisclosed"`) ||
			stop.Type.Type != "org.matrix.msc3381.poll.end" || !strings.Contains(string(stop.Content.VeryRaw), string(mine.EventID)) {
			return fmt.Sprintf("start %s %s, end %s %s", start.Type.Type, start.Content.VeryRaw, stop.Type.Type, stop.Content.VeryRaw)
		}
		return ""
	})
	if got := polls()[mine.EventID]; got.Poll == nil || got.Poll.Question != "Tea or coffee?" || !got.Poll.Ended || got.counts() != "1=0 2=0" {
		t.Fatalf("alice's poll: %+v", got)
	}
}
