package conversation

import (
	"slices"

	"duet/matrixsvc"
)

// Picking a message in the timeline: the one a reply answers, a reaction goes to, an edit or
// a deletion changes. The picked message is drawn with its time highlighted and a bar beside
// its lines, and is kept in view as the pick moves.

// Pick picks the newest message. It reports whether there is one.
func (m *Model) Pick() bool {
	if len(m.entries) == 0 {
		return false
	}
	m.setPicked(m.entries[len(m.entries)-1])
	m.keepPickedInView()
	return true
}

// MovePick moves the pick by d messages (negative: older), stopping at either end. It reports
// whether the pick is at the oldest loaded message, where older history may be asked for.
func (m *Model) MovePick(d int) (atOldest bool) {
	if m.picked == nil {
		return false
	}
	i := slices.Index(m.entries, m.picked)
	i = min(max(i+d, 0), len(m.entries)-1)
	m.setPicked(m.entries[i])
	m.keepPickedInView()
	return i == 0
}

// Picked returns the picked message and whether one is picked.
func (m *Model) Picked() (matrixsvc.Message, bool) {
	if m.picked == nil {
		return matrixsvc.Message{}, false
	}
	return m.picked.msg, true
}

// Unpick ends picking; the window stays where it is.
func (m *Model) Unpick() { m.setPicked(nil) }

func (m *Model) setPicked(e *entry) {
	if m.picked == e {
		return
	}
	if m.picked != nil {
		m.picked.selected = false
		m.picked.invalidate()
	}
	if e != nil {
		e.selected = true
		e.invalidate()
	}
	m.picked = e
}

// keepPickedInView scrolls as little as needed for the whole picked message (as much of it as
// fits) to be in the window.
func (m *Model) keepPickedInView() {
	i := slices.Index(m.entries, m.picked)
	if i < 0 {
		return
	}
	if i == len(m.entries)-1 {
		m.ScrollToBottom()
		return
	}
	h := m.textHeight()
	if !m.follow {
		h = max(h, 1)
	} else {
		h = max(h-1, 1) // leaving the bottom takes a line for the "more below" hint
	}
	a, skip := m.bottom()
	if i > a { // below the window: bring its last line to the bottom
		m.follow, m.anchor, m.skip = false, i, 0
		m.clamp()
		return
	}
	below := -skip // lines of the window under the picked message
	for j := a; j > i; j-- {
		below += len(m.lines(j))
	}
	size := len(m.lines(i))
	if below >= 0 && below+size <= h {
		return // already in view
	}
	// Above the window (or cut by its bottom): its first line goes to the top, or its last
	// line to the bottom when it is taller than the window.
	m.follow, m.anchor, m.skip = false, i, 0
	if size < h {
		m.ScrollDown(h - size)
	}
	m.clamp()
}

// MarkUnread says that the newest n messages from others were not read when the conversation
// was opened: a line above the first of them says so (the fully-read marker). n = 0 takes the
// line away.
func (m *Model) MarkUnread(n int) {
	m.unread = n
	m.placeUnread()
}

// placeUnread puts the "new" line above the oldest of the newest m.unread messages from others
// that are loaded.
func (m *Model) placeUnread() {
	var at *entry
	if n := m.unread; n > 0 {
		for i := len(m.entries) - 1; i >= 0 && n > 0; i-- {
			if e := m.entries[i]; e.msg.Sender != m.me && e.msg.EventID != "" {
				at, n = e, n-1
			}
		}
		if n > 0 && !m.atStart {
			at = nil // the first unread one is not loaded yet
		}
	}
	if at == m.newLine {
		return
	}
	if m.newLine != nil {
		m.newLine.unread = false
		m.newLine.invalidate()
	}
	if at != nil {
		at.unread = true
		at.invalidate()
	}
	m.newLine = at
}
