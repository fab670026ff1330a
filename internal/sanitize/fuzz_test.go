package sanitize

import (
	"strings"
	"testing"
	"unicode/utf8"

	"duet/internal/testkit/termtest"
)

// FuzzText: whatever comes in, what comes out has no character a terminal would act on, is
// valid UTF-8, is a fixed point, and clean text passes through untouched.
func FuzzText(f *testing.F) {
	for _, s := range termtest.Hostile() {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, keepNewlines bool) {
		out := Text(s, keepNewlines)
		checkInert(t, out, keepNewlines)
		if again := Text(out, keepNewlines); again != out {
			t.Fatalf("Text is not idempotent: %q -> %q -> %q", s, out, again)
		}
		if clean(s, keepNewlines) && out != s {
			t.Fatalf("clean text changed: %q -> %q", s, out)
		}
		line := Line(s)
		checkInert(t, line, false)
		if again := Line(line); again != line {
			t.Fatalf("Line is not idempotent: %q -> %q -> %q", s, line, again)
		}
	})
}

// TestTextHuge: a 100 KB body full of escape sequences comes out inert.
func TestTextHuge(t *testing.T) {
	var b strings.Builder
	for b.Len() < 100<<10 {
		for _, s := range termtest.Hostile() {
			b.WriteString(s)
		}
	}
	checkInert(t, Text(b.String(), true), true)
	checkInert(t, Line(b.String()), false)
}

func checkInert(t *testing.T, out string, newlines bool) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("invalid UTF-8 out: %q", out)
	}
	for _, r := range out {
		if r == '\n' && newlines {
			continue
		}
		if acted(r) {
			t.Fatalf("%U survived in %q", r, out)
		}
	}
}

// acted reports whether a terminal acts on r instead of drawing it (or reorders what follows).
func acted(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) ||
		(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}

func clean(s string, newlines bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if acted(r) && !(newlines && r == '\n') {
			return false
		}
	}
	return true
}
