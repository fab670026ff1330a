package chat

import (
	"fmt"
	"slices"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
)

// Polls, from a picked message: a number votes for that answer (where several may be picked, it
// adds or takes back that one), x ends our own poll after asking. The vote shows at once (our
// marks and the counts); the poll as the server has it comes back with the sync's echo.

// endPollMsg is the yes to "End your poll?".
type endPollMsg struct {
	to
	msg matrixsvc.Message
}

// PickedPoll reports whether the picked message is a poll: the status bar then offers its keys.
func (c *Model) PickedPoll() bool {
	msg, ok := c.conv.Picked()
	return ok && msg.Poll != nil && !msg.Redacted
}

// pollHint is what the status bar says on enter or space on a poll: how to vote.
func pollHint(p *matrixsvc.Poll) string {
	n := min(len(p.Answers), 9)
	switch {
	case p.Ended:
		return "this poll has ended: votes no longer count"
	case p.MaxSelections > 1:
		return fmt.Sprintf("press 1-%d to pick or drop an answer (up to %d); x ends your own poll", n, p.MaxSelections)
	}
	return fmt.Sprintf("press 1-%d to vote for that answer (again to change it); x ends your own poll", n)
}

// vote votes for answer n (1 is the first) of the poll msg: with one pick, that answer
// replaces our vote; with several, n is added to or taken out of our picks.
func (c *Model) vote(msg matrixsvc.Message, n int) tea.Cmd {
	p := msg.Poll
	switch {
	case msg.EventID == "" || msg.Redacted:
		c.host.Error("that poll is not sent or was deleted: there is nothing to vote on")
		return nil
	case p.Ended:
		c.host.Error("that poll has ended: votes no longer count")
		return nil
	}
	a, ok := p.Answer(n)
	if !ok {
		c.host.Error(fmt.Sprintf("the poll has %d answers: press 1-%d", len(p.Answers), min(len(p.Answers), 9)))
		return nil
	}
	picks := []string{a.ID}
	if p.MaxSelections > 1 {
		picks = slices.Clone(p.Mine)
		if i := slices.Index(picks, a.ID); i >= 0 {
			picks = slices.Delete(picks, i, i+1)
		} else if len(picks) >= p.MaxSelections {
			c.host.Error(fmt.Sprintf("at most %d answers: press the number of one you picked to drop it first", p.MaxSelections))
			return nil
		} else {
			picks = append(picks, a.ID)
		}
	} else if slices.Equal(p.Mine, picks) {
		c.host.Info("you voted for that already")
		return nil
	}
	c.conv.Changed([]matrixsvc.Message{withOurVote(msg, picks, c.opts.Me)})
	txn := c.host.NewTxn()
	c.edits[txn] = true
	return c.enqueue(matrixsvc.Outgoing{Kind: matrixsvc.KindVote, Room: msg.RoomID, Of: msg.EventID, Answers: picks, TxnID: txn})
}

// withOurVote is the poll msg as it is once our vote picks (none: taken back) counts: our
// marks, and our earlier picks' counts moved to the new ones. The message gets its own poll.
func withOurVote(msg matrixsvc.Message, picks []string, me id.UserID) matrixsvc.Message {
	p := *msg.Poll
	p.Answers = slices.Clone(p.Answers)
	if len(p.Mine) > 0 {
		p.Voters--
	}
	for i := range p.Answers {
		a := &p.Answers[i]
		a.Voters = slices.DeleteFunc(slices.Clone(a.Voters), func(u id.UserID) bool { return u == me })
		if slices.Contains(p.Mine, a.ID) {
			a.Count--
		}
		if slices.Contains(picks, a.ID) {
			a.Count++
			a.Voters = append(a.Voters, me)
		}
	}
	if len(picks) > 0 {
		p.Voters++
	}
	// In the poll's order, as tally gives them.
	p.Mine = nil
	for _, a := range p.Answers {
		if slices.Contains(picks, a.ID) {
			p.Mine = append(p.Mine, a.ID)
		}
	}
	msg.Poll = &p
	return msg
}

// askEndPoll asks before ending our poll msg: it cannot be opened again.
func (c *Model) askEndPoll(msg matrixsvc.Message) {
	switch {
	case msg.Poll == nil:
		c.host.Error("x ends a poll: pick one of yours")
		return
	case msg.Sender != c.opts.Me || msg.EventID == "" || msg.Redacted:
		c.host.Error("only the person who made a poll can end it")
		return
	case msg.Poll.Ended:
		c.host.Info("that poll has ended already")
		return
	}
	key := c.key
	yes := func() tea.Msg { return endPollMsg{to: to{key}, msg: msg} }
	c.host.Ask("End your poll? Votes stop counting and everyone sees the results. y: end it · other key: keep it open", yes, "the poll stays open")
}

// endPollConfirmed ends our poll: shown as ended at once, the end sent through the outbox.
func (c *Model) endPollConfirmed(e endPollMsg) tea.Cmd {
	now := e.msg
	p := *now.Poll
	p.Ended = true
	now.Poll = &p
	c.conv.Changed([]matrixsvc.Message{now})
	txn := c.host.NewTxn()
	c.edits[txn] = true
	return c.enqueue(matrixsvc.Outgoing{Kind: matrixsvc.KindEndPoll, Room: e.msg.RoomID, Of: e.msg.EventID, TxnID: txn})
}

// SendPoll starts a poll with question and answers (IDs made by the outbox) in the
// conversation: disclosed, one answer each. It shows when the server has it.
func (c *Model) SendPoll(question string, answers []string) tea.Cmd {
	target, ok := c.target()
	if !ok {
		return nil
	}
	p := &matrixsvc.Poll{Question: question, Disclosed: true, MaxSelections: 1}
	for _, a := range answers {
		p.Answers = append(p.Answers, matrixsvc.PollAnswer{Text: a})
	}
	txn := c.host.NewTxn()
	c.edits[txn] = true
	c.host.Info("sending the poll…")
	return c.enqueue(matrixsvc.Outgoing{Kind: matrixsvc.KindNewPoll, Room: c.room, Target: target, Poll: p, TxnID: txn})
}
