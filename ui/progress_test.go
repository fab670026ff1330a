package ui

import (
	"strings"
	"testing"

	"duet/matrixsvc"
)

// The service's progress reports reach the status bar, and its end takes the task away.
func TestProgressInTheStatusBar(t *testing.T) {
	h := newHarness(t, fixture(), 120, 30)
	p := matrixsvc.Progress{Task: matrixsvc.TaskDownload, ID: "7", Name: "report.pdf", Unit: matrixsvc.UnitBytes, Done: 1 << 20, Total: 4 << 20}
	h.send(eventsMsg{events: []matrixsvc.Event{p}})
	lines := strings.Split(h.view(), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, "fetching report.pdf 25%") {
		t.Fatalf("the status bar: %q", last)
	}
	p.Ended = true
	h.send(eventsMsg{events: []matrixsvc.Event{p}})
	if strings.Contains(h.view(), "report.pdf") {
		t.Fatal("an ended download still shows")
	}
}

// Where the terminal has its own progress indicator (OSC 9;4), the frame carries it while a
// task runs; elsewhere it never does.
func TestProgressInTheTerminalsIndicator(t *testing.T) {
	for _, on := range []bool{true, false} {
		h := newHarness(t, fixture(), 120, 30)
		h.m.opts.ProgressBar = on
		p := matrixsvc.Progress{Task: matrixsvc.TaskUpload, ID: "1", Name: "a.png", Unit: matrixsvc.UnitBytes, Done: 1, Total: 4}
		h.send(eventsMsg{events: []matrixsvc.Event{p}})
		bar := h.m.View().ProgressBar
		if on && (bar == nil || bar.Value != 25) {
			t.Fatalf("the indicator while sending: %+v", bar)
		}
		if !on && bar != nil {
			t.Fatalf("an indicator the terminal does not have: %+v", bar)
		}
		p.Ended = true
		h.send(eventsMsg{events: []matrixsvc.Event{p}})
		if bar := h.m.View().ProgressBar; bar != nil {
			t.Fatalf("the indicator after the upload: %+v", bar)
		}
	}
}
