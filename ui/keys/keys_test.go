package keys

import (
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

func TestApply(t *testing.T) {
	km := DefaultKeyMap()
	err := Apply(&km, map[string][]string{"contacts.new-dm": {"ctrl+n", "N"}, "contacts.quit": {}})
	if err != nil {
		t.Fatal(err)
	}
	if !key.Matches(tea.KeyMsg{Type: tea.KeyCtrlN}, km.Contacts.New) {
		t.Fatal("ctrl+n does not start a DM")
	}
	if key.Matches(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("n")}, km.Contacts.New) {
		t.Fatal("n still starts a DM")
	}
	if km.Contacts.New.Help().Key != "ctrl+n/N" {
		t.Fatalf("help shows %q", km.Contacts.New.Help().Key)
	}
	if key.Matches(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")}, km.Contacts.Quit) {
		t.Fatal("an empty list should unbind")
	}
	if DefaultKeyMap().Contacts.New.Keys()[0] != "n" {
		t.Fatal("Apply changed the defaults")
	}
}

func TestApplyUnknown(t *testing.T) {
	km := DefaultKeyMap()
	err := Apply(&km, map[string][]string{"contacts.fly": {"f"}, "quit": {"ctrl+q"}})
	if err == nil || !strings.Contains(err.Error(), "contacts.fly") {
		t.Fatalf("err = %v", err)
	}
	if km.Global.Quit.Keys()[0] != "ctrl+c" {
		t.Fatal("a failed Apply changed bindings")
	}
}
