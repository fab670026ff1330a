package login

import (
	"context"
	"errors"

	tea "charm.land/bubbletea/v2"

	"duet/ui/internal/terminal"
	"duet/ui/internal/textutil"
	"duet/ui/styles"
)

// Submit logs in, saves the session, opens the store and starts the sync loop, returning the
// session (S: the service) the main model then runs on. It is supplied by the caller. S is an
// interface: a nil one with no error is a failed login too.
type Submit[S any] func(ctx context.Context, homeserver, user, password string) (S, error)

// Options are the screen's settings.
type Options struct {
	Styles  styles.Styles
	Context context.Context // bounds the login; nil: context.Background()
}

// Screen is the tea.Model shown when there is no session: the Form, and the login it asks
// for. On success it hands over to the model main builds from the session, in the same
// program. Create it with NewScreen.
type Screen[S any] struct {
	form   *Form
	submit Submit[S]
	sso    SubmitSSO[S]  // nil: no login in the browser (sso.go)
	pasted chan<- string // to the login in the browser under way, when it asks for a paste
	main   func(session S) tea.Model
	ctx    context.Context
	size   tea.WindowSizeMsg
}

// loggedInMsg is the end of a login: the session, or why there is none.
type loggedInMsg[S any] struct {
	svc S
	err error
}

// NewScreen returns the sign-in screen. main builds the model shown once logged in.
func NewScreen[S any](submit Submit[S], main func(session S) tea.Model, opts Options) *Screen[S] {
	if opts.Context == nil {
		opts.Context = context.Background()
	}
	s := &Screen[S]{form: NewForm(DefaultKeyMap(), opts.Styles), submit: submit, main: main, ctx: opts.Context,
		size: tea.WindowSizeMsg{Width: 80, Height: 24}}
	s.form.SetSize(80, 24)
	return s
}

// Init implements tea.Model.
func (s *Screen[S]) Init() tea.Cmd { return nil }

// Update implements tea.Model; after a successful login it returns the main model.
func (s *Screen[S]) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		s.size = msg
		s.form.SetSize(msg.Width, msg.Height)
		return s, nil
	case SubmitMsg:
		submit, ctx := s.submit, s.ctx
		return s, func() tea.Msg {
			svc, err := submit(ctx, msg.Homeserver, msg.User, msg.Password)
			return loggedInMsg[S]{svc: svc, err: err}
		}
	case SSOMsg:
		return s, s.startSSO(msg)
	case ssoNoticeMsg:
		cmd := s.form.SetNotice(msg.text, msg.paste)
		return s, tea.Batch(cmd, waitNotice(msg.notices))
	case PastedMsg:
		s.paste(msg.Text)
		return s, nil
	case loggedInMsg[S]:
		return s.loggedIn(msg)
	}
	return s, s.form.Update(msg)
}

// loggedIn hands over to the main model, or says on the form why the login failed.
func (s *Screen[S]) loggedIn(msg loggedInMsg[S]) (tea.Model, tea.Cmd) {
	if msg.err == nil && any(msg.svc) == nil {
		msg.err = errors.New("login did not return a session")
	}
	if msg.err != nil {
		s.form.SetError(textutil.Explain(msg.err))
		return s, nil
	}
	main := s.main(msg.svc)
	next, _ := main.Update(s.size)
	return next, next.Init()
}

// View implements tea.Model: the form, full screen.
func (s *Screen[S]) View() tea.View { return terminal.Screen(s.form.View()) }
