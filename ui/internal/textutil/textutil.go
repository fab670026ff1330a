// Package textutil has the small helpers the UI components share: fitting styled text to a
// width, wrapping plain text, formatting times relative to now, and the finders' one-line text
// field.
package textutil

import (
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
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

// QueryInput is the one-line text field of a finder (search, quick switcher): a static cursor
// (no blink ticks), at most limit characters, and no clipboard reads (ctrl+v): the terminal's
// own paste still arrives, as keys.
func QueryInput(prompt, placeholder string, limit int, promptStyle lipgloss.Style) textinput.Model {
	ti := textinput.New()
	ti.Prompt = prompt
	ti.PromptStyle = promptStyle
	ti.Placeholder = placeholder
	ti.CharLimit = limit
	ti.Cursor.SetMode(cursor.CursorStatic)
	ti.KeyMap.Paste.SetEnabled(false)
	return ti
}
