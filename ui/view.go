package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"

	"duet/internal/sanitize"
	"duet/ui/contacts"
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

func (m Model) computeLayout() layout {
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
	const headerH = 2 // name line and a rule
	l.timelineH = max(l.mainH-headerH-1-l.composerH, 1)
	l.composerTop = headerH + l.timelineH + 1
	return l
}

// layout gives every component its size.
func (m *Model) layout() {
	l := m.computeLayout()
	m.contacts.SetSize(l.leftW, l.mainH)
	m.composer.SetSize(l.rightW, l.composerH)
	m.status.SetWidth(l.width)
	m.prompt.input.Width = max(l.rightW-12, 4)
	m.dialog.SetSize(l.rightW, l.mainH)
	m.search.SetSize(min(l.rightW, 90), min(l.mainH, 24))
	m.finder.SetSize(min(l.rightW, 72), min(l.mainH, 20))
	for _, c := range m.chats {
		c.conv.SetSize(l.rightW, l.timelineH)
	}
}

// View draws the screen: exactly height lines, none wider than width.
func (m Model) View() string { return m.withTerminalControls(m.screen()) }

// screen is what the frame draws: the panes and the status bar.
func (m Model) screen() string {
	l := m.computeLayout()
	var main []string
	if m.showHelp {
		main = m.helpView(l)
	} else {
		left := strings.Split(m.contacts.View(), "\n")
		right := m.rightPane(l)
		switch {
		case m.dialog.Active():
			m.overlay(right, l, m.dialog.View())
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

func (m Model) rightPane(l layout) []string {
	w := l.rightW
	c := m.openChat()
	switch {
	case m.prompt.on:
		return textutil.Lines(m.promptView(w), w, l.mainH)
	case c == nil:
		return textutil.Lines(m.welcome(w), w, l.mainH)
	}
	rule := m.styles.Separator.Render(strings.Repeat("─", w))
	out := make([]string, 0, l.mainH)
	out = append(out, textutil.Fit(m.header(c, w), w), rule)
	out = append(out, strings.Split(c.conv.View(), "\n")...)
	if m.react != nil && m.react.chat == c.key {
		out = append(out, m.reactRule(w))
	} else if c.editing.EventID != "" {
		out = append(out, m.labelRule(w, " editing your message · enter saves, empty deletes · esc cancels ",
			" editing your message · esc cancels ", " editing · esc cancels "))
	} else if c.replyTo.EventID != "" {
		who := "you"
		if c.replyTo.Sender != m.me {
			who = string(c.replyTo.Sender)
			if c.replyTo.Sender == c.item.UserID && c.item.Name != "" {
				who = c.item.Name
			}
		}
		what := c.replyOf
		who = sanitize.Line(who)
		out = append(out, m.labelRule(w, " ↳ replying to "+who+": "+textutil.Cut(what, max(w/3, 8))+" · esc cancels ",
			" ↳ replying to "+who+" · esc cancels ", " ↳ reply · esc cancels "))
	} else if len(c.typing) > 0 {
		out = append(out, m.typingRule(c, w))
	} else {
		out = append(out, rule)
	}
	if c.item.Pending {
		a, d := m.keys.Contacts.Accept.Help().Key, m.keys.Contacts.Decline.Help().Key
		box := []string{
			m.styles.Contacts.Pending.Render(c.item.Name + " invited you to a conversation."),
			m.styles.Muted.Render(fmt.Sprintf("%s accept · %s decline (in the contacts list)", a, d)),
		}
		out = append(out, textutil.Lines(box, w, l.composerH)...)
	} else {
		out = append(out, textutil.Lines(strings.Split(m.composer.View(), "\n"), w, l.composerH)...)
	}
	return textutil.Lines(out, w, l.mainH)
}

// labelRule is the line above the composer with a label in its middle: the first of labels
// that fits the width.
func (m Model) labelRule(w int, labels ...string) string {
	var label string
	for _, label = range labels {
		if lipgloss.Width(label)+4 <= w {
			break
		}
	}
	label = textutil.Cut(label, max(w, 1))
	side := max((w-lipgloss.Width(label))/2, 0)
	return textutil.Fit(m.styles.Separator.Render(strings.Repeat("─", side))+m.styles.Warning.Render(label)+
		m.styles.Separator.Render(strings.Repeat("─", max(w-side-lipgloss.Width(label), 0))), w)
}

// reactRule is the line above the composer while a reaction is typed: the input, and the
// quick reactions by number.
func (m Model) reactRule(w int) string {
	var quick strings.Builder
	for i, r := range quickReactions {
		fmt.Fprintf(&quick, " %d %s", i+1, r)
	}
	line := m.styles.Warning.Render(" react: ") + m.react.input.View() + m.styles.Muted.Render(" ·"+quick.String()+" · esc ")
	return textutil.Fit(line, w)
}

// typingRule is the line above the composer while the other person types: "Bob is typing…".
func (m Model) typingRule(c *chat, w int) string {
	names := make([]string, 0, len(c.typing))
	for _, u := range c.typing {
		name := string(u)
		if u == c.item.UserID && c.item.Name != "" {
			name = c.item.Name
		}
		names = append(names, sanitize.Line(name))
	}
	label := strings.Join(names, ", ") + " is typing… "
	if len(names) > 1 {
		label = strings.Join(names, ", ") + " are typing… "
	}
	label = textutil.Cut(label, max(w-4, 1))
	return textutil.Fit(m.styles.Separator.Render("── ")+m.styles.Muted.Render(label)+
		m.styles.Separator.Render(strings.Repeat("─", max(w-3-lipgloss.Width(label), 0))), w)
}

// overlay draws the dialog over the right pane: over the timeline when it fits there (the
// header and the composer stay in view), else over the whole pane.
func (m Model) overlay(pane []string, l layout, view string) {
	box := strings.Split(view, "\n")
	top, h := 0, l.mainH
	if m.openChat() != nil && !m.prompt.on && len(box) <= l.timelineH {
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

// header is the open conversation's one line: name, user ID, encryption and trust. When it
// does not fit, the user ID goes first, so that what the room's safety is stays in view.
func (m Model) header(c *chat, w int) string {
	st := m.styles
	nameStyle := st.Header
	if m.focus == focusComposer {
		nameStyle = st.HeaderOn
	}
	it := c.item
	name := nameStyle.Render(textutil.Cut(it.Name, max(w/2, 8)))
	idPart := ""
	switch it.Kind {
	case contacts.KindGroup:
		idPart = st.HeaderID.Render(fmt.Sprintf("group · %d members", it.Members))
	default:
		if id := textutil.Cut(sanitize.Line(string(it.UserID)), max(w/2, 8)); id != "" && id != it.Name {
			idPart = st.HeaderID.Render(id)
		}
	}
	state, trust := m.headerState(c), m.trustState(c)
	sep := st.Muted.Render(" · ")
	join := func(parts ...string) string {
		var keep []string
		for _, p := range parts {
			if p != "" {
				keep = append(keep, p)
			}
		}
		return " " + strings.Join(keep, sep)
	}
	// Shorter and shorter until it fits: without the user ID, then without "encrypted" when
	// the trust says as much.
	candidates := []string{join(append(append([]string{name, idPart}, state...), trust...)...)}
	if len(state)+len(trust) > 0 {
		candidates = append(candidates, join(append(append([]string{name}, state...), trust...)...))
	}
	if len(trust) > 0 {
		candidates = append(candidates, join(append([]string{name}, trust...)...))
	}
	for _, line := range candidates {
		if lipgloss.Width(line) <= w {
			return line
		}
	}
	return candidates[len(candidates)-1]
}

// headerState is the conversation's state: invite, opening, encrypted or not.
func (m Model) headerState(c *chat) []string {
	st := m.styles
	it := c.item
	var parts []string
	if it.Blocked {
		parts = append(parts, st.Warning.Render(fmt.Sprintf("blocked: %s on them in the list unblocks", m.keys.Contacts.Unblock.Help().Key)))
	}
	if it.Note != "" {
		parts = append(parts, st.Warning.Render("⚠ "+it.Note))
	}
	switch {
	case it.Request:
		parts = append(parts, st.Contacts.Pending.Render("request from someone you share no room with"))
	case it.Pending:
		parts = append(parts, st.Contacts.Pending.Render("invite"))
	case c.room == "" && c.resolving:
		parts = append(parts, st.Muted.Render("opening…"))
	case c.room == "":
		parts = append(parts, st.Muted.Render("new conversation"))
	case !c.encKnown:
	case c.encrypted:
		parts = append(parts, st.Encrypted.Render("encrypted"))
	default:
		parts = append(parts, st.Plain.Render("not encrypted"))
	}
	return parts
}

// trustState says whether the person of an encrypted DM is verified, and warns about their
// devices that are not.
func (m Model) trustState(c *chat) []string {
	if it := c.item; it.Kind != contacts.KindContact || !c.trustKnown || it.Pending || c.room == "" || !c.encKnown || !c.encrypted {
		return nil
	}
	st, t := m.styles, c.trust
	if !t.Verified {
		return []string{st.Unverified.Render("not verified")}
	}
	parts := []string{st.Verified.Render("verified")}
	switch n := len(t.Unverified); {
	case n == 1:
		parts = append(parts, st.Warning.Render("⚠ new device: "+sanitize.Line(string(t.Unverified[0]))))
	case n > 1:
		ids := make([]string, n)
		for i, d := range t.Unverified {
			ids[i] = sanitize.Line(string(d))
		}
		parts = append(parts, st.Warning.Render(fmt.Sprintf("⚠ %d new devices: %s", n, strings.Join(ids, ", "))))
	}
	return parts
}

func (m Model) welcome(w int) []string {
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

func (m Model) promptView(w int) []string {
	st := m.styles
	lines := []string{
		" " + st.Title.Render("New conversation"),
		"",
		" " + m.prompt.input.View(),
		"",
	}
	switch {
	case m.prompt.busy:
		lines = append(lines, st.Muted.Render(" checking…"))
	case m.prompt.err != "":
		for _, l := range strings.Split(wrapPlain(m.prompt.err, w-2), "\n") {
			lines = append(lines, " "+st.Error.Render(l))
		}
	default:
		lines = append(lines, st.Muted.Render(" enter: check and open · esc: cancel"))
	}
	return lines
}

// wrapPlain wraps sanitized one-line text at w cells.
func wrapPlain(s string, w int) string {
	var out []string
	for len(s) > 0 && w > 0 {
		cut := textutil.Cut(s, w)
		if cut == s {
			out = append(out, s)
			break
		}
		cut = strings.TrimSuffix(cut, "…")
		if i := strings.LastIndexByte(cut, ' '); i > w/2 {
			cut = cut[:i]
		}
		out = append(out, cut)
		s = strings.TrimLeft(s[len(cut):], " ")
	}
	return strings.Join(out, "\n")
}

func (m Model) helpView(l layout) []string {
	groups := m.focusedHelp().FullHelp()
	h := m.help
	h.Width = l.width - 2
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
	for _, l := range strings.Split(wrapPlain("composer: /dm @user · /me text · /upload PATH · /verify · /verify me · /recovery · /help · /quit", l.width-2), "\n") {
		lines = append(lines, m.styles.Muted.Render(" "+l))
	}
	return textutil.Lines(lines, l.width, l.mainH)
}

// hint is the status bar's short help for the focused pane.
func (m Model) hint() string {
	h := m.help
	h.Width = max(m.computeLayout().width/2, 10)
	return h.ShortHelpView(m.focusedHelp().ShortHelp())
}
