package ui

import (
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"
)

// openAlice opens the conversation with Alice from the contacts list.
func openAlice(h *harness) {
	h.m.contacts.Select("u:" + string(alice))
	h.key(tea.KeyEnter)
}

func TestRootView80x24(t *testing.T) {
	h := newHarness(t, fixture(), 80, 24)
	openAlice(h)
	view := h.view()
	requireFits(t, view, 80, 24)
	golden.RequireEqual(t, view)
}

func TestRootView60x15(t *testing.T) {
	h := newHarness(t, fixture(), 60, 15)
	openAlice(h)
	view := h.view()
	requireFits(t, view, 60, 15)
	golden.RequireEqual(t, view)
}

func TestRootViewWelcome(t *testing.T) {
	h := newHarness(t, fixture(), 80, 24)
	view := h.view()
	requireFits(t, view, 80, 24)
	golden.RequireEqual(t, view)
}

func TestRootViewNewDMError(t *testing.T) {
	h := newHarness(t, fixture(), 60, 15)
	h.typeText("n@bob")
	h.key(tea.KeyEnter)
	view := h.view()
	requireFits(t, view, 60, 15)
	golden.RequireEqual(t, view)
}
