// Package textutil has the small helpers the UI components share: fitting styled text to a
// width, wrapping plain text, formatting times relative to now, and the finders' one-line text
// field.
package textutil

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"duet/ui/styles"
)

// Fit truncates s (which may hold styling) to w cells, with an ellipsis when cut, and pads it
// with spaces to exactly w cells.
func Fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	n := lipgloss.Width(s)
	if n > w {
		s = ansi.Truncate(s, w, "…")
		n = lipgloss.Width(s)
	}
	if n < w {
		s += strings.Repeat(" ", w-n)
	}
	return s
}

// Cut truncates s to w cells with an ellipsis, without padding.
func Cut(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if lipgloss.Width(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

// Lines makes block exactly h lines of exactly w cells each.
func Lines(block []string, w, h int) []string {
	out := make([]string, h)
	for i := range out {
		if i < len(block) {
			out[i] = Fit(block[i], w)
		} else {
			out[i] = strings.Repeat(" ", max(w, 0))
		}
	}
	return out
}

// Wrap wraps sanitized one-line text at w cells, at a space where one is near the end of a line.
func Wrap(s string, w int) string {
	var out []string
	for len(s) > 0 && w > 0 {
		cut := Cut(s, w)
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

// When formats a timestamp for a list row: the time today, the weekday within a week, the date
// otherwise. It is shown in now's location.
func When(ts, now time.Time) string {
	ts = ts.In(now.Location())
	y1, m1, d1 := ts.Date()
	y2, m2, d2 := now.Date()
	switch {
	case y1 == y2 && m1 == m2 && d1 == d2:
		return ts.Format("15:04")
	case now.Sub(ts) < 6*24*time.Hour && ts.Before(now):
		return ts.Format("Mon")
	case y1 == y2:
		return ts.Format("Jan 2")
	default:
		return ts.Format("2006-01-02")
	}
}

// SameDay reports whether a and b fall on the same calendar day in loc.
func SameDay(a, b time.Time, loc *time.Location) bool {
	y1, m1, d1 := a.In(loc).Date()
	y2, m2, d2 := b.In(loc).Date()
	return y1 == y2 && m1 == m2 && d1 == d2
}

// Input is a one-line text field as duet draws them: the prompt in promptStyle, the
// placeholder in the grey Bubbles' fields have always had, the text unstyled, and a cursor
// that does not blink (no blink ticks: the screen changes only when something happens). Where
// the terminal shows no styling, nothing is styled and the field draws no cursor of its own
// (its reverse video would be the one escape sequence in the frame).
func Input(prompt, placeholder string, promptStyle lipgloss.Style, term styles.Terminal) textinput.Model {
	ti := textinput.New()
	ti.Prompt = prompt
	ti.Placeholder = placeholder
	StyleInput(&ti, promptStyle, term)
	return ti
}

// StyleInput styles a field made by Input (again, when the terminal's background turns out
// light or dark).
func StyleInput(ti *textinput.Model, promptStyle lipgloss.Style, term styles.Terminal) {
	var st textinput.Styles
	st.Focused.Prompt, st.Blurred.Prompt = promptStyle, promptStyle
	if !term.Plain() {
		ph := lipgloss.NewStyle().Foreground(lipgloss.Color("240"))
		st.Focused.Placeholder, st.Blurred.Placeholder = ph, ph
		st.Focused.Suggestion, st.Blurred.Suggestion = ph, ph
	}
	ti.SetStyles(st) // the cursor: reverse video, no colour of its own, no blinking
	ti.SetVirtualCursor(!term.Plain())
}

// QueryInput is the one-line text field of a finder (search, quick switcher): an Input of at
// most limit characters, and no clipboard reads (ctrl+v): the terminal's own paste still
// arrives, as a paste.
func QueryInput(prompt, placeholder string, limit int, promptStyle lipgloss.Style, term styles.Terminal) textinput.Model {
	ti := Input(prompt, placeholder, promptStyle, term)
	ti.CharLimit = limit
	ti.KeyMap.Paste.SetEnabled(false)
	return ti
}
