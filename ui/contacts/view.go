package contacts

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"duet/ui/internal/textutil"
)

// row is one line of the list: a section heading (item -1) or one of an item's two lines.
type row struct {
	item    int
	section Section
	second  bool
}

func (m *Model) rows() []row {
	var rows []row
	last := Section(-1)
	for i, it := range m.shown {
		if it.Section != last {
			last = it.Section
			rows = append(rows, row{item: -1, section: it.Section})
		}
		rows = append(rows, row{item: i}, row{item: i, second: true})
	}
	return rows
}

func (m *Model) headerLines() int {
	if m.filtering || m.filter.Value() != "" {
		return 2
	}
	return 1
}

func (m *Model) listHeight() int { return max(m.height-m.headerLines(), 0) }

func (m *Model) clampOffset() {
	rows := m.rows()
	h := m.listHeight()
	sel := m.selectedIndex()
	first, last := -1, -1
	for i, r := range rows {
		if r.item == sel && sel >= 0 {
			if first < 0 {
				first = i
				if i > 0 && rows[i-1].item < 0 {
					first = i - 1 // keep the section heading in view too
				}
			}
			last = i
		}
	}
	if first >= 0 {
		if first < m.offset {
			m.offset = first
		}
		if last >= m.offset+h {
			m.offset = last - h + 1
		}
	}
	m.offset = max(min(m.offset, len(rows)-h), 0)
}

// View draws the pane at its size.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	lines := make([]string, 0, m.height)
	title := m.styles.Title
	if m.focused {
		title = m.styles.TitleOn
	}
	heading := fmt.Sprintf("Contacts (%d)", m.count())
	if m.only > 0 {
		heading += " · " + m.accounts[m.only-1].Tag + " only"
	}
	lines = append(lines, title.Render(textutil.Cut(heading, m.width)))
	if m.headerLines() > 1 {
		lines = append(lines, m.filter.View())
	}
	rows := m.rows()
	if len(rows) == 0 {
		msg := "No conversations yet: press n to start one"
		switch {
		case m.filter.Value() != "":
			msg = "No match"
		case m.only > 0:
			msg = fmt.Sprintf("No conversations in %s: 0 shows every account", m.accounts[m.only-1].Tag)
		}
		for _, l := range strings.Split(wrapWords(msg, m.width), "\n") {
			lines = append(lines, m.styles.Empty.Render(l))
		}
	}
	now := m.now()
	sel := m.selectedIndex()
	for i := m.offset; i < len(rows) && len(lines) < m.height; i++ {
		r := rows[i]
		if r.item < 0 {
			title := sectionTitles[r.section]
			if r.section == SectionRequests {
				title = fmt.Sprintf("%s (%d)", title, m.inSection(SectionRequests))
			}
			lines = append(lines, m.styles.Section.Render(textutil.Cut("─ "+title+" ", m.width)))
			continue
		}
		lines = append(lines, m.itemLine(m.shown[r.item], r.second, r.item == sel, now))
	}
	return strings.Join(textutil.Lines(lines, m.width, m.height), "\n")
}

func (m *Model) count() int {
	n := 0
	for _, it := range m.all {
		if m.only > 0 && it.Acct != m.only-1 {
			continue // narrowed to one account: its contacts
		}
		if it.Kind == KindContact && !it.Request {
			n++
		}
	}
	return n
}

// inSection counts the rows shown in a section.
func (m *Model) inSection(sec Section) int {
	n := 0
	for _, it := range m.shown {
		if it.Section == sec {
			n++
		}
	}
	return n
}

// itemLine draws one of an item's two lines: its name with the time and unread count, or
// (second) the line under it.
func (m *Model) itemLine(it Item, second, selected bool, now time.Time) string {
	if m.width < 4 {
		return ""
	}
	if second {
		return m.detailLine(it, selected)
	}
	return m.nameLine(it, selected, now)
}

