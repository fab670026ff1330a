package ui

import (
	"context"
	"errors"

	tea "github.com/charmbracelet/bubbletea"

	"duet/ui/login"
)

// SubmitLogin logs in, saves the session, opens the store and starts the sync loop, returning
// the service the UI then runs on. It is supplied by the caller.
type SubmitLogin func(ctx context.Context, homeserver, user, password string) (Service, error)

// Login is the sign-in form shown when there is no session. On success it hands over to the
// main Model in the same program.
type Login struct {
	form   *login.Form
	submit SubmitLogin
	sso    SubmitSSO     // nil: no login in the browser (loginsso.go)
	pasted chan<- string // to the login in the browser under way, when it asks for a paste
	opts   Options
	size   tea.WindowSizeMsg
}

type loggedInMsg struct {
	svc Service
	err error
}

// NewLogin returns the sign-in form. opts are used for the main model once logged in.
func NewLogin(submit SubmitLogin, opts Options) Login {
	opts = opts.withDefaults()
	l := Login{form: login.NewForm(login.DefaultKeyMap(), *opts.Styles), submit: submit, opts: opts,
		size: tea.WindowSizeMsg{Width: 80, Height: 24}}
	l.form.SetSize(80, 24)
	return l
}

// Init implements tea.Model.
func (l Login) Init() tea.Cmd { return nil }

// Update implements tea.Model; after a successful login it returns the main Model.
func (l Login) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		l.size = msg
		l.form.SetSize(msg.Width, msg.Height)
		return l, nil
	case login.SubmitMsg:
		submit, ctx := l.submit, l.opts.Context
		return l, func() tea.Msg {
			svc, err := submit(ctx, msg.Homeserver, msg.User, msg.Password)
			return loggedInMsg{svc: svc, err: err}
		}
	case login.SSOMsg:
		return l.startSSO(msg)
	case ssoNoticeMsg:
		cmd := l.form.SetNotice(msg.text, msg.paste)
		return l, tea.Batch(cmd, waitNotice(msg.notices))
	case login.PastedMsg:
		l.paste(msg.Text)
		return l, nil
	case loggedInMsg:
		if msg.err == nil && msg.svc == nil {
			msg.err = errors.New("login did not return a session")
		}
		if msg.err != nil {
			l.form.SetError(explain(msg.err))
			return l, nil
		}
		main := New(msg.svc, l.opts)
		next, _ := main.Update(l.size)
		return next, next.Init()
	}
	return l, l.form.Update(msg)
}

// View implements tea.Model.
func (l Login) View() string { return l.form.View() }
