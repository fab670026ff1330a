// Package statusbar is the bottom line: connection and sync state, the last error or notice, and
// key hints.
package statusbar

import (
	"fmt"
	"strings"
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
	err     string
	info    string
	ask     string // a question the next key answers
	hint    string
	account string
	now     func() time.Time
	tasks   map[string]task // long work under way (progress.go)

	// Each account's connection, one when one account is open; with several, their labels
	// (accounts is nil with one).
	states   []accountState
	accounts []Account
}

// Account is how the bar names one of several accounts.
type Account struct {
	Tag   string
	Style lipgloss.Style // the tag's colour
}

type accountState struct {
	sync    matrixsvc.SyncStateChanged
	retryAt time.Time // offline: when the next attempt is due (for the countdown)
}

// SetAccounts names the accounts whose connections the bar shows, when there are several.
func (m *Model) SetAccounts(accts []Account) {
	if len(accts) < 2 {
		m.accounts, m.states = nil, make([]accountState, 1)
		return
	}
	m.accounts = accts
	m.states = make([]accountState, len(accts))
}

// New returns a status bar in the connecting state, for one account.
func New(st styles.Status) Model {
	return Model{styles: st, now: time.Now, states: make([]accountState, 1)}
}

// SetStyles draws the bar with st from now on.
func (m *Model) SetStyles(st styles.Status) { m.styles = st }

// SetClock sets the clock the countdown reads (tests pass a fixed one).
func (m *Model) SetClock(now func() time.Time) { m.now = now }

// Offline reports whether the bar shows a connection as down.
func (m *Model) Offline() bool {
	return len(m.OfflineAccounts()) > 0
}

// OfflineAccounts returns the indexes of the accounts whose connection is down.
func (m *Model) OfflineAccounts() []int {
	var out []int
	for i, st := range m.states {
		if st.sync.State == matrixsvc.SyncOffline {
			out = append(out, i)
		}
	}
	return out
}

// SetWidth sets the width.
func (m *Model) SetWidth(w int) { m.width = w }

// SetSync shows the sync loop's state (of the first account).
func (m *Model) SetSync(s matrixsvc.SyncStateChanged) { m.SetSyncOf(0, s) }

// SetSyncOf shows the state of the sync loop of the account with index acct: one account
// offline does not mark the others so.
func (m *Model) SetSyncOf(acct int, s matrixsvc.SyncStateChanged) {
	retryAt := time.Time{}
	if s.State == matrixsvc.SyncOffline && s.RetryIn > 0 {
		retryAt = m.now().Add(s.RetryIn)
	}
	if acct >= 0 && acct < len(m.states) {
		m.states[acct] = accountState{sync: s, retryAt: retryAt}
	}
}

// RetryingNow shows that a retry was asked for.
func (m *Model) RetryingNow() {
	for i := range m.states {
		if m.states[i].sync.State == matrixsvc.SyncOffline {
			m.states[i].retryAt = m.now()
		}
	}
}

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
	if m.accounts != nil {
		return m.viewAccounts()
	}
	one := m.states[0]
	var state string
	switch one.sync.State {
	case matrixsvc.SyncLive:
		state = st.Live.Render("● live")
	case matrixsvc.SyncOffline:
		state = st.Offline.Render("✗ offline" + m.retrying(one, " (any key: now)"))
	default:
		label := "○ connecting…"
		if p, _, ok := m.Progress(); ok && p.Task == matrixsvc.TaskSync {
			label = "○ syncing" // connected: the first sync is on its way
		}
		state = st.Waiting.Render(label)
	}
	offline := ""
	if one.sync.State == matrixsvc.SyncOffline && one.sync.Err != nil {
		offline = sanitize.Line(matrixsvc.Explain(one.sync.Err))
	}
	return m.finish(state, m.message(offline))
}

// retrying is the countdown to an offline account's next attempt ("" when none is due), with
// more after the seconds.
func (m *Model) retrying(s accountState, more string) string {
	if s.retryAt.IsZero() {
		return ""
	}
	if left := s.retryAt.Sub(m.now()).Round(time.Second); left > 0 {
		return fmt.Sprintf(", retrying in %s%s", left, more)
	}
	return ", retrying…"
}

// message is what the bar says after the connection: a question, an error, a notice, why the
// connection is down (offline), or who we are.
func (m *Model) message(offline string) string {
	st := m.styles
	switch {
	case m.ask != "":
		return st.Ask.Render(m.ask)
	case m.err != "":
		return st.Error.Render(m.err)
	case m.info != "":
		return st.Info.Render(m.info)
	case offline != "":
		return st.Error.Render(offline)
	case m.account != "":
		return st.Hint.Render(m.account)
	}
	return ""
}

// finish draws the bar: the connection, the progress, the message, the hints at the right.
func (m *Model) finish(state, msg string) string {
	st := m.styles
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

// viewAccounts draws the bar with several accounts: each one's connection, by its tag.
func (m *Model) viewAccounts() string {
	st := m.styles
	var parts []string
	offlineMsg := ""
	for i, a := range m.accounts {
		s := m.states[i]
		tag := a.Style.Render(a.Tag)
		switch s.sync.State {
		case matrixsvc.SyncLive:
			parts = append(parts, st.Live.Render("●")+" "+tag)
		case matrixsvc.SyncOffline:
			parts = append(parts, st.Offline.Render("✗ "+a.Tag+" offline"+m.retrying(s, "")))
			if offlineMsg == "" && s.sync.Err != nil {
				offlineMsg = a.Tag + ": " + sanitize.Line(matrixsvc.Explain(s.sync.Err))
			}
		default:
			parts = append(parts, st.Waiting.Render("○")+" "+tag)
		}
	}
	return m.finish(strings.Join(parts, " "), m.message(offlineMsg))
}
