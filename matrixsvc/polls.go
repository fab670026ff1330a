package matrixsvc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/store"
)

// threadsAndPolls fills in, for msgs of one room (ids their event IDs), how many replies each
// thread root has and what each poll's votes and end say.
func (s *Service) threadsAndPolls(ctx context.Context, room id.RoomID, msgs []Message, ids []id.EventID) error {
	counts, err := s.store.ThreadCounts(ctx, room, ids)
	if err != nil {
		return err
	}
	var polls []id.EventID
	for i := range msgs {
		msgs[i].ThreadReplies = counts[msgs[i].EventID]
		if msgs[i].Poll != nil && !msgs[i].Redacted {
			polls = append(polls, msgs[i].EventID)
		}
	}
	if len(polls) == 0 {
		return nil
	}
	votes, err := s.store.Votes(ctx, room, polls)
	if err != nil {
		return err
	}
	ends, err := s.store.Related(ctx, room, polls)
	if err != nil {
		return err
	}
	encrypted := s.RoomEncrypted(ctx, room)
	joined := func(u id.UserID) bool {
		m, err := s.store.State.TryGetMember(ctx, room, u)
		return err == nil && m != nil && m.Membership == event.MembershipJoin
	}
	for i := range msgs {
		m := &msgs[i]
		if m.Poll == nil || m.Redacted {
			continue
		}
		p := *m.Poll // the message's own copy: msgs may share the stored poll's answers
		p.Answers = slices.Clone(p.Answers)
		tally(&p, pollOwn{creator: m.Sender, e2e: m.E2E, encrypted: encrypted, me: s.me, joined: joined},
			votes[m.EventID], endsOf(ends, m.EventID))
		m.Poll = &p
	}
	return nil
}

func endsOf(evts []store.Event, poll id.EventID) []store.Event {
	var out []store.Event
	for _, e := range evts {
		if e.Rel == poll && e.Kind == string(KindPollEnd) {
			out = append(out, e)
		}
	}
	return out
}

// pollOwn is what tally needs to know of a poll besides its votes: who made it, whether it came
// encrypted and the room is encrypted now, who we are and who is in the room.
type pollOwn struct {
	creator   id.UserID
	e2e       bool
	encrypted bool
	me        id.UserID
	joined    func(id.UserID) bool
}

// tally counts a poll's votes by the spec's rules: the poll ends at the first end event from
// its creator; each joined member's latest response (by timestamp) sent before that counts,
// even a spoiled one (no valid answer), which cancels their earlier vote; answers the poll does
// not have are dropped and at most max_selections are taken. In an encrypted room, or for a
// poll that came encrypted, a vote or an end that came in plain text counts for nothing: the
// server could have made it up.
func tally(p *Poll, own pollOwn, votes []store.Vote, ends []store.Event) {
	strict := own.encrypted || own.e2e
	p.Tallied = true
	var endTS int64
	for _, e := range ends {
		if e.Sender != own.creator || e.Redacted || strict && !e.E2E {
			continue
		}
		if !p.Ended || e.TS < endTS {
			p.Ended, endTS, p.EndedBy = true, e.TS, e.Sender
		}
	}
	if p.Ended {
		p.EndedAt = time.UnixMilli(endTS)
	}
	latest := map[id.UserID]store.Vote{}
	var order []id.UserID
	for _, v := range votes {
		if strict && !v.E2E || p.Ended && v.TS > endTS || !own.joined(v.Sender) {
			continue
		}
		old, seen := latest[v.Sender]
		if !seen {
			order = append(order, v.Sender)
		}
		if !seen || v.TS > old.TS || v.TS == old.TS && v.EventID > old.EventID {
			latest[v.Sender] = v
		}
	}
	index := map[string]int{}
	for i, a := range p.Answers {
		index[a.ID] = i
	}
	for _, u := range order {
		var picked []string
		for _, a := range latest[u].Answers {
			if _, ok := index[a]; ok && !slices.Contains(picked, a) && len(picked) < p.MaxSelections {
				picked = append(picked, a)
			}
		}
		if len(picked) == 0 {
			continue // spoiled: it counts for nothing, and their earlier vote no longer counts
		}
		p.Voters++
		for _, a := range picked {
			ans := &p.Answers[index[a]]
			ans.Count++
			ans.Voters = append(ans.Voters, u)
		}
		p.Votes = append(p.Votes, UserVotes{User: u, Answers: picked})
		if u == own.me {
			p.Mine = picked
		}
	}
}

// ErrNoPoll is an event duet does not have as a poll in that room.
var ErrNoPoll = errors.New("no such poll")

// PollMessage is the poll evt of room as it is counted now (its votes and end), with who made
// it; ErrNoPoll when the store has no poll by that ID there (not synced, or not a poll).
func (s *Service) PollMessage(ctx context.Context, room id.RoomID, evt id.EventID) (Message, error) {
	m, err := s.pollEvent(ctx, room, evt)
	if err != nil {
		return Message{}, err
	}
	msgs := []Message{m}
	if err := s.threadsAndPolls(ctx, room, msgs, []id.EventID{evt}); err != nil {
		return Message{}, err
	}
	return msgs[0], nil
}

// pollEvent is the stored poll evt of room as it was sent, its votes not counted; ErrNoPoll
// when it is not stored, is no poll or was deleted.
func (s *Service) pollEvent(ctx context.Context, room id.RoomID, evt id.EventID) (Message, error) {
	evts, err := s.store.EventsByID(ctx, room, []id.EventID{evt})
	if err != nil {
		return Message{}, err
	}
	if len(evts) != 1 || evts[0].Kind != string(KindPoll) {
		return Message{}, fmt.Errorf("%w: %s in %s", ErrNoPoll, evt, room)
	}
	m := fromStored(evts[0])
	if m.Poll == nil || m.Redacted {
		return Message{}, fmt.Errorf("%w: %s was deleted", ErrNoPoll, evt)
	}
	return m, nil
}
