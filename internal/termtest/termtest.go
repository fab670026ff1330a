// Package termtest holds what duet's fuzz tests share about text that reaches a terminal: the
// hostile strings servers may send, the colour profiles to draw in, and the check that what was
// drawn holds nothing a terminal would act on and fits its pane.
package termtest

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
)

// Hostile is text a server may send to make a terminal do something other than draw it, or to
// make a line wider than it looks.
func Hostile() []string {
	return []string{
		"hello, world",
		"日本語と中文のテキスト、とても長い行になるかもしれません",
		"👩‍👩‍👧‍👦 family, 🏳️‍🌈 flag, 👍🏽, ❤️",
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
		"\xff\xfe invalid \xc3 utf-8",
		"\x00\x01\x7f\u0080\u009f",
		"",
	}
}

// SetProfile draws in one of the colour profiles, chosen by b; it reports whether that is plain
// ASCII (no styling at all). The background is said to be dark so that lipgloss never asks the
// terminal.
func SetProfile(b uint8) bool {
	p := [...]termenv.Profile{termenv.Ascii, termenv.ANSI, termenv.ANSI256, termenv.TrueColor}[b%4]
	lipgloss.SetHasDarkBackground(true)
	lipgloss.SetColorProfile(p)
	return p == termenv.Ascii
}

// sgr is the styling lipgloss writes: Select Graphic Rendition, parameters only.
var sgr = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// Inert fails a line that holds anything a terminal would act on rather than draw, other than
// the renderer's own styling (none at all in the ASCII profile), or is wider than w.
func Inert(line string, w int, ascii bool) error {
	plain := line
	if !ascii {
		plain = sgr.ReplaceAllString(line, "")
	}
	if !utf8.ValidString(plain) {
		return fmt.Errorf("invalid UTF-8")
	}
	for i, r := range plain {
		switch {
		case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return fmt.Errorf("control character %U at byte %d", r, i)
		}
	}
	if lw := ansi.StringWidth(plain); lw > w {
		return fmt.Errorf("%d cells wide, more than %d", lw, w)
	}
	return nil
}

// View fails a view that is not exactly h lines, or has a line Inert refuses.
func View(view string, w, h int, ascii bool) error {
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		return fmt.Errorf("%d lines, want %d:\n%s", len(lines), h, view)
	}
	for i, line := range lines {
		if err := Inert(line, w, ascii); err != nil {
			return fmt.Errorf("line %d: %v in %q", i, err, line)
		}
	}
	return nil
}
