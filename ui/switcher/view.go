package switcher

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"duet/ui/internal/textutil"
)

const title = "Switch to"

// rowKind is what a line of the list is.
type rowKind int

const (
	rowChoice  rowKind = iota // a selectable entry
	rowHeading                // "from the server's directory"
	rowNote                   // searching…, no match, the directory's error
)

type row struct {
	kind   rowKind
	choice int    // index into shown, for rowChoice
	text   string // for the others
}

// rows is the list as drawn, top to bottom.
func (m *Model) rows() []row {
	rows := make([]row, 0, len(m.shown)+3)
	note := func(s string) { rows = append(rows, row{kind: rowNote, text: s}) }
	for i := range m.split {
		rows = append(rows, row{kind: rowChoice, choice: i})
	}
	switch {
	case len(m.items) == 0 && m.query == "":
		note("no conversations yet: type @user:server to start one")
	case m.split == 0 && m.query != "":
		note("no match")
	}
	if m.query == "" {
		return rows
	}
	if m.split < len(m.shown) {
		rows = append(rows, row{kind: rowHeading, text: "from the server's directory"})
		for i := m.split; i < len(m.shown); i++ {
			rows = append(rows, row{kind: rowChoice, choice: i})
		}
	}
	switch m.query {
	case m.pending:
		note("searching the directory…")
	case m.failQuery:
		note("the directory search failed: " + m.failReason)
	}
	return rows
}

// selectedRow is the row of the selected choice, -1 when there is none.
func selectedRow(rows []row, sel int) int {
	for i, r := range rows {
		if r.kind == rowChoice && r.choice == sel {
			return i
		}
	}
	return -1
}

// listHeight is the number of list lines the box has: the height less the top edge, the
// query, the rule under it (from 5 lines) and the bottom edge.
func (m *Model) listHeight() int {
	switch {
	case m.height >= 5:
		return m.height - 4
	case m.height == 4:
		return 1
	}
	return 0
}

// clamp keeps the selection in view.
func (m *Model) clamp() {
	rows := m.rows()
	m.offset = scroll(m.offset, selectedRow(rows, m.selected), rows, m.listHeight())
}

// scroll is the first row to draw so that row sel is in h lines, with the heading above it
// when it is the first of its section, and no blank lines below the list that rows could fill.
func scroll(off, sel int, rows []row, h int) int {
	if h <= 0 {
		return 0
	}
	if sel >= 0 {
		first := sel
		if sel > 0 && rows[sel-1].kind == rowHeading {
			first = sel - 1
		}
		if first < off {
			off = first
		}
		if sel >= off+h {
			off = sel - h + 1
		}
	}
	return max(min(off, len(rows)-h), 0)
}

// View draws the switcher as a box exactly the size set; "" when closed.
func (m *Model) View() string {
	w, h := m.width, m.height
	if !m.active || w <= 0 || h <= 0 {
		return ""
	}
	st := m.styles
	inner := max(w-4, 0)
	if h < 3 { // no room for the box: the query alone
		lines := make([]string, h)
		lines[0] = m.input.View()
		return strings.Join(textutil.Lines(lines, w, h), "\n")
	}
	side := st.Border.Render("│")
	framed := func(s string) string { return side + " " + textutil.Fit(s, inner) + " " + side }

	lines := make([]string, 0, h)
	t := textutil.Cut(title, max(w-6, 1))
	lines = append(lines, st.Border.Render("╭─ ")+st.Title.Render(t)+st.Border.Render(" "+strings.Repeat("─", max(w-5-lipgloss.Width(t), 0))+"╮"))
	lines = append(lines, framed(m.input.View()))
	if h >= 5 {
		lines = append(lines, st.Border.Render("├"+strings.Repeat("─", max(w-2, 0))+"┤"))
	}
	rows := m.rows()
	lh := m.listHeight()
	sel := selectedRow(rows, m.selected)
	off := scroll(m.offset, sel, rows, lh)
	for i := off; i < off+lh; i++ {
		if i >= len(rows) {
			lines = append(lines, framed(""))
			continue
		}
		lines = append(lines, side+" "+m.rowLine(rows[i], i == sel, inner)+" "+side)
	}
	count := fmt.Sprintf(" %d/%d ", m.split-m.leading(), len(m.items))
	if lipgloss.Width(count) > w-4 {
		count = ""
	}
	lines = append(lines, st.Border.Render("╰─"+count+strings.Repeat("─", max(w-3-lipgloss.Width(count), 0))+"╯"))
	for i := range lines {
		lines[i] = textutil.Fit(lines[i], w) // exact on a box too narrow for its frame
	}
	return strings.Join(lines, "\n")
}

