// Package statusbar is the bottom line: connection and sync state, the last error or notice, and
// key hints.
package statusbar

import (
	"fmt"
	"time"

	"charm.land/lipgloss/v2"

	"duet/internal/sanitize"
	"duet/matrixsvc"
	"duet/ui/internal/textutil"
	"duet/ui/styles"
)

// Model is the status bar.
type Model struct {
	styles  styles.Status
	width   int
	sync    matrixsvc.SyncStateChanged
	err     string
	info    string
	ask     string // a question the next key answers
	hint    string
	account string
	now     func() time.Time
	retryAt time.Time       // offline: when the next attempt is due (for the countdown)
	tasks   map[string]task // long work under way (progress.go)
}

// New returns a status bar in the connecting state.
func New(st styles.Status) Model { return Model{styles: st, now: time.Now} }

// SetStyles draws the bar with st from now on.
func (m *Model) SetStyles(st styles.Status) { m.styles = st }

// SetClock sets the clock the countdown reads (tests pass a fixed one).
func (m *Model) SetClock(now func() time.Time) { m.now = now }

// Offline reports whether the bar shows the connection as down.
func (m *Model) Offline() bool { return m.sync.State == matrixsvc.SyncOffline }

// SetWidth sets the width.
func (m *Model) SetWidth(w int) { m.width = w }

// SetSync shows the sync loop's state.
func (m *Model) SetSync(s matrixsvc.SyncStateChanged) {
	m.sync = s
	m.retryAt = time.Time{}
	if s.State == matrixsvc.SyncOffline && s.RetryIn > 0 {
		m.retryAt = m.now().Add(s.RetryIn)
	}
}

// RetryingNow shows that a retry was asked for.
func (m *Model) RetryingNow() { m.retryAt = m.now() }

// SetError shows an error (in red) until the next notice; "" clears it.
func (m *Model) SetError(s string) { m.err, m.info = sanitize.Line(s), "" }

// SetInfo shows a notice and clears any error.
func (m *Model) SetInfo(s string) { m.info, m.err = sanitize.Line(s), "" }

// ClearInfo drops a notice (not an error): it has been seen once the user moves on.
func (m *Model) ClearInfo() { m.info = "" }

// ClearError takes an error away once it has been seen and dismissed.
func (m *Model) ClearError() { m.err = "" }

// Ask shows a question that the next key answers, above any notice; "" takes it away.
func (m *Model) Ask(s string) { m.ask = sanitize.Line(s) }

// SetHint sets the key hints shown on the right.
func (m *Model) SetHint(s string) { m.hint = s }

// SetAccount sets who we are, shown while nothing else needs saying.
func (m *Model) SetAccount(s string) { m.account = sanitize.Line(s) }

// Error returns the error shown, if any.
func (m *Model) Error() string { return m.err }

// View draws the bar.
func (m *Model) View() string {
	if m.width <= 0 {
		return ""
	}
	st := m.styles
	var state string
	switch m.sync.State {
	case matrixsvc.SyncLive:
		state = st.Live.Render("● live")
	case matrixsvc.SyncOffline:
		s := "✗ offline"
		if !m.retryAt.IsZero() {
			if left := m.retryAt.Sub(m.now()).Round(time.Second); left > 0 {
				s += fmt.Sprintf(", retrying in %s (any key: now)", left)
			} else {
				s += ", retrying…"
			}
		}
		state = st.Offline.Render(s)
	default:
		label := "○ connecting…"
		if p, _, ok := m.Progress(); ok && p.Task == matrixsvc.TaskSync {
			label = "○ syncing" // connected: the first sync is on its way
		}
		state = st.Waiting.Render(label)
	}
	msg := ""
	switch {
	case m.ask != "":
		msg = st.Ask.Render(m.ask)
	case m.err != "":
		msg = st.Error.Render(m.err)
	case m.info != "":
		msg = st.Info.Render(m.info)
	case m.sync.State == matrixsvc.SyncOffline && m.sync.Err != nil:
		msg = st.Error.Render(sanitize.Line(matrixsvc.Explain(m.sync.Err)))
	case m.account != "":
		msg = st.Hint.Render(m.account)
	}
	line := state
	if p := m.progressText(); p != "" {
		line += "  " + st.Info.Render(p)
	}
	if msg != "" {
		line += "  " + msg
	}
	hint := st.Hint.Render(m.hint)
	used := lipgloss.Width(line)
	if m.hint != "" && used+2+lipgloss.Width(hint) <= m.width {
		gap := m.width - used - lipgloss.Width(hint)
		line += fmt.Sprintf("%*s", gap, "") + hint
	}
	return st.Bar.Render(textutil.Fit(line, m.width))
}
