package switcher

import (
	"context"

	tea "charm.land/bubbletea/v2"

	"duet/matrixsvc"
	"duet/ui/internal/request"
	"duet/ui/internal/textutil"
)

// Directory is the role of the Matrix side the switcher asks: the homeserver's user directory.
type Directory interface {
	SearchUsers(ctx context.Context, term string, limit int) ([]matrixsvc.DirectoryUser, error)
}

// directoryLimit is how many people one user directory search lists.
const directoryLimit = 20

// answerMsg is the directory's answer for query.
type answerMsg struct {
	query string
	users []matrixsvc.DirectoryUser
	err   error
}

func (answerMsg) switcherMsg() {}

// run asks the directory in a command.
func (m *Model) run(q DirectoryMsg) tea.Cmd {
	svc, query := m.svc, q.Query
	return request.Cmd(m.ctx, func(ctx context.Context) tea.Msg {
		users, err := svc.SearchUsers(ctx, query, directoryLimit)
		return answerMsg{query: query, users: users, err: err}
	})
}

// answered lists the people the directory found, or says why it failed.
func (m *Model) answered(a answerMsg) {
	if a.err != nil {
		m.directoryFailed(a.query, textutil.Explain(a.err))
		return
	}
	out := make([]Entry, len(a.users))
	for i, u := range a.users {
		name := u.DisplayName
		if name == "" {
			name = string(u.UserID)
		}
		out[i] = Entry{Kind: KindDirectory, Name: name, UserID: u.UserID}
	}
	m.setDirectory(a.query, out)
}
