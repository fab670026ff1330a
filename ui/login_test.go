package ui

import (
	"context"
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

func TestLoginFormHandsOverToMain(t *testing.T) {
	svc := fixture()
	var got []string
	calls := 0
	submit := func(_ context.Context, hs, user, pw string) (Service, error) {
		calls++
		got = []string{hs, user, pw}
		if calls == 1 {
			return nil, errors.New("login failed: wrong user ID or password")
		}
		return svc, nil
	}
	var m tea.Model = NewLogin(submit, Options{Now: fixedNow})
	step := func(msg tea.Msg) {
		var cmd tea.Cmd
		m, cmd = m.Update(msg)
		for cmd != nil {
			out := cmd()
			if b, ok := out.(tea.BatchMsg); ok { // Init of the main model: run what returns at once
				for _, c := range b {
					if c != nil {
						if r := c(); r != nil {
							m, _ = m.Update(r)
						}
					}
				}
				return
			}
			if out == nil {
				return
			}
			m, cmd = m.Update(out)
		}
	}
	step(tea.WindowSizeMsg{Width: 60, Height: 15})
	for _, r := range "@me:example.org" {
		step(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	step(tea.KeyPressMsg{Code: tea.KeyEnter}) // to the password
	for _, r := range "hunter2" {
		step(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	view := m.View().Content
	if strings.Contains(view, "hunter2") || !strings.Contains(view, "•••••••") {
		t.Fatalf("password not masked:\n%s", view)
	}
	step(tea.KeyPressMsg{Code: tea.KeyEnter})
	if !strings.Contains(m.View().Content, "wrong user ID or password") {
		t.Fatalf("no error shown:\n%s", m.View().Content)
	}
	step(tea.KeyPressMsg{Code: tea.KeyEnter})
	if got[1] != "@me:example.org" || got[2] != "hunter2" || got[0] != "" {
		t.Fatalf("submitted %q", got)
	}
	main, ok := m.(*Model)
	if !ok {
		t.Fatalf("still on %T after logging in", m)
	}
	requireFits(t, main.View().Content, 60, 15)
	if !strings.Contains(main.View().Content, "Alice") {
		t.Fatalf("contacts not loaded after login:\n%s", main.View().Content)
	}
}
