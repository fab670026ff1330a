package composer

import (
	"testing"

	tea "charm.land/bubbletea/v2"

	"duet/ui/styles"
)

func TestEnterSendsAltEnterBreaksLine(t *testing.T) {
	m := New(DefaultKeyMap(), styles.Default())
	m.SetSize(40, 3)
	m.Focus()
	typeIn := func(s string) {
		for _, r := range s {
			_ = m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
		}
	}
	typeIn("one")
	_ = m.Update(tea.KeyPressMsg{Code: tea.KeyEnter, Mod: tea.ModAlt})
	typeIn("two")
	if m.Value() != "one\ntwo" {
		t.Fatalf("value %q", m.Value())
	}
	if _ = m.Update(tea.KeyPressMsg{Code: tea.KeyEnter}); m.Value() != "one\ntwo" {
		t.Fatalf("enter changed the text (the root sends it): %q", m.Value())
	}
	if text, ok := m.Take(); !ok || text != "one\ntwo" {
		t.Fatalf("Take gave %q, %v", text, ok)
	}
	if m.Value() != "" {
		t.Fatalf("not emptied: %q", m.Value())
	}
	if _, ok := m.Take(); ok {
		t.Fatal("an empty composer gave something to send")
	}
}

// Where the terminal tells shift+enter from enter (the kitty keyboard protocol), shift+enter
// breaks the line too, as in every chat program; so does ctrl+j, which legacy terminals send as
// a line feed.
func TestShiftEnterAndCtrlJBreakLine(t *testing.T) {
	m := New(DefaultKeyMap(), styles.Default())
	m.SetSize(40, 3)
	m.Focus()
	for _, k := range []tea.KeyPressMsg{
		{Code: 'a', Text: "a"}, {Code: tea.KeyEnter, Mod: tea.ModShift},
		{Code: 'b', Text: "b"}, {Code: 'j', Mod: tea.ModCtrl},
		{Code: 'c', Text: "c"},
	} {
		_ = m.Update(k)
	}
	if m.Value() != "a\nb\nc" {
		t.Fatalf("value %q", m.Value())
	}
}

// ctrl+e opens the editor (the root does it): the composer must not also take it as the text
// area's line end. Unbound, it is the line end again.
func TestCtrlEIsTheEditorNotLineEnd(t *testing.T) {
	for _, bound := range []bool{true, false} {
		km := DefaultKeyMap()
		if !bound {
			km.Editor.Unbind()
		}
		m := New(km, styles.Default())
		m.SetSize(40, 3)
		m.Focus()
		for _, r := range "ab" {
			_ = m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
		}
		_ = m.Update(tea.KeyPressMsg{Code: 'a', Mod: tea.ModCtrl}) // line start
		_ = m.Update(tea.KeyPressMsg{Code: 'e', Mod: tea.ModCtrl})
		_ = m.Update(tea.KeyPressMsg{Code: 'x', Text: "x"})
		want := map[bool]string{true: "xab", false: "abx"}[bound]
		if m.Value() != want {
			t.Fatalf("editor bound %v: value %q, want %q", bound, m.Value(), want)
		}
	}
}
