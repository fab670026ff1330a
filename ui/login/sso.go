package login

import (
	"context"

	tea "charm.land/bubbletea/v2"
)

// SubmitSSO logs in in the browser (OAuth 2.0 or single sign-on), saves the session and
// starts the sync loop, like Submit. tell shows an instruction on the login screen: the
// address to open, a code to enter; with paste set, it asks for the address the browser ended
// on, which paste then returns once typed (where no browser opens here: over SSH). The UI
// owns the terminal, so nothing is printed.
type SubmitSSO[S any] func(ctx context.Context, homeserver, user string, tell func(text string, paste bool), paste func() (string, error)) (S, error)

// WithSSO lets the login screen log in in the browser (ctrl+o).
func (s *Screen[S]) WithSSO(f SubmitSSO[S]) *Screen[S] {
	s.sso = f
	return s
}

// ssoNoticeMsg is an instruction from a login in the browser that is under way.
type ssoNoticeMsg struct {
	notice
	notices <-chan notice
}

type notice struct {
	text  string
	paste bool // the instruction asks for the address the browser ended on
}

// startSSO runs the login in a Cmd; its instructions come back one by one on notices.
func (s *Screen[S]) startSSO(msg SSOMsg) tea.Cmd {
	if s.sso == nil {
		s.form.SetError("logging in in the browser is not available here")
		return nil
	}
	notices := make(chan notice, 8)
	pasted := make(chan string, 1)
	s.pasted = pasted
	sso, ctx := s.sso, s.ctx
	run := func() tea.Msg {
		defer close(notices)
		svc, err := sso(ctx, msg.Homeserver, msg.User, func(text string, paste bool) {
			select {
			case notices <- notice{text: text, paste: paste}:
			case <-ctx.Done():
			}
		}, func() (string, error) {
			select {
			case text := <-pasted:
				return text, nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		})
		return loggedInMsg[S]{svc: svc, err: err}
	}
	return tea.Batch(run, waitNotice(notices))
}

// paste hands what was pasted on the login screen to the login waiting for it.
func (s *Screen[S]) paste(text string) {
	select {
	case s.pasted <- text:
	default: // one address per login: a second enter finds the first on its way
	}
}

func waitNotice(notices <-chan notice) tea.Cmd {
	return func() tea.Msg {
		n, ok := <-notices
		if !ok {
			return nil
		}
		return ssoNoticeMsg{notice: n, notices: notices}
	}
}
