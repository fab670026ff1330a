package security

import (
	"context"
	"testing"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
	"duet/ui/styles"
)

// The flow on its own, with a service and a screen around it that only take notes. The root's
// tests (ui/e2ee_test.go) drive it through the keyboard.

type noteSvc struct {
	Service // what a test calls and the fake lacks panics
	calls   []string
}

func (s *noteSvc) StartVerification(_ context.Context, user id.UserID) (string, error) {
	s.calls = append(s.calls, "start "+string(user))
	return "t1", nil
}

func (s *noteSvc) CancelVerification(_ context.Context, txn string, _ bool) error {
	s.calls = append(s.calls, "cancel "+txn)
	return nil
}

type noteHost struct {
	errors, infos []string
	names         map[id.UserID][]string
	refreshed     int
}

func (h *noteHost) Error(text string)             { h.errors = append(h.errors, text) }
func (h *noteHost) Info(text string)              { h.infos = append(h.infos, text) }
func (h *noteHost) Names(user id.UserID) []string { return h.names[user] }
func (h *noteHost) RefreshTrust() tea.Cmd         { h.refreshed++; return nil }

func last(notes []string) string {
	if len(notes) == 0 {
		return ""
	}
	return notes[len(notes)-1]
}

// run hands the answer of cmd back to the flow, as the root does with every Msg.
func run(t *testing.T, s *Model, cmd tea.Cmd) {
	t.Helper()
	if cmd == nil {
		return
	}
	msg, ok := cmd().(Msg)
	if !ok {
		t.Fatalf("an answer outside the family: %T", msg)
	}
	run(t, s, s.Update(msg))
}

func newFlow() (*Model, *noteSvc, *noteHost) {
	svc := &noteSvc{}
	h := &noteHost{names: map[id.UserID][]string{alice: {" ", "@alice:example.org", "Alice"}}}
	s := New(svc, h, Options{Keys: DefaultKeyMap(), Styles: styles.Default(), Me: "@me:example.org"})
	return s, svc, h
}

// The dialog names the other side by the first name the screen knows that is not the ID; the
// done verification is said in the status bar and the conversation's trust fetched again.
func TestFlowAsksTheHost(t *testing.T) {
	s, svc, h := newFlow()
	run(t, s, s.Verify(alice, false))
	if s.Stage() != Asking || s.dialog.Who() != "Alice (@alice:example.org)" || s.dialog.Txn() != "t1" {
		t.Fatalf("stage %v, who %q, txn %q", s.Stage(), s.dialog.Who(), s.dialog.Txn())
	}
	run(t, s, s.Verification(matrixsvc.Verification{Txn: "t1", User: alice, Stage: matrixsvc.VerifyDone, Ours: true}))
	if s.Active() || last(h.infos) != "✓ verified Alice (@alice:example.org)" || h.refreshed != 1 {
		t.Fatalf("active %v, infos %q, refreshed %d", s.Active(), h.infos, h.refreshed)
	}
	if len(svc.calls) != 1 || svc.calls[0] != "start "+string(alice) {
		t.Fatalf("calls %q", svc.calls)
	}
}

// A request waits for ShowNext; cancelled before, it never shows.
func TestFlowRequestsWaitForShowNext(t *testing.T) {
	s, _, h := newFlow()
	run(t, s, s.Verification(matrixsvc.Verification{Txn: "in1", User: alice, Stage: matrixsvc.VerifyRequested}))
	run(t, s, s.Verification(matrixsvc.Verification{Txn: "in1", User: alice, Stage: matrixsvc.VerifyCancelled}))
	s.ShowNext()
	if s.Active() || len(h.errors) != 0 {
		t.Fatalf("active %v, errors %q", s.Active(), h.errors)
	}
	run(t, s, s.Verification(matrixsvc.Verification{Txn: "in2", User: alice, Stage: matrixsvc.VerifyRequested}))
	if s.Active() {
		t.Fatal("shown before ShowNext")
	}
	s.ShowNext()
	if s.Stage() != Incoming || s.dialog.Txn() != "in2" {
		t.Fatalf("stage %v, txn %q", s.Stage(), s.dialog.Txn())
	}
	run(t, s, s.HandleKey(esc))
	if s.Active() || last(h.infos) != "declined the verification request" {
		t.Fatalf("active %v, infos %q", s.Active(), h.infos)
	}
}
