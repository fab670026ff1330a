package search

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"duet/ui/internal/textutil"
)

// View draws the dialog as a bordered box of exactly its size; "" when closed.
func (m *Model) View() string {
	if !m.active || m.width <= 0 || m.height <= 0 {
		return ""
	}
	inner := max(m.width-4, 0)
	content := []string{m.input.View(), m.status(inner)}
	content = append(content, m.list(inner)...)
	return strings.Join(m.box(m.title(), content), "\n")
}

// title says where the dialog searches.
func (m *Model) title() string {
	if m.user() == "" {
		return "Search all conversations"
	}
	return "Search in " + m.who + "'s messages"
}

// status is the line under the query: how the search went on the left, the scope key on the
// right when there is room.
func (m *Model) status(w int) string {
	st := m.styles
	left, style := m.statusText()
	if m.err != "" {
		style = st.Warning
	}
	hint := ""
	if m.scope.User != "" {
		other := "all conversations"
		if m.everywhere {
			other = m.who + "'s messages"
		}
		hint = m.keys.Scope.Help().Key + ": " + other
	}
	lw, hw := lipgloss.Width(left), lipgloss.Width(hint)
	if hint == "" || hw == 0 || lw+2+hw > w {
		return style.Render(textutil.Cut(left, w))
	}
	return style.Render(left) + strings.Repeat(" ", w-lw-hw) + st.Hint.Render(hint)
}

func (m *Model) statusText() (string, lipgloss.Style) {
	st := m.styles
	switch {
	case m.err != "":
		return m.err, st.Warning
	case m.waiting:
		return "searching…", st.Status
	case m.query() == "":
		return "type words to find", st.Status
	case !m.shown:
		return "", st.Status // typed, the pause not over yet
	case len(m.rows) == 0:
		return "no messages match", st.Status
	}
	n := fmt.Sprint(len(m.rows))
	if m.more {
		n += "+"
	}
	if n == "1" {
		return "1 message", st.Status
	}
	return n + " messages", st.Status
}

// list is the results in view, two lines each.
func (m *Model) list(w int) []string {
	h := m.listHeight()
	if h == 0 || len(m.rows) == 0 {
		return nil
	}
	now := m.now()
	bracket := m.styles.Match.Render("x") == "x" // no styling shows: mark the matches in text
	out := make([]string, 0, h)
	for i := m.offset; i < len(m.rows) && len(out) < h; i++ {
		first, second := m.result(m.rows[i], i == m.selected, w, now, bracket)
		out = append(out, first, second)
	}
	return out[:min(len(out), h)]
}

// look is how one result is drawn: its styles, and its mark for terminals without colour.
type look struct {
	name, time, plain, match, snippet, sender lipgloss.Style
	mark                                      string
}

func (m *Model) lookOf(selected bool) look {
	st := m.styles
	if !selected {
		return look{name: st.Name, time: st.Time, plain: st.Snippet, match: st.Match, snippet: st.Snippet, sender: st.Time, mark: " "}
	}
	sel := st.Selected
	return look{name: st.Name.Inherit(sel), time: sel, plain: sel, match: st.Match.Inherit(sel), snippet: sel, sender: sel, mark: "›"}
}

// result draws one result: the conversation and the time, then the snippet.
func (m *Model) result(r row, selected bool, w int, now time.Time, bracket bool) (string, string) {
	if w < 2 {
		return "", ""
	}
	lk := m.lookOf(selected)
	return heading(r, lk, w, now), snippetLine(r, lk, w, bracket)
}

// heading is a result's first line: the conversation, and the time on the right when there
// is room.
func heading(r row, lk look, w int, now time.Time) string {
	when := stamp(r.res.Timestamp, now)
	tw := lipgloss.Width(when)
	nw := w - 1
	if tw > 0 && tw+2 <= nw {
		nw -= tw + 1
	} else {
		when, tw = "", 0
	}
	n := textutil.Cut(r.name, nw)
	first := lk.plain.Render(lk.mark) + lk.name.Render(n)
	if gap := w - 1 - lipgloss.Width(n) - tw; gap > 0 {
		first += lk.plain.Render(strings.Repeat(" ", gap))
	}
	return first + lk.time.Render(when)
}

