package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"maunium.net/go/mautrix/id"

	"duet/internal/sanitize"
	"duet/matrixsvc"
)

// send --vote, --end-poll and --poll: through the outbox like a reaction, in the namespace of
// the poll (matrixsvc.sendPollEvent).

// pollEvent reads the EVENT of --vote or --end-poll.
func pollEvent(flag, raw string) (id.EventID, error) {
	evt := id.EventID(strings.TrimSpace(raw))
	if !strings.HasPrefix(string(evt), "$") {
		return "", usagef("--%s %q is not an event ID (they start with $; `duet messages TARGET --json` shows the poll's)", flag, raw)
	}
	return evt, nil
}

// findPoll finds the poll evt in TARGET's room, or for @user in any room of the conversation
// with them (an older room's poll can still be answered).
func findPoll(ctx context.Context, app *App, o *opts, evt id.EventID) (matrixsvc.Message, error) {
	var rooms []id.RoomID
	switch raw := o.pos[0]; {
	case strings.HasPrefix(raw, "!"):
		room, err := roomArg(raw)
		if err != nil {
			return matrixsvc.Message{}, err
		}
		rooms = []id.RoomID{room}
	default:
		var err error
		if rooms, err = conversationRooms(ctx, app, raw); err != nil {
			return matrixsvc.Message{}, err
		}
	}
	for _, room := range rooms {
		msg, err := app.Svc.PollMessage(ctx, room, evt)
		if err == nil {
			return msg, nil
		}
		if !errors.Is(err, matrixsvc.ErrNoPoll) {
			return matrixsvc.Message{}, err
		}
	}
	return matrixsvc.Message{}, fmt.Errorf("unknown poll %s in the conversation with %s: `duet messages %s --json` shows the polls (kind \"poll\")", evt, o.pos[0], o.pos[0])
}

// pollAnswers turns "2,pizza" into answer IDs of p: a number is the answer's place (1 is the
// first), anything else its ID.
func pollAnswers(p *matrixsvc.Poll, raw string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(raw, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		var picked string
		if n, err := strconv.Atoi(f); err == nil {
			a, ok := p.Answer(n)
			if !ok {
				return nil, usagef("answer %d is out of range: the poll has answers 1-%d", n, len(p.Answers))
			}
			picked = a.ID
		} else if i := slices.IndexFunc(p.Answers, func(a matrixsvc.PollAnswer) bool { return a.ID == f }); i >= 0 {
			picked = p.Answers[i].ID
		} else {
			return nil, usagef("the poll has no answer %q: give its number (1-%d) or its ID", sanitize.Line(f), len(p.Answers))
		}
		if !slices.Contains(out, picked) {
			out = append(out, picked)
		}
	}
	switch {
	case len(out) == 0:
		return nil, usagef("give the answers to vote for: their numbers (1-%d) or IDs, separated by commas", len(p.Answers))
	case len(out) > p.MaxSelections:
		return nil, usagef("the poll takes at most %d answer(s); %d given", p.MaxSelections, len(out))
	}
	return out, nil
}

// sendVote votes on the poll --vote with the answers TEXT.
func sendVote(ctx context.Context, env Env, app *App, o *opts) error {
	evt, err := pollEvent("vote", o.vote)
	if err != nil {
		return err
	}
	if len(o.pos) < 2 {
		return usagef("--vote needs the answers: duet send TARGET --vote EVENT 1 (numbers or IDs, separated by commas)")
	}
	poll, err := findPoll(ctx, app, o, evt)
	if err != nil {
		return err
	}
	if poll.Poll.Ended {
		return fmt.Errorf("the poll %s has ended: votes no longer count", evt)
	}
	answers, err := pollAnswers(poll.Poll, o.pos[1])
	if err != nil {
		return err
	}
	return sendQueued(ctx, env, app, o, "vote", evt, func(_ id.RoomID, _ id.UserID, txn string) error {
		return app.Svc.Enqueue(ctx, matrixsvc.Outgoing{Kind: matrixsvc.KindVote, Room: poll.RoomID, Of: evt, Answers: answers, TxnID: txn})
	})
}

// sendEndPoll ends our poll --end-poll.
func sendEndPoll(ctx context.Context, env Env, app *App, o *opts) error {
	evt, err := pollEvent("end-poll", o.endPoll)
	if err != nil {
		return err
	}
	if len(o.pos) > 1 {
		return usagef("--end-poll takes no TEXT")
	}
	poll, err := findPoll(ctx, app, o, evt)
	switch {
	case err != nil:
		return err
	case poll.Sender != app.Svc.Me():
		return fmt.Errorf("the poll %s is not yours: only %s, who made it, can end it", evt, poll.Sender)
	case poll.Poll.Ended:
		return fmt.Errorf("the poll %s has ended already", evt)
	}
	return sendQueued(ctx, env, app, o, "poll end", evt, func(_ id.RoomID, _ id.UserID, txn string) error {
		return app.Svc.Enqueue(ctx, matrixsvc.Outgoing{Kind: matrixsvc.KindEndPoll, Room: poll.RoomID, Of: evt, TxnID: txn})
	})
}

// sendNewPoll starts the poll --poll QUESTION with the --answer's.
func sendNewPoll(ctx context.Context, env Env, app *App, o *opts) error {
	if len(o.pos) > 1 {
		return usagef("--poll takes no TEXT: the answers are --answer A --answer B")
	}
	p := &matrixsvc.Poll{Question: strings.TrimSpace(o.poll), Disclosed: !o.undisclosed, MaxSelections: o.maxAnswers}
	for _, a := range o.answers {
		if a = strings.TrimSpace(a); a != "" {
			p.Answers = append(p.Answers, matrixsvc.PollAnswer{Text: a})
		}
	}
	switch {
	case len(p.Answers) < 2:
		return usagef("a poll needs at least 2 answers: --poll %q --answer A --answer B", o.poll)
	case o.maxAnswers < 1 || o.maxAnswers > len(p.Answers):
		return usagef("--max %d: give 1 to %d (the number of answers)", o.maxAnswers, len(p.Answers))
	}
	return sendQueued(ctx, env, app, o, "poll", "", func(room id.RoomID, user id.UserID, txn string) error {
		return app.Svc.Enqueue(ctx, matrixsvc.Outgoing{Kind: matrixsvc.KindNewPoll, Room: room, Target: user, Poll: p,
			Thread: id.EventID(strings.TrimSpace(o.thread)), TxnID: txn})
	})
}
