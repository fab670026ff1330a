package security

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"duet/internal/sanitize"
	"duet/matrixsvc"
	"duet/ui/internal/textutil"
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
func (m Dialog) View() string {
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

func (m Dialog) content(w int) (string, []line) {
	st := m.styles
	var out []line
	text := func(s string) {
		for _, l := range strings.Split(ansi.Wrap(s, w, ""), "\n") {
			out = append(out, line{text: l})
		}
	}
	note := func(s string) { // an explanation: may go when space is short
		for _, l := range strings.Split(ansi.Wrap(s, w, ""), "\n") {
			out = append(out, line{text: st.Muted.Render(l), optional: true})
		}
	}
	blank := func() { out = append(out, line{optional: true}) }
	errLine := func() {
		if m.err != "" {
			for _, l := range strings.Split(ansi.Wrap(sanitize.Line(m.err), w, ""), "\n") {
				out = append(out, line{text: st.Error.Render(l)})
			}
		}
	}
	hint := func(parts ...string) { // the keys: never cut, wrapped between keys
		for _, l := range pack(parts, " · ", w) {
			out = append(out, line{text: st.Muted.Render(textutil.Cut(l, w))})
		}
	}
	k := m.keys
	cancel := k.Cancel.Help().Key

	who, device := m.who, sanitize.Line(string(m.device))
	title := "Verify " + who
	if m.own {
		title = "Verify this device"
	}
	switch m.stage {
	case Asking:
		if m.own {
			text("Asked your other devices to verify this one.")
			note("Accept the request on one of them; the emoji come next.")
		} else {
			text("Asked " + who + " to verify.")
			note("Waiting for them to accept on their device; the emoji come next.")
		}
		blank()
		hint(cancel + ": cancel")
	case Incoming:
		title = "Verification request"
		if m.own {
			s := "Your other device"
			if device != "" {
				s += " " + device
			}
			text(s + " wants to verify this one.")
		} else {
			s := who + " wants to verify"
			if device != "" {
				s += ", from their device " + device
			}
			text(s + ".")
		}
		note("You will compare seven emoji with the other screen.")
		blank()
		hint(k.Accept.Help().Key+": accept", cancel+": decline")
	case Waiting:
		text("Waiting for the emoji…")
		blank()
		hint(cancel + ": cancel")
	case Compare:
		note("Compare these emoji with the ones on the other screen:")
		blank()
		start := len(out)
		for _, l := range EmojiGrid(m.emoji, w, st.Label) {
			out = append(out, line{text: l})
		}
		grid := len(out) - start
		blank()
		text("Do these match the other screen, in the same order?")
		hint(k.Match.Help().Key+": they match", k.Mismatch.Help().Key+": they don't", cancel+": cancel")
		if required(out)+2 > m.height {
			// A tiny pane: the emoji alone, which are what is compared.
			compact := EmojiRow(m.emoji, w)
			rest := append([]line(nil), out[start+grid:]...)
			out = out[:start]
			for _, l := range compact {
				out = append(out, line{text: l})
			}
			out = append(out, rest...)
		}
	case Confirmed:
		if m.own {
			text("Waiting for your other device to confirm…")
		} else {
			text("Waiting for " + who + " to confirm…")
		}
		blank()
		hint(cancel + ": cancel")
	case Checking:
		title = "Recovery key"
		text("checking…")
	case EnterKey:
		title = "Recovery key"
		note("Enter your recovery key (or passphrase) to verify this device and read your encrypted history.")
		blank()
		out = append(out, line{text: m.input.View()})
		errLine()
		blank()
		hint(k.Submit.Help().Key+": verify", k.Reveal.Help().Key+": show/hide", cancel+": cancel")
	case Verifying:
		title = "Recovery key"
		text("verifying…")
		note("Restoring the keys of your encrypted history can take a moment.")
	case OfferSetup:
		title = "Set up a recovery key"
		errLine()
		text("This account has no recovery key yet.")
		note("With one, this device is verified and your encrypted history can be read on your next devices.")
		blank()
		hint(k.Submit.Help().Key+": set one up", cancel+": not now")
	case EnterPassword:
		title = "Set up a recovery key"
		note("Your account password, to confirm:")
		blank()
		out = append(out, line{text: m.input.View()})
		errLine()
		blank()
		hint(k.Submit.Help().Key+": continue", cancel+": cancel")
	case SettingUp:
		title = "Set up a recovery key"
		text("setting up…")
	case ShowKey:
		title = "Your recovery key"
		for _, l := range groups(m.newKey, w) {
			out = append(out, line{text: m.styles.Secret.Render(l)})
		}
		blank()
		text("Write this down and keep it safe: it is shown only this once.")
		if m.warn != "" {
			for _, l := range strings.Split(ansi.Wrap(m.warn, w, ""), "\n") {
				out = append(out, line{text: st.Warning.Render(l)})
			}
		}
		blank()
		hint(k.Submit.Help().Key + ": done")
	}
	return title, out
}

// box frames the content: a rounded border with the title in its top edge, exactly outer
// cells wide and at most maxH lines. When it is too tall, optional lines go first, then lines
// from the end of the content above the last one (the keys).
func (m Dialog) box(title string, content []line, outer, maxH int) []string {
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
