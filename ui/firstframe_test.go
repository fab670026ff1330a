package ui

import (
	"errors"
	"testing"

	tea "charm.land/bubbletea/v2"

	"duet/matrixsvc"
)

// FirstFrame (what starts the sync loop) is told once, after the list is in the model, and
// not again when the list is read again; it is told too when the list could not be read.
func TestFirstFrameIsToldOnceTheListIsDrawn(t *testing.T) {
	svc := fixture()
	var told []string // the screen when it was told
	h := &harness{t: t, svc: svc}
	h.m = New(svc, Options{Now: fixedNow, FirstFrame: func() { told = append(told, h.view()) }})
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	if len(told) != 0 {
		t.Fatal("told before the list was read")
	}
	h.run(h.m.Init())
	if len(told) != 1 {
		t.Fatalf("told %d times after the first list, want 1", len(told))
	}
	requireContains(t, told[0], "Contacts (", "Alice")
	requireLacks(t, told[0], "Contacts (0)")

	h.run(h.m.refreshOverview(h.m.accts[0]))
	h.send(eventsMsg{events: []matrixsvc.Event{matrixsvc.SyncApplied{}}})
	if len(told) != 1 {
		t.Fatalf("told %d times after the list was read again, want 1", len(told))
	}

	var again int
	h2 := &harness{t: t, svc: fixture()}
	h2.m = New(h2.svc, Options{Now: fixedNow, FirstFrame: func() { again++ }})
	h2.send(overviewMsg{seq: 1, err: errors.New("database is locked")})
	if again != 1 {
		t.Fatalf("a list that could not be read: told %d times, want 1", again)
	}
}

// The list an earlier run kept is drawn first, and the list derived from the store replaces
// it, whichever of the two comes first: a cached list never stays over a derived one.
func TestTheKeptListIsDrawnFirstAndReplaced(t *testing.T) {
	for _, derivedFirst := range []bool{false, true} {
		svc := fixture()
		old := svc.ov
		old.Contacts = append([]matrixsvc.ContactView(nil), old.Contacts...)
		old.Contacts[0].DisplayName = "Alicia"
		svc.cached = &old
		h := &harness{t: t, svc: svc}
		h.m = New(svc, Options{Now: fixedNow})
		h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
		cached := h.m.firstOverview(h.m.accts[0])()
		derived := h.m.refreshOverview(h.m.accts[0])()
		if derivedFirst {
			h.send(derived) // an event's refresh came before the kept list was read
			h.send(cached)
		} else {
			next, cmd := h.m.Update(cached)
			h.m = next.(*Model)
			requireContains(t, h.view(), "Alicia")
			h.run(cmd) // the derived list, once the frame is out
		}
		requireLacks(t, h.view(), "Alicia")
		requireContains(t, h.view(), "Alice")
	}
}

// With several accounts, FirstFrame and the kept lists' derivation wait for every account's
// list: started after the first one's, they would compete with the others' for the cores.
func TestFirstFrameWaitsForEveryAccount(t *testing.T) {
	home, work := fixture(), workFake()
	kept := home.ov
	home.cached = &kept
	var told []string
	h := &harness{t: t, svc: home, more: []*fakeSvc{work}}
	h.m = NewAccounts([]Profile{{Name: "default", Tag: "home", Svc: home}, {Name: "work", Svc: work}},
		Options{Now: fixedNow, FirstFrame: func() { told = append(told, h.view()) }})
	h.send(tea.WindowSizeMsg{Width: 100, Height: 30})
	h.hold = func(msg tea.Msg) bool { o, ok := msg.(overviewMsg); return ok && o.acct == 1 }
	h.run(h.m.Init())
	if len(told) != 0 {
		t.Fatal("told with the work account's list not in")
	}
	if home.overviews != 0 {
		t.Fatalf("home's kept list derived again %d times before work's list was in", home.overviews)
	}
	h.hold = nil
	h.release()
	if len(told) != 1 {
		t.Fatalf("told %d times once both lists are in, want 1", len(told))
	}
	requireContains(t, told[0], "Dana", "Alice")
	if home.overviews != 1 {
		t.Fatalf("home's kept list derived %d times once both are in, want 1", home.overviews)
	}
}
