package conversation

import (
	"fmt"
	"strings"

	"duet/ui/internal/textutil"
)

// View draws the visible window: only the entries that reach it are rendered (from the cache).
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	hint := ""
	if !m.follow && m.unseen > 0 {
		hint = m.styles.NewBelow.Render(textutil.Fit(fmt.Sprintf(" ↓ %d new message%s below ", m.unseen, plural(m.unseen)), m.width))
	} else if !m.follow {
		hint = m.styles.Day.Render(textutil.Cut("  ↓ more below", m.width))
	}
	textH := m.textHeight()
	// Walk back from the bottom of the window, collecting lines.
	chunks := make([][]string, 0, 8)
	need := textH
	a, skip := m.bottom()
	for i := a; i >= 0 && need > 0; i-- {
		ls := m.lines(i)
		if i == a {
			ls = ls[:max(len(ls)-skip, 0)]
		}
		if len(ls) > need {
			cut := len(ls) - need
			ls = ls[cut:]
			if e := m.entries[i]; e.kitty != nil && e.picRows > 0 && cut > e.picFrom && cut < e.picFrom+e.picRows {
				// The picture's first row, which sends it to the terminal, is above the
				// window: the first row in view sends it instead.
				ls = append([]string{e.kitty.Transmit + ls[0]}, ls[1:]...)
			}
		}
		need -= len(ls)
		chunks = append(chunks, ls)
	}
	out := make([]string, 0, m.height)
	if m.loading {
		out = append(out, m.styles.Loading.Render(textutil.Cut("  ↑ loading older messages…", m.width)))
	} else if m.atStart && m.loaded && need > 0 {
		out = append(out, m.styles.Day.Render(textutil.Cut("  start of the conversation", m.width)))
		need--
	}
	for ; need > 0; need-- {
		out = append(out, "")
	}
	for i := len(chunks) - 1; i >= 0; i-- {
		out = append(out, chunks[i]...)
	}
	if hint != "" {
		out = append(out, hint)
	}
	if !m.loaded && len(m.entries) == 0 {
		out = []string{m.styles.Loading.Render(textutil.Cut("  loading messages…", m.width))}
	}
	return strings.Join(textutil.Lines(out, m.width, m.height), "\n")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
