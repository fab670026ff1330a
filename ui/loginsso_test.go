package ui

import (
	"context"
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// ctrl+o on the login screen logs in in the browser: the address to open is shown whole on
// the screen (wrapped, never cut), and a successful login hands over to the main screen.
func TestLoginScreenSingleSignOn(t *testing.T) {
	svc := fixture()
	const addr = "https://auth.example.org/oauth2/authorize?client_id=duet&state=abcdefghijklmnopqrstuvwxyz0123456789&scope=urn%3Amatrix%3Aclient%3Aapi%3A%2A"
	release := make(chan error)
	var got []string
	sso := func(ctx context.Context, hs, user string, tell func(string, bool), _ func() (string, error)) (Service, error) {
		got = []string{hs, user}
		tell("duet: log in in the browser that opens (OAuth 2.0); if none does, open this address:\n"+addr, false)
		if err := <-release; err != nil {
			return nil, err
		}
		return svc, nil
	}
	var m tea.Model = NewLogin(func(context.Context, string, string, string) (Service, error) {
		t.Fatal("the password login ran")
		return nil, nil
	}, Options{Now: fixedNow, Context: context.Background()}).WithSSO(sso)
	m, _ = m.Update(tea.WindowSizeMsg{Width: 50, Height: 16})

	// Nothing to find the server from: the screen says what is missing.
	m, cmd := m.Update(tea.KeyPressMsg{Code: 'o', Mod: tea.ModCtrl})
	if !strings.Contains(m.View().Content, "enter the homeserver") {
		t.Fatalf("ctrl+o with empty fields:\n%s", m.View().Content)
	}
	_ = cmd
	m, _ = m.Update(tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}) // back to the user ID
	for _, r := range "@me:example.org" {
		m, _ = m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	view := func() string { return m.View().Content }

	login := func(result error) tea.Model {
		var cmd tea.Cmd
		m, cmd = m.Update(tea.KeyPressMsg{Code: 'o', Mod: tea.ModCtrl})
		m, cmd = m.Update(cmd()) // the SSO request: a batch of the login and its notices
		batch, ok := cmd().(tea.BatchMsg)
		if !ok || len(batch) != 2 {
			t.Fatalf("no login under way: %T", cmd())
		}
		done := make(chan tea.Msg, 1)
		go func() { done <- batch[0]() }()
		notice := batch[1]()
		var next tea.Cmd
		m, next = m.Update(notice)
		screen := strings.ReplaceAll(view(), "\n", "")
		if !strings.Contains(strings.ReplaceAll(screen, " ", ""), addr) || !strings.Contains(view(), "waiting for the browser") {
			t.Fatalf("the address is not shown whole:\n%s", view())
		}
		requireFits(t, view(), 50, 16)
		release <- result
		m, _ = m.Update(<-done)
		if next() != nil {
			t.Fatal("notices after the login ended")
		}
		return m
	}
	login(errors.New("access was denied on the login page: nothing was changed"))
	if !strings.Contains(view(), "access was denied") {
		t.Fatalf("the failure is not shown:\n%s", view())
	}
	if got[0] != "" || got[1] != "@me:example.org" {
		t.Fatalf("asked with %q", got)
	}
	if _, ok := login(nil).(*Model); !ok {
		t.Fatalf("still on %T after logging in", m)
	}
}
