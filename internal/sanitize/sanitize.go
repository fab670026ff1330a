// Package sanitize makes text from the network safe to put on a terminal: escape sequences and
// control characters are shown as harmless visible symbols instead of being interpreted.
package sanitize

import (
	"strings"
	"unicode/utf8"
)

// Text returns s with every control character replaced by a visible stand-in: C0 controls become
// their Unicode control pictures (ESC shows as ␛, BEL as ␇), DEL as ␡, C1 controls and invalid
// UTF-8 as U+FFFD, and bidirectional overrides (which can reorder what the terminal shows) are
// dropped. Newlines are kept when keepNewlines is set; tabs become a space. The escape
// sequences themselves stay readable but inert: "\x1b[2J" shows as "␛[2J".
func Text(s string, keepNewlines bool) string {
	clean := true
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if needsWork(r, size) && !(keepNewlines && r == '\n') {
			clean = false
			break
		}
		i += size
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteRune('\uFFFD')
		case r == '\n' && keepNewlines:
			b.WriteByte('\n')
		case r == '\t':
			b.WriteByte(' ')
		case r == '\r' && keepNewlines:
			// CR LF line ends: the LF does the work.
		case r < 0x20:
			b.WriteRune(0x2400 + r)
		case r == 0x7f:
			b.WriteRune('\u2421')
		case r >= 0x80 && r < 0xa0:
			b.WriteRune('\uFFFD')
		case isBidiControl(r):
			// dropped
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Line is Text for one-line fields (names, previews): newlines become spaces.
func Line(s string) string {
	return strings.ReplaceAll(Text(s, true), "\n", " ")
}

func needsWork(r rune, size int) bool {
	return (r == utf8.RuneError && size <= 1) || r < 0x20 || (r >= 0x7f && r < 0xa0) || isBidiControl(r)
}

func isBidiControl(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}
