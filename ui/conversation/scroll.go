package conversation

import (
	"slices"

	"maunium.net/go/mautrix/id"
)

// Scrolling keeps the bottom of the window as (anchor entry, lines skipped below it), so that
// moving and drawing walk only the entries near the window.

// ScrollUp moves the window n lines towards older messages.
func (m *Model) ScrollUp(n int) {
	if len(m.entries) == 0 || n <= 0 {
		return
	}
	m.loadFailed = false
	if m.follow {
		m.follow, m.anchor, m.skip = false, len(m.entries)-1, 0
	}
	m.skip += n
	for m.anchor > 0 && m.skip >= len(m.lines(m.anchor)) {
		m.skip -= len(m.lines(m.anchor))
		m.anchor--
	}
	m.skip = min(m.skip, len(m.lines(m.anchor))-1)
	m.clamp()
}

// ScrollDown moves the window n lines towards newer messages.
func (m *Model) ScrollDown(n int) {
	if m.follow || n <= 0 {
		return
	}
	m.skip -= n
	for m.skip < 0 {
		if m.anchor >= len(m.entries)-1 {
			m.ScrollToBottom()
			return
		}
		m.anchor++
		m.skip += len(m.lines(m.anchor))
	}
}

// Has reports whether the message evt is loaded.
func (m *Model) Has(evt id.EventID) bool { return evt != "" && m.byEvent[evt] != nil }

// ShowMessage scrolls so that the message evt is in the middle of the window, and marks it
// (a search result) until another is marked. It reports whether the message is loaded.
func (m *Model) ShowMessage(evt id.EventID) bool {
	e := m.byEvent[evt]
	if evt == "" || e == nil {
		return false
	}
	if m.marked != nil {
		m.marked.marked = false
		m.marked.invalidate()
	}
	e.marked, m.marked = true, e
	e.invalidate()
	i := slices.Index(m.entries, e)
	m.follow, m.anchor, m.skip = false, i, 0
	m.ScrollDown(max(m.textHeight()/2-len(m.lines(i))/2, 0))
	m.clamp()
	return true
}

// ScrollToBottom follows the newest message again.
func (m *Model) ScrollToBottom() {
	m.follow, m.anchor, m.skip, m.unseen = true, 0, 0, 0
}

// AtBottom reports whether the newest message is in view.
func (m *Model) AtBottom() bool { return m.follow }

// bottom is the window's bottom position.
func (m *Model) bottom() (anchor, skip int) {
	if m.follow {
		return len(m.entries) - 1, 0
	}
	return m.anchor, m.skip
}

// above counts the lines from the top of the history to the bottom of the window, stopping at
// limit.
func (m *Model) above(limit int) int {
	a, skip := m.bottom()
	n := -skip
	for i := a; i >= 0 && n < limit; i-- {
		n += len(m.lines(i))
	}
	return max(n, 0)
}

// atTop reports whether the oldest loaded line is in view.
func (m *Model) atTop() bool { return m.above(m.textHeight()+1) <= m.textHeight() }

// clamp keeps the window from scrolling past the oldest line.
func (m *Model) clamp() {
	if m.follow {
		return
	}
	h := m.textHeight()
	if n := m.above(h); n < h {
		m.ScrollDown(h - n)
	}
}

// textHeight is the number of lines messages get: the loading line and, when scrolled up, the
// "below" hint take one each.
func (m *Model) textHeight() int {
	h := m.height
	if m.loading {
		h--
	}
	if !m.follow {
		h--
	}
	return max(h, 0)
}
