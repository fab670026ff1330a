package ui

import (
	"context"

	tea "github.com/charmbracelet/bubbletea"

	"duet/ui/login"
)

// SubmitSSO logs in in the browser (OAuth 2.0 or single sign-on), saves the session and
// starts the sync loop, like SubmitLogin. tell shows an instruction on the login screen: the
// address to open, a code to enter; the UI owns the terminal, so nothing is printed.
type SubmitSSO func(ctx context.Context, homeserver, user string, tell func(string)) (Service, error)

// WithSSO lets the login screen log in in the browser (ctrl+o).
func (l Login) WithSSO(f SubmitSSO) Login {
	l.sso = f
	return l
}

// ssoNoticeMsg is an instruction from a login in the browser that is under way.
type ssoNoticeMsg struct {
	text    string
	notices <-chan string
}

// startSSO runs the login in a Cmd; its instructions come back one by one on notices.
func (l Login) startSSO(msg login.SSOMsg) (tea.Model, tea.Cmd) {
	if l.sso == nil {
		l.form.SetError("logging in in the browser is not available here")
		return l, nil
	}
	notices := make(chan string, 8)
	sso, ctx := l.sso, l.opts.Context
	run := func() tea.Msg {
		defer close(notices)
		svc, err := sso(ctx, msg.Homeserver, msg.User, func(text string) {
			select {
			case notices <- text:
			case <-ctx.Done():
			}
		})
		return loggedInMsg{svc: svc, err: err}
	}
	return l, tea.Batch(run, waitNotice(notices))
}

func waitNotice(notices <-chan string) tea.Cmd {
	return func() tea.Msg {
		text, ok := <-notices
		if !ok {
			return nil
		}
		return ssoNoticeMsg{text: text, notices: notices}
	}
}