// nameLine is an item's first line: its name, then the time of its last activity and its
// unread count at the right.
func (m *Model) nameLine(it Item, selected bool, now time.Time) string {
	w := m.width
	pick := func(s, plain string) string { // selected rows are drawn in one style
		if selected {
			return plain
		}
		return s
	}
	right := ""
	if it.TS > 0 {
		right = textutil.When(time.UnixMilli(it.TS), now)
	}
	badge := unreadBadge(it.Unread)
	rw := len(right) + len(badge)
	if rw > 0 {
		rw++
	}
	shown := it.Name
	if it.Request {
		// The user ID is the name, its server on the second line: both must be readable
		// in full, as the server is what tells @bob:example.org from @bob:evil.example.
		shown, _, _ = strings.Cut(it.Name, ":")
	}
	name := textutil.Fit(shown, max(w-1-rw, 1))
	mark := " "
	if selected {
		mark = "›" // the highlight, for terminals without colour
	}
	line := mark + pick(m.styles.Name.Render(name), name)
	if right != "" {
		line += " " + pick(m.styles.Time.Render(right), right)
	}
	if badge != "" {
		if right == "" {
			line += " "
		}
		line += m.styles.Badge.Render(badge)
	}
	if selected {
		return m.styles.Selected.Render(textutil.Fit(line, w))
	}
	return textutil.Fit(line, w)
}

// unreadBadge is the unread count as drawn in its badge, "" for none.
func unreadBadge(unread int) string {
	switch {
	case unread > 999:
		return " 999+ "
	case unread > 0:
		return fmt.Sprintf(" %d ", unread)
	}
	return ""
}

// detailLine is an item's second line: its latest message, or what it is (a request, an
// invite, blocked, a group) with the keys that answer it.
func (m *Model) detailLine(it Item, selected bool) string {
	text := it.Preview
	st := m.styles.Preview
	switch {
	case it.Request:
		_, server, _ := strings.Cut(it.Name, ":")
		text = fmt.Sprintf(":%s · request", server)
		st = m.styles.Pending
	case it.Pending:
		text = fmt.Sprintf("invite · %s accept · %s decline", m.keys.Accept.Help().Key, m.keys.Decline.Help().Key)
		st = m.styles.Pending
	case it.Blocked:
		text = fmt.Sprintf("blocked · %s unblock", m.keys.Unblock.Help().Key)
		st = m.styles.Pending
	case it.Kind == KindGroup:
		text = fmt.Sprintf("%d members · %s", it.Members, it.Preview)
	}
	if it.Tag != "" && it.Request && lipgloss.Width(text)+3+len(" · ")+lipgloss.Width(it.Tag) > m.width {
		// A request's server tells @bob:example.org from @bob:evil.example: it keeps its
		// room, and the account's tag (the section says it is a request) follows it.
		_, server, _ := strings.Cut(it.Name, ":")
		text = textutil.Fit("   :"+server+" "+it.Tag, m.width)
		if selected {
			return m.styles.Selected.Render(text)
		}
		return st.Render(text)
	}
	if it.Tag == "" {
		text = textutil.Fit("   "+text, m.width)
		if selected {
			return m.styles.Selected.Render(text)
		}
		return st.Render(text)
	}
	// Several accounts: the row's account comes first, in its colour.
	tag := textutil.Cut(it.Tag, max(m.width-4, 1))
	rest := textutil.Fit(" "+text, max(m.width-3-lipgloss.Width(tag), 0))
	if selected {
		return m.styles.Selected.Render(textutil.Fit("   "+tag+rest, m.width))
	}
	return textutil.Fit("   "+m.accounts[it.Acct].Style.Render(tag)+st.Render(rest), m.width)
}

// wrapWords wraps plain text at w cells.
func wrapWords(s string, w int) string {
	var out, line []string
	n := 0
	for _, word := range strings.Fields(s) {
		if n > 0 && n+1+len(word) > w {
			out = append(out, strings.Join(line, " "))
			line, n = nil, 0
		}
		if n > 0 {
			n++
		}
		line = append(line, word)
		n += len(word)
	}
	if len(line) > 0 {
		out = append(out, strings.Join(line, " "))
	}
	return strings.Join(out, "\n")
}
