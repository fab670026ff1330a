package security

import (
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"duet/internal/sanitize"
	"duet/matrixsvc"
	"duet/ui/internal/textutil"
	"duet/ui/styles"
)

// boxWidth is the widest box but one: the emoji box may take maxWidth, seven emoji with their
// names in one row.
const (
	boxWidth = 64
	maxWidth = 7*cellWidth + 4
)

// cellWidth is one emoji with its name: the longest SAS name ("Strawberry") and a gap.
const cellWidth = 12

// line is one line of the box's content. Optional lines (blank spacing, explanations) go
// first when the box does not fit the height.
type line struct {
	text     string
	optional bool
}

// View draws the dialog as a box no wider and no taller than its size; "" when closed.
func (m *Dialog) View() string {
	if m.stage == Closed {
		return ""
	}
	outer := min(m.width, maxWidth)
	if m.stage != Compare {
		outer = min(m.width, boxWidth)
	}
	inner := max(outer-4, 1)
	title, content := m.content(inner)
	return strings.Join(m.box(title, content, outer, m.height), "\n")
}

// content is the dialog's title and the lines of its box, w cells wide, for the current stage.
func (m *Dialog) content(w int) (string, []line) {
	p := &page{st: m.styles, w: w}
	k := m.keys
	cancel := k.Cancel.Help().Key
	switch m.stage {
	case Asking:
		m.asking(p)
		p.blank()
		p.hint(cancel + ": cancel")
	case Incoming:
		m.incoming(p)
		p.note("You will compare seven emoji with the other screen.")
		p.blank()
		p.hint(k.Accept.Help().Key+": accept", cancel+": decline")
	case Waiting:
		p.text("Waiting for the emoji…")
		p.blank()
		p.hint(cancel + ": cancel")
	case Compare:
		m.compare(p)
	case Confirmed:
		if m.own {
			p.text("Waiting for your other device to confirm…")
		} else {
			p.text("Waiting for " + m.who + " to confirm…")
		}
		p.blank()
		p.hint(cancel + ": cancel")
	case Checking:
		p.text("checking…")
	case EnterKey:
		p.note("Enter your recovery key (or passphrase) to verify this device and read your encrypted history.")
		m.entry(p, k.Submit.Help().Key+": verify", k.Reveal.Help().Key+": show/hide", cancel+": cancel")
	case Verifying:
		p.text("verifying…")
		p.note("Restoring the keys of your encrypted history can take a moment.")
	case OfferSetup:
		p.styled(m.err, p.st.Error)
		p.text("This account has no recovery key yet.")
		p.note("With one, this device is verified and your encrypted history can be read on your next devices.")
		p.blank()
		p.hint(k.Submit.Help().Key+": set one up", cancel+": not now")
	case EnterPassword:
		p.note("Your account password, to confirm:")
		m.entry(p, k.Submit.Help().Key+": continue", cancel+": cancel")
	case SettingUp:
		p.text("setting up…")
	case ShowKey:
		m.showKey(p)
	}
	if m.account != "" {
		return m.title() + " · " + m.account, p.out
	}
	return m.title(), p.out
}

// title is the box's title for the current stage.
func (m *Dialog) title() string {
	switch m.stage {
	case Incoming:
		return "Verification request"
	case Checking, EnterKey, Verifying:
		return "Recovery key"
	case OfferSetup, EnterPassword, SettingUp:
		return "Set up a recovery key"
	case ShowKey:
		return "Your recovery key"
	}
	if m.own {
		return "Verify this device"
	}
	return "Verify " + m.who
}

// asking says whom the request went to and what comes next.
func (m *Dialog) asking(p *page) {
	if m.own {
		p.text("Asked your other devices to verify this one.")
		p.note("Accept the request on one of them; the emoji come next.")
	} else {
		p.text("Asked " + m.who + " to verify.")
		p.note("Waiting for them to accept on their device; the emoji come next.")
	}
}

// incoming says who asks to verify, and from which device when it is known.
func (m *Dialog) incoming(p *page) {
	device := sanitize.Line(string(m.device))
	if m.own {
		s := "Your other device"
		if device != "" {
			s += " " + device
		}
		p.text(s + " wants to verify this one.")
	} else {
		s := m.who + " wants to verify"
		if device != "" {
			s += ", from their device " + device
		}
		p.text(s + ".")
	}
}

