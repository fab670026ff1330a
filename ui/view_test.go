package ui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"
	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
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

// In a group DM the senders go by the names they have in the room, not by their user IDs.
func TestGroupSendersByName(t *testing.T) {
	svc := fixture()
	const grp = id.RoomID("!grp:example.org")
	svc.members = map[id.RoomID]map[id.UserID]string{grp: {alice: "Alice Liddell", bob: "Bob (@bob:example.org)"}}
	svc.history[grp] = []matrixsvc.Message{
		msg(grp, "$g1", bob, testNow.Add(-3*time.Hour), "who brings the tent?"),
		msg(grp, "$g2", alice, testNow.Add(-2*time.Hour), "me!"),
	}
	h := newHarness(t, svc, 100, 30)
	h.m.contacts.Select("r:" + string(grp))
	h.key(tea.KeyEnter)
	v := h.view()
	requireContains(t, v, "Bob (@bob:example.org): who brings the tent?", "Alice Liddell: me!")
	if strings.Contains(v, string(alice)+":") {
		t.Fatalf("a sender shown by user ID:\n%s", v)
	}
}
