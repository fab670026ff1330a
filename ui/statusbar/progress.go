package statusbar

import (
	"fmt"
	"time"

	"duet/internal/sanitize"
	"duet/matrixsvc"
	"duet/ui/internal/textutil"
)

// staleAfter is how long a task that said nothing more stays shown: its last report may have
// been lost (the service leaves reports out when the UI is behind).
const staleAfter = time.Minute

// task is a long piece of work under way, as its last report said.
type task struct {
	p    matrixsvc.Progress
	seen time.Time
}

// SetProgress takes in a task's progress: shown while it runs, gone once it ended.
func (m *Model) SetProgress(p matrixsvc.Progress) {
	if m.tasks == nil {
		m.tasks = map[string]task{}
	}
	for key, t := range m.tasks { // forgotten here, not in View: drawing changes nothing
		if m.now().Sub(t.seen) > staleAfter {
			delete(m.tasks, key)
		}
	}
	key := fmt.Sprintf("%d/%s", p.Task, p.ID)
	if p.Ended {
		delete(m.tasks, key)
		return
	}
	m.tasks[key] = task{p: p, seen: m.now()}
}

// Progress is the task to show (the one reported last) and how far it is, from 0 to 1 (-1:
// not known); ok is false when no task runs.
func (m *Model) Progress() (p matrixsvc.Progress, fraction float64, ok bool) {
	var newest task
	for _, t := range m.tasks {
		if m.now().Sub(t.seen) > staleAfter {
			continue // its end was never heard of
		}
		if !ok || t.seen.After(newest.seen) {
			newest, ok = t, true
		}
	}
	if !ok {
		return p, 0, false
	}
	p = newest.p
	if p.Total <= 0 {
		return p, -1, true
	}
	return p, min(float64(p.Done)/float64(p.Total), 1), true
}

// progressText says what runs and how far it is: "sending cat.png 42%".
func (m *Model) progressText() string {
	p, f, ok := m.Progress()
	if !ok {
		return ""
	}
	what := map[matrixsvc.Task]string{
		matrixsvc.TaskSync:     "first sync",
		matrixsvc.TaskHistory:  "loading history",
		matrixsvc.TaskUpload:   "sending",
		matrixsvc.TaskDownload: "fetching",
		matrixsvc.TaskKeys:     "restoring keys from backup",
	}[p.Task]
	if name := sanitize.Line(p.Name); name != "" {
		what += " " + textutil.Cut(name, 24)
	}
	return what + howFar(p, f)
}

// howFar is a task's count: a share, a count of a total, or a count alone.
func howFar(p matrixsvc.Progress, f float64) string {
	switch {
	case p.Unit == matrixsvc.UnitBytes && f >= 0:
		return fmt.Sprintf(" %d%%", int(f*100))
	case p.Unit == matrixsvc.UnitBytes && p.Done > 0:
		return " " + textutil.Size(p.Done)
	case p.Done == 0 && p.Task == matrixsvc.TaskSync && p.Unit == matrixsvc.UnitBytes:
		// The server prepares the answer before a byte comes: seconds, minutes on a large
		// account. The contacts are there meanwhile (matrixsvc.Bootstrap).
		return ": waiting for the server…"
	case p.Done == 0:
		return "…"
	}
	unit := map[matrixsvc.Unit]string{matrixsvc.UnitRooms: "rooms", matrixsvc.UnitMessages: "messages", matrixsvc.UnitKeys: "keys"}[p.Unit]
	if p.Total > 0 {
		return fmt.Sprintf(" %d/%d %s", p.Done, p.Total, unit)
	}
	return fmt.Sprintf(" %d %s", p.Done, unit)
}
