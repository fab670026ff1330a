package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"duet/ui/chat"
	"duet/ui/internal/terminal"
	"duet/ui/internal/textutil"
)

// layout is where everything goes at the current size.
type layout struct {
	width, height int
	leftW, rightW int
	mainH         int // everything above the status bar
	timelineH     int
	composerH     int
	composerTop   int // first line of the composer
}

func (m *Model) computeLayout() layout {
	w, h := max(m.width, 20), max(m.height, 6)
	l := layout{width: w, height: h, mainH: h - 1}
	l.leftW = min(max(w*3/10, 18), 32)
	l.rightW = w - l.leftW - 1
	switch {
	case l.mainH >= 14:
		l.composerH = 3
	case l.mainH >= 10:
		l.composerH = 2
	default:
		l.composerH = 1
	}
	l.timelineH = max(l.mainH-chat.HeaderLines-1-l.composerH, 1)
	l.composerTop = chat.HeaderLines + l.timelineH + 1
	return l
}

// layout gives every component its size.
func (m *Model) layout() {
	l := m.computeLayout()
	m.contacts.SetSize(l.leftW, l.mainH)
	m.composer.SetSize(l.rightW, l.composerH)
	m.status.SetWidth(l.width)
	m.newDM.SetWidth(l.rightW)
	m.security.SetSize(l.rightW, l.mainH)
	m.search.SetSize(min(l.rightW, 90), min(l.mainH, 24))
	m.finder.SetSize(min(l.rightW, 72), min(l.mainH, 20))
	for _, c := range m.chats {
		c.SetSize(l.rightW, l.timelineH)
	}
}

// View draws the screen (exactly height lines, none wider than width) with the terminal's
// title and modes.
func (m *Model) View() tea.View {
	v := m.term.View(m.screen())
	if m.opts.ProgressBar {
		_, fraction, running := m.status.Progress()
		v.ProgressBar = terminal.ProgressBar(fraction, running)
	}
	return v
}

// screen is what the frame draws: the panes and the status bar.
func (m *Model) screen() string {
	l := m.computeLayout()
	var main []string
	if m.showHelp {
		main = m.helpView(l)
	} else {
		left := strings.Split(m.contacts.View(), "\n")
		right := m.rightPane(l)
		switch {
		case m.security.Active():
			m.overlay(right, l, m.security.View())
		case m.search.Active():
			m.overlay(right, l, m.search.View())
		case m.finder.Active():
			m.overlay(right, l, m.finder.View())
		}
		sep := m.styles.Separator.Render("│")
		main = make([]string, l.mainH)
		for i := range main {
			main[i] = left[i] + sep + right[i]
		}
	}
	var b strings.Builder
	for _, line := range main {
		b.WriteString(line)
		b.WriteByte('\n')
	}
	b.WriteString(m.status.View())
	return b.String()
}

func (m *Model) rightPane(l layout) []string {
	w := l.rightW
	c := m.openChat()
	switch {
	case m.newDM.Active():
		return textutil.Lines(strings.Split(m.newDM.View(), "\n"), w, l.mainH)
	case c == nil:
		return textutil.Lines(m.welcome(w), w, l.mainH)
	}
	out := c.View(w, m.focus == focusComposer)
	if c.Item().Pending {
		a, d := m.keys.Contacts.Accept.Help().Key, m.keys.Contacts.Decline.Help().Key
		box := []string{
			m.styles.Contacts.Pending.Render(c.Item().Name + " invited you to a conversation."),
			m.styles.Muted.Render(fmt.Sprintf("%s accept · %s decline (in the contacts list)", a, d)),
		}
		out = append(out, textutil.Lines(box, w, l.composerH)...)
	} else {
		out = append(out, textutil.Lines(strings.Split(m.composer.View(), "\n"), w, l.composerH)...)
	}
	return textutil.Lines(out, w, l.mainH)
}

// overlay draws the dialog over the right pane: over the timeline when it fits there (the
// header and the composer stay in view), else over the whole pane.
func (m *Model) overlay(pane []string, l layout, view string) {
	box := strings.Split(view, "\n")
	top, h := 0, l.mainH
	if m.openChat() != nil && !m.newDM.Active() && len(box) <= l.timelineH {
		top, h = 2, l.timelineH
	}
	start := top + max((h-len(box))/2, 0)
	left := strings.Repeat(" ", max((l.rightW-lipgloss.Width(box[0]))/2, 0))
	for i, line := range box {
		if row := start + i; row < len(pane) {
			pane[row] = textutil.Fit(left+line, l.rightW)
		}
	}
}

func (m *Model) welcome(w int) []string {
	st := m.styles
	k := m.keys.Contacts
	lines := []string{
		"",
		" " + st.Title.Render("duet"),
		"",
		st.Muted.Render(fmt.Sprintf(" %s: open the selected contact", k.Open.Help().Key)),
		st.Muted.Render(fmt.Sprintf(" %s: new conversation by user ID", k.New.Help().Key)),
		st.Muted.Render(fmt.Sprintf(" %s: filter · %s: help", k.Filter.Help().Key, m.keys.Global.Help.Help().Key)),
	}
	for i := range lines {
		lines[i] = textutil.Cut(lines[i], w)
	}
	return lines
}

func (m *Model) helpView(l layout) []string {
	groups := m.focusedHelp().FullHelp()
	h := m.help
	h.SetWidth(l.width - 2)
	lines := []string{" " + m.styles.Title.Render("Keys") + m.styles.Muted.Render(" · any key closes"), ""}
	// The groups side by side, as many to a row as fit.
	const gap = "    "
	var row []string
	flush := func() {
		if len(row) == 0 {
			return
		}
		for _, l := range strings.Split(lipgloss.JoinHorizontal(lipgloss.Top, row...), "\n") {
			lines = append(lines, " "+strings.TrimRight(l, " "))
		}
		lines = append(lines, "")
		row = nil
	}
	for _, g := range groups {
		block := h.FullHelpView([][]key.Binding{g})
		if block == "" {
			continue
		}
		if len(row) > 0 && lipgloss.Width(lipgloss.JoinHorizontal(lipgloss.Top, row...))+len(gap)+lipgloss.Width(block) > l.width-2 {
			flush()
		}
		if len(row) > 0 {
			row = append(row, gap)
		}
		row = append(row, block)
	}
	flush()
	for _, l := range strings.Split(textutil.Wrap("composer: /dm @user · /me text · /upload PATH · /poll Q | A | B · /verify · /verify me · /recovery · /help · /quit", l.width-2), "\n") {
		lines = append(lines, m.styles.Muted.Render(" "+l))
	}
	return textutil.Lines(lines, l.width, l.mainH)
}

// hint is the status bar's short help for the focused pane.
func (m *Model) hint() string {
	h := m.help
	h.SetWidth(max(m.computeLayout().width/2, 10))
	return h.ShortHelpView(m.focusedHelp().ShortHelp())
}