// compare shows the emoji to compare and the keys to answer with. When the box would not fit
// the height, the emoji grid gives way to the emoji alone, which are what is compared.
func (m *Dialog) compare(p *page) {
	k := m.keys
	p.note("Compare these emoji with the ones on the other screen:")
	p.blank()
	start := len(p.out)
	p.add(EmojiGrid(m.emoji, p.w, p.st.Label)...)
	grid := len(p.out) - start
	p.blank()
	p.text("Do these match the other screen, in the same order?")
	p.hint(k.Match.Help().Key+": they match", k.Mismatch.Help().Key+": they don't", k.Cancel.Help().Key+": cancel")
	if required(p.out)+2 > m.height {
		rest := append([]line(nil), p.out[start+grid:]...)
		p.out = p.out[:start]
		p.add(EmojiRow(m.emoji, p.w)...)
		p.out = append(p.out, rest...)
	}
}

// entry is the text input with the error under it, then the keys.
func (m *Dialog) entry(p *page, keys ...string) {
	p.blank()
	p.add(m.input.View())
	p.styled(m.err, p.st.Error)
	p.blank()
	p.hint(keys...)
}

// showKey shows the new recovery key, once, with any warning about it.
func (m *Dialog) showKey(p *page) {
	for _, l := range groups(m.newKey, p.w) {
		p.add(p.st.Secret.Render(l))
	}
	p.blank()
	p.text("Write this down and keep it safe: it is shown only this once.")
	if m.warn != "" {
		p.wrapped(m.warn, p.st.Warning, false)
	}
	p.blank()
	p.hint(m.keys.Submit.Help().Key + ": done")
}

// page collects the lines of the box's content, w cells wide.
type page struct {
	st  styles.Styles
	w   int
	out []line
}

// add appends lines as they are.
func (p *page) add(ls ...string) {
	for _, l := range ls {
		p.out = append(p.out, line{text: l})
	}
}

// wrapped appends s wrapped to the width, each line in style st.
func (p *page) wrapped(s string, st lipgloss.Style, optional bool) {
	for _, l := range strings.Split(ansi.Wrap(s, p.w, ""), "\n") {
		p.out = append(p.out, line{text: st.Render(l), optional: optional})
	}
}

// text appends s wrapped to the width.
func (p *page) text(s string) {
	for _, l := range strings.Split(ansi.Wrap(s, p.w, ""), "\n") {
		p.out = append(p.out, line{text: l})
	}
}

// note appends an explanation, which may go when space is short.
func (p *page) note(s string) { p.wrapped(s, p.st.Muted, true) }

// styled appends s, made one line of plain text and wrapped, in style st; nothing when s is "".
func (p *page) styled(s string, st lipgloss.Style) {
	if s != "" {
		p.wrapped(sanitize.Line(s), st, false)
	}
}

// blank appends an empty line, which may go when space is short.
func (p *page) blank() { p.out = append(p.out, line{optional: true}) }

// hint appends the keys: never cut, wrapped between keys.
func (p *page) hint(parts ...string) {
	for _, l := range pack(parts, " · ", p.w) {
		p.out = append(p.out, line{text: p.st.Muted.Render(textutil.Cut(l, p.w))})
	}
}

// box frames the content: a rounded border with the title in its top edge, exactly outer
// cells wide and at most maxH lines. When it is too tall, optional lines go first, then lines
// from the end of the content above the last one (the keys).
func (m *Dialog) box(title string, content []line, outer, maxH int) []string {
	st := m.styles
	inner := max(outer-4, 0)
	if len(content)+2 > maxH {
		kept := content[:0:0]
		for _, l := range content {
			if !l.optional {
				kept = append(kept, l)
			}
		}
		content = kept
	}
	switch n := maxH - 2; {
	case n <= 0:
		content = nil
	case len(content) > n:
		last := content[len(content)-1]
		content = append(content[:n-1:n-1], last)
	}
	title = textutil.Cut(sanitize.Line(title), max(outer-6, 1))
	fill := max(outer-5-lipgloss.Width(title), 0)
	out := make([]string, 0, len(content)+2)
	out = append(out, st.Dialog.Render("╭─ ")+st.Title.Render(title)+st.Dialog.Render(" "+strings.Repeat("─", fill)+"╮"))
	side := st.Dialog.Render("│")
	for _, l := range content {
		out = append(out, side+" "+textutil.Fit(l.text, inner)+" "+side)
	}
	out = append(out, st.Dialog.Render("╰"+strings.Repeat("─", max(outer-2, 0))+"╯"))
	for i := range out {
		out[i] = textutil.Cut(out[i], outer)
	}
	return out[:min(len(out), max(maxH, 1))]
}

