package composer

import (
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"duet/ui/styles"
)

func TestEnterSendsAltEnterBreaksLine(t *testing.T) {
	m := New(DefaultKeyMap(), styles.Default())
	m.SetSize(40, 3)
	m.Focus()
	typeIn := func(s string) {
		for _, r := range s {
			m, _ = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
		}
	}
	typeIn("one")
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyEnter, Alt: true})
	typeIn("two")
	if m.Value() != "one\ntwo" {
		t.Fatalf("value %q", m.Value())
	}
	var cmd tea.Cmd
	m, cmd = m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	if sub, ok := cmd().(SubmitMsg); !ok || sub.Text != "one\ntwo" {
		t.Fatalf("enter gave %#v", cmd())
	}
	if m.Value() != "" {
		t.Fatalf("not emptied: %q", m.Value())
	}
	if _, cmd = m.Update(tea.KeyMsg{Type: tea.KeyEnter}); cmd != nil {
		t.Fatal("enter on an empty composer sent something")
	}
}
