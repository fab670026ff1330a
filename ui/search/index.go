package search

import (
	"context"
	"errors"

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
	results []matrixsvc.SearchResult
	more    bool
	err     error
}

func (answerMsg) searchMsg() {}

// run asks the index in a command.
func (m *Model) run(q QueryMsg) tea.Cmd {
	svc := m.svc
	return request.Cmd(m.ctx, func(ctx context.Context) tea.Msg {
		results, more, err := svc.Search(ctx, q.Query, q.User, limit)
		return answerMsg{seq: q.Seq, results: results, more: more, err: err}
	})
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
			Sender: r.Sender, Mine: r.Sender == m.me, Timestamp: r.Timestamp, Snippet: r.Snippet}
	}
	return m.setResults(a.seq, out, a.more)
}
