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
	h.send(eventsMsg{[]matrixsvc.Event{p}})
	lines := strings.Split(h.view(), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, "fetching report.pdf 25%") {
		t.Fatalf("the status bar: %q", last)
	}
	p.Ended = true
	h.send(eventsMsg{[]matrixsvc.Event{p}})
	if strings.Contains(h.view(), "report.pdf") {
		t.Fatal("an ended download still shows")
	}
}
