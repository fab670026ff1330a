package login

import (
	"context"
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"duet/ui/styles"
)

// session stands for the service a login returns.
type session interface{ Name() string }

type named string

func (n named) Name() string { return string(n) }

// mainModel stands for the model the screen hands over to: it notes what it was given.
type mainModel struct {
	svc  session
	size tea.WindowSizeMsg
}

func (m *mainModel) Init() tea.Cmd { return nil }
func (m *mainModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if s, ok := msg.(tea.WindowSizeMsg); ok {
		m.size = s
	}
	return m, nil
}
func (m *mainModel) View() tea.View { return tea.NewView("main: " + m.svc.Name()) }

func newScreen(submit Submit[session]) *Screen[session] {
	main := func(svc session) tea.Model { return &mainModel{svc: svc} }
	return NewScreen(submit, main, Options{Styles: styles.Default()})
}

func typeIn(t *testing.T, m tea.Model, text string) tea.Model {
	t.Helper()
	for _, r := range text {
		m, _ = m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return m
}

// A login that returns neither a session nor an error fails on the form; the next one hands
// over to the main model, at the screen's size.
func TestScreenHandsOverWithASession(t *testing.T) {
	results := []session{nil, named("alice")}
	var m tea.Model = newScreen(func(context.Context, string, string, string) (session, error) {
		svc := results[0]
		results = results[1:]
		return svc, nil
	})
	m, _ = m.Update(tea.WindowSizeMsg{Width: 70, Height: 12})
	m = typeIn(t, m, "@me:example.org")
	m, _ = m.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
	m = typeIn(t, m, "pw")
	login := func() {
		var cmd tea.Cmd
		m, cmd = m.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
		m, cmd = m.Update(cmd()) // SubmitMsg
		m, _ = m.Update(cmd())   // the login's answer
	}
	login()
	if !strings.Contains(m.View().Content, "login did not return a session") {
		t.Fatalf("a nil session is not an error:\n%s", m.View().Content)
	}
	login()
	main, ok := m.(*mainModel)
	if !ok || main.svc.Name() != "alice" || main.size.Width != 70 || main.size.Height != 12 {
		t.Fatalf("handed over to %#v", m)
	}
}

// Over SSH the login in the browser asks for the address the browser ended on: what is typed
// in the paste field reaches it, once.
func TestScreenPasteReachesTheLogin(t *testing.T) {
	s := newScreen(func(context.Context, string, string, string) (session, error) {
		return nil, errors.New("the password login ran")
	}).WithSSO(func(_ context.Context, _, _ string, tell func(string, bool), paste func() (string, error)) (session, error) {
		tell("open https://auth.example.org/ and paste the address you end on", true)
		text, err := paste()
		return named(text), err
	})
	var m tea.Model = typeIn(t, s, "@me:example.org")
	m, cmd := m.Update(tea.KeyPressMsg{Code: 'o', Mod: tea.ModCtrl})
	m, cmd = m.Update(cmd()) // SSOMsg
	batch, ok := cmd().(tea.BatchMsg)
	if !ok || len(batch) != 2 {
		t.Fatalf("no login under way: %#v", batch)
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- batch[0]() }()
	m, _ = m.Update(batch[1]()) // the notice
	if !strings.Contains(m.View().Content, "paste the address and press enter") {
		t.Fatalf("no paste field:\n%s", m.View().Content)
	}
	m = typeIn(t, m, "http://127.0.0.1/cb?code=1")
	m, cmd = m.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
	m, _ = m.Update(cmd())                           // PastedMsg
	m, _ = m.Update(PastedMsg{Text: "a second one"}) // the login takes the first only
	m, _ = m.Update(<-done)
	if main, ok := m.(*mainModel); !ok || main.svc.Name() != "http://127.0.0.1/cb?code=1" {
		t.Fatalf("handed over to %#v", m)
	}
}
