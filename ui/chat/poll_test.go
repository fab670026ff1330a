package chat

import (
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
)

func pollBy(sender id.UserID, evt id.EventID, max int, mine ...string) matrixsvc.Message {
	p := &matrixsvc.Poll{Question: "Lunch?", Disclosed: true, MaxSelections: max, Tallied: true,
		Answers: []matrixsvc.PollAnswer{{ID: "pizza", Text: "Pizza"}, {ID: "soup", Text: "Soup"}, {ID: "salad", Text: "Salad"}}}
	// Bob voted for soup; our own picks are mine.
	p.Answers[1].Count, p.Answers[1].Voters, p.Voters = 1, []id.UserID{bob}, 1
	for _, a := range mine {
		i := slices.IndexFunc(p.Answers, func(x matrixsvc.PollAnswer) bool { return x.ID == a })
		p.Answers[i].Count++
		p.Answers[i].Voters = append(p.Answers[i].Voters, me)
	}
	if len(mine) > 0 {
		p.Voters++
	}
	p.Mine = mine
	return matrixsvc.Message{RoomID: room, EventID: evt, Sender: sender, Kind: matrixsvc.KindPoll, MsgType: "m.poll.start", Body: "Lunch?", Poll: p,
		Timestamp: time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)}
}

func view(c *Model) string { return strings.Join(c.View(60, true), "\n") }

func TestNumberVotesAndAnotherNumberChangesTheVote(t *testing.T) {
	c, svc, host := newChat(t, pollBy(bob, "$poll", 1))
	if !c.StartPick() {
		t.Fatal("nothing to pick")
	}
	run(c, mustPick(t, c, '1'))
	if len(svc.sent) != 1 {
		t.Fatalf("enqueued %+v (%q)", svc.sent, host.err)
	}
	if o := svc.sent[0]; o.Kind != matrixsvc.KindVote || o.Room != room || o.Of != "$poll" || !slices.Equal(o.Answers, []string{"pizza"}) {
		t.Fatalf("enqueued %+v", o)
	}
	// It shows at once: our mark, and the counts with our vote.
	if v := view(c); !strings.Contains(v, "● 1. Pizza") || !strings.Contains(v, "○ 2. Soup") || !strings.Contains(v, "2 votes") {
		t.Fatalf("the vote does not show:\n%s", v)
	}
	// Another number replaces the vote; the same one again sends nothing.
	run(c, mustPick(t, c, '2'))
	run(c, mustPick(t, c, '2'))
	if len(svc.sent) != 2 || !slices.Equal(svc.sent[1].Answers, []string{"soup"}) {
		t.Fatalf("enqueued %+v", svc.sent)
	}
	if v := view(c); !strings.Contains(v, "○ 1. Pizza") || !strings.Contains(v, "● 2. Soup   ████████ 2") {
		t.Fatalf("the changed vote does not show:\n%s", v)
	}
	// No such answer: said, nothing sent.
	run(c, mustPick(t, c, '7'))
	if len(svc.sent) != 2 || !strings.Contains(host.err, "press 1-3") {
		t.Fatalf("answer 7 of 3: %+v, %q", svc.sent, host.err)
	}
	// Enter says how to vote rather than starting a reply.
	cmd, next := c.PickKey(tea.KeyPressMsg{Code: tea.KeyEnter})
	run(c, cmd)
	if next != StayPicking || !strings.Contains(host.info, "press 1-3 to vote") {
		t.Fatalf("enter on a poll: next %v, %q", next, host.info)
	}
}

func TestSeveralPicksToggle(t *testing.T) {
	c, svc, host := newChat(t, pollBy(bob, "$poll", 2, "pizza"))
	c.StartPick()
	run(c, mustPick(t, c, '3'))
	run(c, mustPick(t, c, '2'))
	run(c, mustPick(t, c, '1'))
	want := [][]string{{"pizza", "salad"}}
	if len(svc.sent) != 2 || !slices.Equal(svc.sent[0].Answers, want[0]) || !slices.Equal(svc.sent[1].Answers, []string{"salad"}) {
		t.Fatalf("enqueued %+v", svc.sent)
	}
	if !strings.Contains(host.err, "at most 2") {
		t.Fatalf("a third pick of 2: %q", host.err)
	}
}

func TestEndingOurPollAsksFirst(t *testing.T) {
	c, svc, host := newChat(t, pollBy(bob, "$theirs", 1), pollBy(me, "$ours", 1))
	c.StartPick() // the newest: ours
	run(c, mustPick(t, c, 'x'))
	if len(svc.sent) != 0 || !strings.HasPrefix(host.question, "End your poll?") {
		t.Fatalf("ended without asking: %+v, %q", svc.sent, host.question)
	}
	run(c, c.Update(host.Yes(t).(Msg)))
	if len(svc.sent) != 1 || svc.sent[0].Kind != matrixsvc.KindEndPoll || svc.sent[0].Of != "$ours" {
		t.Fatalf("enqueued %+v", svc.sent)
	}
	if v := view(c); !strings.Contains(v, "(ended)") {
		t.Fatalf("the end does not show:\n%s", v)
	}
	// Voting on an ended poll, or ending someone else's, is refused.
	run(c, mustPick(t, c, '1'))
	if len(svc.sent) != 1 || !strings.Contains(host.err, "ended") {
		t.Fatalf("voted on an ended poll: %+v, %q", svc.sent, host.err)
	}
	host.question = ""
	run(c, mustPick(t, c, 'k'))
	run(c, mustPick(t, c, 'x'))
	if len(svc.sent) != 1 || host.question != "" || !strings.Contains(host.err, "only the person who made a poll") {
		t.Fatalf("ended their poll: %+v, %q %q", svc.sent, host.question, host.err)
	}
}
