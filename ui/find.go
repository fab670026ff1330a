package ui

import (
	"context"
	"errors"

	tea "github.com/charmbracelet/bubbletea"

	"duet/matrixsvc"
	"duet/ui/contacts"
	"duet/ui/search"
)

// Message search (issue 11): a dialog over the right pane, answered from the local index.

// searchLimit is how many results one search shows.
const searchLimit = 50

type searchDoneMsg struct {
	seq     int
	results []matrixsvc.SearchResult
	more    bool
	err     error
}

// openSearch opens the search dialog: limited to the open conversation's person when one is
// open (tab widens it).
func (m *Model) openSearch() tea.Cmd {
	var scope search.Scope
	if c := m.openChat(); c != nil && c.item.Kind == contacts.KindContact {
		scope = search.Scope{User: c.item.UserID, Name: c.item.Name}
	}
	m.layout()
	return m.search.Open(scope)
}

// runSearch asks the index in a command.
func (m Model) runSearch(q search.QueryMsg) tea.Cmd {
	svc, query, user, seq := m.svc, q.Query, q.User, q.Seq
	return m.call(func(ctx context.Context) tea.Msg {
		results, more, err := svc.Search(ctx, query, user, searchLimit)
		return searchDoneMsg{seq: seq, results: results, more: more, err: err}
	})
}

func (m *Model) searchDone(msg searchDoneMsg) {
	if msg.err != nil {
		why := explain(msg.err)
		if errors.Is(msg.err, matrixsvc.ErrBadSearch) {
			why = msg.err.Error()
		}
		m.search.SetError(msg.seq, why)
		return
	}
	out := make([]search.Result, len(msg.results))
	for i, r := range msg.results {
		out[i] = search.Result{RoomID: r.RoomID, EventID: r.EventID, Person: r.Person, Name: r.Name,
			Sender: r.Sender, Mine: r.Sender == m.me, Timestamp: r.Timestamp, Snippet: r.Snippet}
	}
	m.search.SetResults(msg.seq, out, msg.more)
}

// openResult opens the conversation a search result is in, at the message.
func (m *Model) openResult(r search.Result) tea.Cmd {
	key := "r:" + string(r.RoomID)
	if r.Person != "" {
		key = "u:" + string(r.Person)
	}
	return m.openAt(key, r.EventID)
}
