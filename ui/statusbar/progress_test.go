package statusbar

import (
	"strings"
	"testing"
	"time"

	"duet/matrixsvc"
)

// A task shows while it runs, in words and numbers, and goes when it ends or falls silent.
func TestProgressShowsWhileATaskRuns(t *testing.T) {
	now := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	m := bar()
	m.SetWidth(120)
	m.SetClock(func() time.Time { return now })
	m.SetSync(matrixsvc.SyncStateChanged{State: matrixsvc.SyncLive})
	up := matrixsvc.Progress{Task: matrixsvc.TaskUpload, ID: "1", Name: "cat\x1b]52;c;AAAA\a.png", Unit: matrixsvc.UnitBytes, Done: 420, Total: 1000}
	m.SetProgress(up)
	view := m.View()
	if !strings.Contains(view, "sending cat") || !strings.Contains(view, "42%") || strings.ContainsRune(view, '\x1b') {
		t.Fatalf("an upload under way shows as %q", view)
	}
	if _, f, ok := m.Progress(); !ok || f != 0.42 {
		t.Fatalf("Progress = %v, %v", f, ok)
	}

	for _, c := range []struct {
		p    matrixsvc.Progress
		want string
	}{
		{matrixsvc.Progress{Task: matrixsvc.TaskSync, ID: "2", Unit: matrixsvc.UnitBytes}, "first sync: waiting for the server…"},
		{matrixsvc.Progress{Task: matrixsvc.TaskSync, ID: "2", Unit: matrixsvc.UnitBytes, Done: 3 << 20}, "first sync 3.0 MB"},
		{matrixsvc.Progress{Task: matrixsvc.TaskSync, ID: "2", Unit: matrixsvc.UnitRooms, Done: 120, Total: 400}, "first sync 120/400 rooms"},
		{matrixsvc.Progress{Task: matrixsvc.TaskHistory, ID: "3", Unit: matrixsvc.UnitMessages, Done: 50}, "loading history 50 messages"},
		{matrixsvc.Progress{Task: matrixsvc.TaskKeys, ID: "4", Unit: matrixsvc.UnitKeys}, "restoring keys from backup…"},
	} {
		now = now.Add(time.Second)
		m.SetProgress(c.p)
		if view := m.View(); !strings.Contains(view, c.want) {
			t.Errorf("%+v shows as %q, want %q in it", c.p, view, c.want)
		}
	}

	for _, id := range []string{"2", "3", "4"} {
		m.SetProgress(matrixsvc.Progress{Task: map[string]matrixsvc.Task{"2": matrixsvc.TaskSync, "3": matrixsvc.TaskHistory, "4": matrixsvc.TaskKeys}[id], ID: id, Ended: true})
	}
	if view := m.View(); !strings.Contains(view, "sending cat") {
		t.Fatalf("the upload still under way is not shown: %q", view)
	}
	now = now.Add(2 * time.Minute) // its end was never heard of
	if view := m.View(); strings.Contains(view, "sending") {
		t.Fatalf("a task silent for two minutes still shows: %q", view)
	}
	if _, _, ok := m.Progress(); ok {
		t.Fatal("a silent task is still reported")
	}
}
