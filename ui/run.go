package ui

import (
	"context"
	"errors"
	"os"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"duet/ui/login"
	"duet/ui/styles"
)

// NewLogin returns the sign-in screen, shown when there is no session. submit (and the login
// in the browser, WithSSO) return the service the main model, New(svc, opts), then runs on.
func NewLogin(submit login.Submit[Service], opts Options) *login.Screen[Service] {
	given := opts.Styles
	opts = opts.withDefaults()
	main := func(svc Service) tea.Model {
		o := opts
		o.Styles = given // nil: drawn for the terminal as known by then (its background told)
		return New(svc, o)
	}
	return login.NewScreen(submit, main, login.Options{Styles: *opts.Styles, Context: opts.Context})
}

// DetectTerminal sets what the styles are drawn for (styles.SetTerminal) from the terminal
// duet runs in: its colour profile, found as Bubble Tea finds it (from the environment; the
// terminal is not asked), and a dark background until the terminal says otherwise (Run asks
// it without waiting). Call it before New or NewLogin.
func DetectTerminal() {
	styles.SetTerminal(styles.Terminal{Profile: colorprofile.Detect(os.Stdout, os.Environ())})
}

// Run runs a model (New or NewLogin) full screen until it quits or ctx ends. The terminal is
// restored however it ends, a panic included. The screen's modes (the whole screen, the mouse,
// focus reports) are the models' views' (terminal.Screen).
//
// The first frame is drawn at once, for a dark background; the terminal is asked for its
// background colour alongside, and its answer (tea.BackgroundColorMsg), whenever it comes,
// restyles the screen. A terminal that never answers costs nothing.
func Run(ctx context.Context, m tea.Model) error {
	p := tea.NewProgram(askBackground{m}, tea.WithContext(ctx))
	_, err := p.Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil // cancelled from outside: a normal end
	}
	return err
}

// askBackground runs a model, asking the terminal for its background colour at the start. The
// answer goes to the model (the root restyles itself) and sets what later styles are drawn
// for (styles.SetTerminal): a login screen's main model is built after it.
type askBackground struct{ tea.Model }

func (a askBackground) Init() tea.Cmd {
	return tea.Batch(a.Model.Init(), tea.RequestBackgroundColor)
}

func (a askBackground) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if bg, ok := msg.(tea.BackgroundColorMsg); ok {
		term := styles.Current()
		term.Light = !bg.IsDark()
		styles.SetTerminal(term)
	}
	var cmd tea.Cmd
	a.Model, cmd = a.Model.Update(msg)
	return a, cmd
}