// required counts the lines that stay when space is short.
func required(ls []line) int {
	n := 0
	for _, l := range ls {
		if !l.optional {
			n++
		}
	}
	return n
}

// EmojiRow is the emoji alone, as many to a line as fit, centred in w cells.
func EmojiRow(emoji []matrixsvc.SASEmoji, w int) []string {
	parts := make([]string, len(emoji))
	for i, e := range emoji {
		parts[i] = sanitize.Line(e.Emoji)
	}
	lines := pack(parts, "  ", w)
	for i, l := range lines {
		lines[i] = strings.Repeat(" ", max((w-lipgloss.Width(l))/2, 0)) + l
	}
	return lines
}

// EmojiGrid lays the emoji out in rows of equal cells, each emoji centred above its name, the
// rows centred in w cells. Widths are measured as the terminal draws them (an emoji is usually
// two cells), so columns line up.
func EmojiGrid(emoji []matrixsvc.SASEmoji, w int, nameStyle lipgloss.Style) []string {
	if len(emoji) == 0 || w <= 0 {
		return nil
	}
	cell := min(cellWidth, w)
	perRow := max(min(w/cell, len(emoji)), 1)
	rows := (len(emoji) + perRow - 1) / perRow
	var out []string
	for r, start := 0, 0; r < rows; r++ {
		// Balanced: 4 and 3, or 3, 2 and 2, rather than 3, 3 and 1.
		n := len(emoji) / rows
		if r < len(emoji)%rows {
			n++
		}
		row := emoji[start : start+n]
		start += n
		left := strings.Repeat(" ", max((w-len(row)*cell)/2, 0))
		var top, bottom strings.Builder
		top.WriteString(left)
		bottom.WriteString(left)
		for _, e := range row {
			top.WriteString(center(sanitize.Line(e.Emoji), cell, lipgloss.NewStyle()))
			bottom.WriteString(center(sanitize.Line(e.Name), cell, nameStyle))
		}
		out = append(out, strings.TrimRight(top.String(), " "), strings.TrimRight(bottom.String(), " "))
	}
	return out
}

// center places s in the middle of w cells, cut to fit.
func center(s string, w int, st lipgloss.Style) string {
	s = textutil.Cut(s, w)
	sw := lipgloss.Width(s)
	l := (w - sw) / 2
	return strings.Repeat(" ", l) + st.Render(s) + strings.Repeat(" ", w-sw-l)
}

// groups breaks a recovery key ("EsTc 1234 …") into lines of as even a number of its groups
// as fit.
func groups(k string, w int) []string {
	fields := strings.Fields(k)
	lines := len(pack(fields, " ", w))
	per := (len(fields) + lines - 1) / max(lines, 1)
	var out []string
	for len(fields) > 0 {
		n := min(per, len(fields))
		out = append(out, strings.Join(fields[:n], " "))
		fields = fields[n:]
	}
	for i := range out {
		if lipgloss.Width(out[i]) > w {
			out[i] = ansi.Hardwrap(out[i], w, true) // a key without spaces on a tiny screen
		}
	}
	return strings.Split(strings.Join(out, "\n"), "\n")
}

// pack joins parts with sep into as few lines of at most w cells as it can, breaking only
// between parts.
func pack(parts []string, sep string, w int) []string {
	var out []string
	cur := ""
	for _, p := range parts {
		switch {
		case cur == "":
			cur = p
		case lipgloss.Width(cur)+lipgloss.Width(sep)+lipgloss.Width(p) <= w:
			cur += sep + p
		default:
			out = append(out, cur)
			cur = p
		}
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}
