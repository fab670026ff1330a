package ui

import (
	"bytes"
	"io"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"duet/internal/testkit/termtest"
	"duet/matrixsvc"
)

// TestFlowSendMessage drives the real program: open Alice, send a message, see it confirmed.
func TestFlowSendMessage(t *testing.T) {
	svc := fixture()
	m, frames := termtest.Record(New(svc, Options{Now: fixedNow}))
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	var drawn []byte // the text of the frames so far
	wait := func(s string) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			_, _ = io.Copy(io.Discard, tm.Output())
			if drawn = append(drawn, frames.Take()...); bytes.Contains(drawn, []byte(s)) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%q not drawn:\n%s", s, drawn)
			}
		}
	}
	wait("Alice")
	tm.Type("jj") // past Carol's invite and the book club
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	wait("see you tomorrow")
	tm.Type("hello from the flow")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	// The fake's event stream is closed; its outbox reports are handed over like the service's.
	deadline := time.Now().Add(5 * time.Second)
	var evts []matrixsvc.Event
	for len(evts) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		evts = svc.takeEvents()
	}
	tm.Send(eventsMsg{events: evts})
	wait("✓ sent")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
	tm.Type("q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	svc.mu.Lock()
	defer svc.mu.Unlock()
	if len(svc.sends) != 1 || svc.sends[0].Body != "hello from the flow" {
		t.Fatalf("sends = %+v", svc.sends)
	}
}
