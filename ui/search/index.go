package search

import (
	"cmp"
	"context"
	"errors"
	"slices"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
	"duet/ui/internal/request"
	"duet/ui/internal/textutil"
)

// Index is the role of the Matrix side the dialog asks: the local index of messages.
type Index interface {
	Search(ctx context.Context, query string, with id.UserID, limit int) ([]matrixsvc.SearchResult, bool, error)
}

// limit is how many results one search shows.
const limit = 50

// answerMsg is the index's answer to the QueryMsg with Seq seq.
type answerMsg struct {
	seq     int
	results []found
	more    bool
	err     error
}

func (answerMsg) searchMsg() {}

// run asks the index in a command.
func (m *Model) run(q QueryMsg) tea.Cmd {
	if m.accounts != nil {
		return m.runAll(q)
	}
	svc := m.svc
	return request.Cmd(m.ctx, func(ctx context.Context) tea.Msg {
		results, more, err := svc.Search(ctx, q.Query, q.User, limit)
		rs := make([]found, len(results))
		for i, r := range results {
			rs[i] = found{SearchResult: r}
		}
		return answerMsg{seq: q.Seq, results: rs, more: more, err: err}
	})
}

// runAll asks the index of every account, one after the other, and keeps the newest results
// across them. An account whose index fails is left out, unless all fail.
func (m *Model) runAll(q QueryMsg) tea.Cmd {
	accounts := m.accounts
	return request.Cmd(m.ctx, func(ctx context.Context) tea.Msg {
		var all []found
		more := false
		var firstErr error
		failed := 0
		for i, a := range accounts {
			results, m, err := a.Index.Search(ctx, q.Query, q.User, limit)
			if err != nil {
				if errors.Is(err, matrixsvc.ErrBadSearch) {
					return answerMsg{seq: q.Seq, err: err} // the query, not the account
				}
				firstErr = cmp.Or(firstErr, err)
				failed++
				continue
			}
			more = more || m
			for _, r := range results {
				all = append(all, found{SearchResult: r, acct: i, tag: a.Tag, mine: r.Sender == a.Me})
			}
		}
		if failed == len(accounts) {
			return answerMsg{seq: q.Seq, err: firstErr}
		}
		slices.SortStableFunc(all, func(a, b found) int { return b.Timestamp.Compare(a.Timestamp) })
		if len(all) > limit {
			all, more = all[:limit], true
		}
		return answerMsg{seq: q.Seq, results: all, more: more}
	})
}

// found is a result with the account it was found in.
type found struct {
	matrixsvc.SearchResult
	acct int
	tag  string
	mine bool
}

// answered shows the index's answer: the results, or why there are none.
func (m *Model) answered(a answerMsg) tea.Cmd {
	if a.err != nil {
		why := textutil.Explain(a.err)
		if errors.Is(a.err, matrixsvc.ErrBadSearch) {
			why = a.err.Error()
		}
		m.setError(a.seq, why)
		return nil
	}
	out := make([]Result, len(a.results))
	for i, r := range a.results {
		out[i] = Result{RoomID: r.RoomID, EventID: r.EventID, Person: r.Person, Name: r.Name,
			Sender: r.Sender, Mine: r.mine || m.accounts == nil && r.Sender == m.me, Timestamp: r.Timestamp, Snippet: r.Snippet,
			Acct: r.acct, Account: r.tag}
	}
	return m.setResults(a.seq, out, a.more)
}