// snippetLine is a result's second line: the sender when it is said, then the snippet, its
// matches set apart (in brackets when no styling shows).
func snippetLine(r row, lk look, w int, bracket bool) string {
	const indent = "   "
	second := lk.plain.Render(indent)
	room := max(w-len(indent), 0)
	if r.sender != "" && room > 0 {
		who := textutil.Cut(r.sender+": ", room)
		second += lk.sender.Render(who)
		room -= lipgloss.Width(who)
	}
	segs := r.snippet
	if bracket {
		segs = make([]segment, len(r.snippet))
		for i, s := range r.snippet {
			segs[i] = s
			if s.match {
				segs[i].text = "[" + s.text + "]"
			}
		}
	}
	used := 0
	for _, s := range fit(segs, room) {
		style := lk.snippet
		if s.match {
			style = lk.match
		}
		second += style.Render(s.text)
		used += lipgloss.Width(s.text)
	}
	if pad := room - used; pad > 0 {
		second += lk.plain.Render(strings.Repeat(" ", pad))
	}
	return second
}

// fit cuts a snippet to w cells. When the first match would fall beyond the end, text before
// it goes (shown by "…") so that the match is in view; text cut at the end ends with "…".
func fit(segs []segment, w int) []segment {
	if w <= 0 {
		return nil
	}
	total, lead, first := 0, 0, -1
	for i, s := range segs {
		if s.match && first < 0 {
			first, lead = i, total
		}
		total += ansi.StringWidth(s.text)
	}
	if total <= w {
		return segs
	}
	if first >= 0 {
		mw := ansi.StringWidth(segs[first].text)
		if lead > 0 && lead+mw > w {
			// Keep a little context before the match: a quarter of the line, less when the
			// match is long.
			keep := min(lead, w/4, max(w-1-mw, 0))
			segs = dropLeft(segs, lead-keep)
		}
	}
	out := make([]segment, 0, len(segs)+1)
	used := 0
	for _, s := range segs {
		sw := ansi.StringWidth(s.text)
		if used+sw <= w {
			out = append(out, s)
			used += sw
			continue
		}
		if room := w - 1 - used; room > 0 {
			s.text = ansi.Truncate(s.text, room, "")
			out = append(out, s)
		}
		out = append(out, segment{text: "…"})
		break
	}
	// Cutting wide characters may leave the line a cell wider than w; never more.
	for widthOf(out) > w && len(out) > 0 {
		last := &out[len(out)-1]
		last.text = ansi.Truncate(last.text, max(ansi.StringWidth(last.text)-1, 0), "")
		if last.text == "" {
			out = out[:len(out)-1]
		}
	}
	return out
}

// dropLeft removes n cells from the start of segs, and the rest of a word cut, and puts "…" in
// their place.
func dropLeft(segs []segment, n int) []segment {
	out := []segment{{text: "…"}}
	n++ // the "…" takes a cell too
	for _, s := range segs {
		sw := ansi.StringWidth(s.text)
		switch {
		case n <= 0:
			out = append(out, s)
		case sw <= n:
			n -= sw
		default:
			s.text = ansi.TruncateLeft(s.text, n, "")
			n = 0
			if i := strings.IndexByte(s.text, ' '); i >= 0 && !s.match {
				s.text = s.text[i+1:] // from the next whole word
			}
			if s.text != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func widthOf(segs []segment) int {
	n := 0
	for _, s := range segs {
		n += ansi.StringWidth(s.text)
	}
	return n
}

// stamp is a result's time: the time today, the day this year, the date before.
func stamp(ts, now time.Time) string {
	if ts.IsZero() {
		return ""
	}
	ts = ts.In(now.Location())
	y1, m1, d1 := ts.Date()
	y2, m2, d2 := now.Date()
	switch {
	case y1 == y2 && m1 == m2 && d1 == d2:
		return ts.Format("15:04")
	case y1 == y2:
		return ts.Format("2 Jan")
	default:
		return ts.Format("2 Jan 2006")
	}
}

// box frames the content in a rounded border with the title in its top edge: exactly the
// dialog's size, the content cut or padded to fit.
func (m *Model) box(title string, content []string) []string {
	st := m.styles
	w, h := m.width, m.height
	inner := max(w-4, 0)
	title = textutil.Cut(title, max(w-6, 1))
	fill := max(w-5-lipgloss.Width(title), 0)
	out := make([]string, 0, h)
	out = append(out, st.Border.Render("╭─ ")+st.Title.Render(title)+st.Border.Render(" "+strings.Repeat("─", fill)+"╮"))
	side := st.Border.Render("│")
	for i := 0; i < h-2; i++ {
		l := ""
		if i < len(content) {
			l = content[i]
		}
		out = append(out, side+" "+textutil.Fit(l, inner)+" "+side)
	}
	if h > 1 {
		out = append(out, st.Border.Render("╰"+strings.Repeat("─", max(w-2, 0))+"╯"))
	}
	for i := range out {
		out[i] = textutil.Cut(out[i], w)
	}
	return out
}
