package ui

import (
	"context"
	"errors"
	"os"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"

	"duet/ui/login"
	"duet/ui/styles"
)

// NewLogin returns the sign-in screen, shown when there is no session. submit (and the login
// in the browser, WithSSO) return the service the main model, New(svc, opts), then runs on.
func NewLogin(submit login.Submit[Service], opts Options) *login.Screen[Service] {
	opts = opts.withDefaults()
	main := func(svc Service) tea.Model { return New(svc, opts) }
	return login.NewScreen(submit, main, login.Options{Styles: *opts.Styles, Context: opts.Context})
}

// DetectTerminal sets what the styles are drawn for (styles.SetTerminal) from the terminal
// duet runs in: its colour profile, found as Bubble Tea finds it, and whether its background is
// light, asked of the terminal before the program starts reading it. Call it before New or
// NewLogin.
func DetectTerminal() {
	styles.SetTerminal(styles.Terminal{
		Profile: colorprofile.Detect(os.Stdout, os.Environ()),
		Light:   !lipgloss.HasDarkBackground(os.Stdin, os.Stdout),
	})
}

// Run runs a model (New or NewLogin) full screen until it quits or ctx ends. The terminal is
// restored however it ends, a panic included. The screen's modes (the whole screen, the mouse,
// focus reports) are the models' views' (terminal.Screen).
func Run(ctx context.Context, m tea.Model) error {
	p := tea.NewProgram(m, tea.WithContext(ctx))
	_, err := p.Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil // cancelled from outside: a normal end
	}
	return err
}
