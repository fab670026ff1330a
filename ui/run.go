package ui

import (
	"context"
	"errors"

	tea "github.com/charmbracelet/bubbletea"

	"duet/ui/login"
)

// NewLogin returns the sign-in screen, shown when there is no session. submit (and the login
// in the browser, WithSSO) return the service the main model, New(svc, opts), then runs on.
func NewLogin(submit login.Submit[Service], opts Options) *login.Screen[Service] {
	opts = opts.withDefaults()
	main := func(svc Service) tea.Model { return New(svc, opts) }
	return login.NewScreen(submit, main, login.Options{Styles: *opts.Styles, Context: opts.Context})
}

// Run runs a model (New or NewLogin) full screen until it quits or ctx ends. The terminal is
// restored however it ends, a panic included.
func Run(ctx context.Context, m tea.Model) error {
	// Focus reports say when the terminal is in the background: new messages notify then.
	p := tea.NewProgram(m, tea.WithAltScreen(), tea.WithMouseCellMotion(), tea.WithReportFocus(), tea.WithContext(ctx))
	_, err := p.Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil // cancelled from outside: a normal end
	}
	return err
}