// leading is 1 when the first row is the new-DM row, which is no match of the list.
func (m *Model) leading() int {
	if len(m.shown) > 0 && m.shown[0].it.Kind == KindNewDM {
		return 1
	}
	return 0
}

// seg is a run of text in one style.
type seg struct {
	text  string
	style look
}

// look names a style of the row (a lipgloss.Style is a large value to carry in every seg).
type look uint8

const (
	lookPlain look = iota
	lookName
	lookMatch
	lookUserID
	lookDetail
	lookInvite
	lookNote
)

func (m *Model) style(l look) lipgloss.Style {
	st := m.styles
	switch l {
	case lookName:
		return st.Name
	case lookMatch:
		return st.Match
	case lookUserID:
		return st.UserID
	case lookDetail:
		return st.Detail
	case lookInvite:
		return st.Invite
	case lookNote:
		return st.Note
	}
	return lipgloss.NewStyle()
}

// rowLine draws one row of the list exactly w cells wide.
func (m *Model) rowLine(r row, selected bool, w int) string {
	st := m.styles
	switch r.kind {
	case rowHeading:
		return st.Heading.Render(textutil.Fit(r.text, w))
	case rowNote:
		return st.Note.Render(textutil.Fit(r.text, w))
	}
	c := m.shown[r.choice]
	it := c.it
	mark := "  "
	if selected {
		mark = "› " // the highlight, for terminals without colour
	}
	var left []seg
	var right seg
	if it.Kind == KindNewDM {
		left = []seg{{"start a DM with ", lookNote}, {it.name, lookName}}
	} else {
		left = highlight(it.name, 0, c.matched, lookName)
		if it.uid != "" {
			left = append(left, seg{"  ", lookName})
			left = append(left, highlight(it.uid, len(it.name)+1, c.matched, lookUserID)...)
		}
		right = seg{it.detail, lookDetail}
		if it.Kind == KindInvite {
			right.style = lookInvite
		}
	}
	room := w - lipgloss.Width(mark)
	if rw := min(ansi.StringWidth(right.text), room/3); rw >= 3 {
		right.text = textutil.Cut(right.text, rw)
		room -= rw + 1
	} else {
		right.text = ""
	}
	left = fit(left, room)
	out := make([]seg, 0, len(left)+3)
	out = append(out, seg{mark, lookPlain})
	out = append(out, left...)
	out = append(out, seg{strings.Repeat(" ", max(room-width(left), 0)), lookPlain})
	if right.text != "" {
		out = append(out, seg{" " + right.text, right.style})
	}
	var b strings.Builder
	for _, s := range out {
		style := m.style(s.style)
		if selected {
			style = style.Inherit(st.Selected) // the row's background under every run
		}
		b.WriteString(style.Render(s.text))
	}
	return textutil.Fit(b.String(), w)
}

// highlight splits s into runs of base and of the match style, the bytes matched being given
// as offsets (ascending) into a string in which s starts at off.
func highlight(s string, off int, matched []int, base look) []seg {
	if len(matched) == 0 {
		return []seg{{s, base}}
	}
	var out []seg
	k, start, on := 0, 0, false
	for p := range s { // p: the byte offset of each rune
		for k < len(matched) && matched[k] < off+p {
			k++
		}
		hit := k < len(matched) && matched[k] == off+p
		if hit != on && p > start {
			out = append(out, seg{s[start:p], pick(on, base)})
			start = p
		}
		on = hit
	}
	return append(out, seg{s[start:], pick(on, base)})
}

func pick(on bool, base look) look {
	if on {
		return lookMatch
	}
	return base
}

// fit cuts runs to w cells, the last cell an ellipsis when anything was cut.
func fit(segs []seg, w int) []seg {
	if width(segs) <= w {
		return segs
	}
	if w <= 0 {
		return nil
	}
	var out []seg
	used := 0
	for _, s := range segs {
		sw := ansi.StringWidth(s.text)
		if used+sw <= w-1 {
			out = append(out, s)
			used += sw
			continue
		}
		return append(out, seg{ansi.Truncate(s.text, w-1-used, "") + "…", s.style})
	}
	return out
}

func width(segs []seg) int {
	n := 0
	for _, s := range segs {
		n += ansi.StringWidth(s.text)
	}
	return n
}
