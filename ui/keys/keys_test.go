package keys

import (
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

func TestApply(t *testing.T) {
	km := DefaultKeyMap()
	err := Apply(&km, map[string][]string{"contacts.new-dm": {"ctrl+n", "N"}, "contacts.quit": {}})
	if err != nil {
		t.Fatal(err)
	}
	if !key.Matches(tea.KeyPressMsg{Code: 'n', Mod: tea.ModCtrl}, km.Contacts.New) {
		t.Fatal("ctrl+n does not start a DM")
	}
	if key.Matches(tea.KeyPressMsg{Code: 'n', Text: "n"}, km.Contacts.New) {
		t.Fatal("n still starts a DM")
	}
	if km.Contacts.New.Help().Key != "ctrl+n/N" {
		t.Fatalf("help shows %q", km.Contacts.New.Help().Key)
	}
	if key.Matches(tea.KeyPressMsg{Code: 'q', Text: "q"}, km.Contacts.Quit) {
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
