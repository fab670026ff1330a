package ui

import (
	"bytes"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"duet/matrixsvc"
)

// TestFlowSendMessage drives the real program: open Alice, send a message, see it confirmed.
func TestFlowSendMessage(t *testing.T) {
	svc := fixture()
	tm := teatest.NewTestModel(t, New(svc, Options{Now: fixedNow}), teatest.WithInitialTermSize(80, 24))
	wait := func(s string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(s)) },
			teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	}
	wait("Alice")
	tm.Type("jj") // past Carol's invite and the book club
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	wait("see you tomorrow")
	tm.Type("hello from the flow")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	// The fake's event stream is closed; its outbox reports are handed over like the service's.
	deadline := time.Now().Add(5 * time.Second)
	var evts []matrixsvc.Event
	for len(evts) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		evts = svc.takeEvents()
	}
	tm.Send(eventsMsg{evts})
	wait("✓ sent")
	tm.Send(tea.KeyMsg{Type: tea.KeyEsc})
	tm.Type("q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	svc.mu.Lock()
	defer svc.mu.Unlock()
	if len(svc.sends) != 1 || svc.sends[0].Body != "hello from the flow" {
		t.Fatalf("sends = %+v", svc.sends)
	}
}
