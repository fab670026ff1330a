package matrixsvc

import (
	"fmt"
	"slices"
	"testing"

	"maunium.net/go/mautrix/id"

	"duet/store"
)

// tally counts a poll as the spec says; each case changes one thing from a plain poll where
// Bob voted for pizza, so its counts say which rule applied.
func TestTallyFollowsTheSpec(t *testing.T) {
	const (
		alice = id.UserID("@alice:x") // made the poll
		bob   = id.UserID("@bob:x")
		carol = id.UserID("@carol:x")
		me    = id.UserID("@me:x")
		gone  = id.UserID("@gone:x") // not in the room
	)
	vote := func(who id.UserID, ts int64, answers ...string) store.Vote {
		return store.Vote{EventID: id.EventID(fmt.Sprintf("$%s%d", who[1:2], ts)), Sender: who, TS: ts, Answers: answers, E2E: true}
	}
	end := func(who id.UserID, ts int64) store.Event {
		return store.Event{ID: id.EventID(fmt.Sprintf("$end%d", ts)), Sender: who, TS: ts, Kind: string(KindPollEnd), E2E: true}
	}
	plain := func(v store.Vote) store.Vote { v.E2E = false; return v }
	for _, c := range []struct {
		name      string
		max       int
		encrypted bool
		votes     []store.Vote
		ends      []store.Event
		counts    string // pizza soup salad
		voters    int
		mine      []string
		ended     bool
	}{
		{name: "one vote", votes: []store.Vote{vote(bob, 10, "pizza")}, counts: "1 0 0", voters: 1},
		{name: "the latest vote wins, whatever order they come in",
			votes: []store.Vote{vote(bob, 30, "salad"), vote(bob, 10, "pizza"), vote(bob, 20, "soup")}, counts: "0 0 1", voters: 1},
		{name: "a vote after the end does not count",
			votes: []store.Vote{vote(bob, 10, "pizza"), vote(bob, 30, "soup"), vote(carol, 40, "salad")},
			ends:  []store.Event{end(alice, 20)}, counts: "1 0 0", voters: 1, ended: true},
		{name: "an end from someone else is ignored",
			votes: []store.Vote{vote(bob, 10, "pizza"), vote(bob, 30, "soup")},
			ends:  []store.Event{end(bob, 20)}, counts: "0 1 0", voters: 1},
		{name: "the creator's first end counts",
			votes: []store.Vote{vote(bob, 10, "pizza"), vote(carol, 30, "soup")},
			ends:  []store.Event{end(alice, 40), end(alice, 20)}, counts: "1 0 0", voters: 1, ended: true},
		{name: "a spoiled vote cancels the earlier one",
			votes:  []store.Vote{vote(bob, 10, "pizza"), vote(bob, 20), vote(carol, 15, "soup"), vote(carol, 25, "nope")},
			counts: "0 0 0", voters: 0},
		{name: "max_selections keeps the first answers", max: 2,
			votes: []store.Vote{vote(bob, 10, "salad", "pizza", "soup")}, counts: "1 0 1", voters: 1},
		{name: "one selection by default", max: 1,
			votes: []store.Vote{vote(bob, 10, "soup", "pizza")}, counts: "0 1 0", voters: 1},
		{name: "unknown answer IDs are dropped",
			votes: []store.Vote{vote(bob, 10, "caviar", "soup"), vote(carol, 10, "soup", "soup")}, counts: "0 2 0", voters: 2},
		{name: "someone not in the room is not counted",
			votes: []store.Vote{vote(gone, 10, "pizza"), vote(bob, 10, "soup")}, counts: "0 1 0", voters: 1},
		{name: "a plain vote in an encrypted room is not counted", encrypted: true,
			votes: []store.Vote{plain(vote(bob, 10, "pizza")), vote(carol, 10, "soup")}, counts: "0 1 0", voters: 1},
		{name: "a plain end in an encrypted room is not believed", encrypted: true,
			votes: []store.Vote{vote(bob, 30, "pizza")},
			ends:  []store.Event{{ID: "$end", Sender: alice, TS: 20, Kind: string(KindPollEnd)}}, counts: "1 0 0", voters: 1},
		{name: "a plain vote counts in a plain room",
			votes: []store.Vote{plain(vote(bob, 10, "pizza"))}, counts: "1 0 0", voters: 1},
		{name: "our vote is ours", votes: []store.Vote{vote(me, 10, "salad"), vote(bob, 10, "salad")},
			counts: "0 0 2", voters: 2, mine: []string{"salad"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := &Poll{Question: "Lunch?", Disclosed: true, MaxSelections: max(c.max, 1),
				Answers: []PollAnswer{{ID: "pizza", Text: "Pizza"}, {ID: "soup", Text: "Soup"}, {ID: "salad", Text: "Salad"}}}
			own := pollOwn{creator: alice, e2e: c.encrypted, encrypted: c.encrypted, me: me,
				joined: func(u id.UserID) bool { return u != gone }}
			tally(p, own, c.votes, c.ends)
			got := fmt.Sprintf("%d %d %d", p.Answers[0].Count, p.Answers[1].Count, p.Answers[2].Count)
			if got != c.counts || p.Voters != c.voters || p.Ended != c.ended || !slices.Equal(p.Mine, c.mine) {
				t.Fatalf("counts %s, %d voters, ended %v, mine %v; want %s, %d, %v, %v",
					got, p.Voters, p.Ended, p.Mine, c.counts, c.voters, c.ended, c.mine)
			}
		})
	}
}
