package sanitize

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// hostile is text a server may send to make a terminal do something other than draw it.
func hostile() []string {
	return []string{
		"hello, world",
		"日本語と中文のテキスト",
		"👩‍👩‍👧‍👦 family, 🏳️‍🌈 flag, 👍🏽",
		"e\u0301 combining, Z\u0351\u0352\u0353a\u0300\u0301\u0302lgo",
		"zero\u200bwidth\u200c\u200d\ufeffchars",
		"abc\u202edcba \u2066isolate\u2069 \u202a\u202b\u202c\u202d \u200e\u200f\u061c",
		"\x1b]0;title\x07",
		"\x1b[2J\x1b[H",
		"\x1bPq#0;2;0;0;0\x1b\\",
		"\u009b31mred\u009b0m \u009d0;title\u009c",
		"carriage\rreturn",
		"tab\there\tand\tthere",
		strings.Repeat("supercalifragilistic", 40),
		"\x1b]52;c;ZXZpbA==\x07",
		"\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\",
		"line\nbreaks\r\n\n",
		"\xff\xfe invalid \xc3 utf-8 \xed\xa0\x80",
		"\x00\x01\x7f\u0080\u009f",
		"",
	}
}

// FuzzText: whatever comes in, what comes out has no character a terminal would act on, is
// valid UTF-8, is a fixed point, and clean text passes through untouched.
func FuzzText(f *testing.F) {
	for _, s := range hostile() {
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
		for _, s := range hostile() {
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
