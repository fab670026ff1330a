package security

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
)

// FuzzDialog: the other side's name and user ID, their device ID, the emoji and their names,
// and error texts from the server are drawn inert and within the pane at every stage of the
// dialog, at any size and in every colour profile.
func FuzzDialog(f *testing.F) {
	seeds := hostile()
	for i, s := range seeds {
		other := seeds[(i+1)%len(seeds)]
		f.Add(s, "@"+other+":example.org", s, other, s, other, uint8(i*11), uint8(i), uint8(i))
	}
	f.Add("Alice (@alice:example.org)", string(alice), "PHONE", "🐶", "Dog", "wrong key", uint8(50), uint8(20), uint8(0))
	f.Cleanup(func() { lipgloss.SetColorProfile(termenv.Ascii) }) // what the package's tests expect
	f.Fuzz(func(t *testing.T, who, user, device, emoji, emojiName, errText string, w, h, profile uint8) {
		ascii := setProfile(profile)
		width, height := 10+int(w)%191, 1+int(h)%40
		m := newDialog(width, height)
		uid := id.UserID(user)
		seven := make([]matrixsvc.SASEmoji, 7)
		for i := range seven {
			seven[i] = sas[i]
			if i%2 == 0 {
				seven[i] = matrixsvc.SASEmoji{Emoji: emoji, Name: emojiName}
			}
		}
		check := func(stage string) {
			t.Helper()
			view := m.View()
			lines := strings.Split(view, "\n")
			if len(lines) > height {
				t.Fatalf("%s: %d lines, more than %d:\n%s", stage, len(lines), height, view)
			}
			for _, l := range lines {
				if err := inert(l, width, ascii); err != nil {
					t.Fatalf("%s: %v in %q", stage, err, l)
				}
			}
		}
		for _, own := range []bool{false, true} {
			m.Ask(uid, who, own)
			check("asking")
			m.Progress(matrixsvc.Verification{Txn: "t", User: uid, Device: id.DeviceID(device), Stage: matrixsvc.VerifyReady})
			check("waiting")
			m.Incoming(matrixsvc.Verification{Txn: "t", User: uid, Device: id.DeviceID(device)}, who, own)
			check("incoming")
			m.Progress(matrixsvc.Verification{Txn: "t", User: uid, Stage: matrixsvc.VerifyEmoji, Emoji: seven})
			check("compare")
			m, _ = press(t, m, runes("y")...)
			check("confirmed")
		}
		m.OfferSetup(errText)
		check("offer setup")
		m.KeyFailed(errText)
		check("enter key")
		m.SetupFailed(errText)
		check("enter password")
		m.ShowKey("EsTc 1234 ABCD", errText)
		check("show key")
	})
}

// TestDialogHugeName: a 100 KB name is drawn inert and within the pane.
func TestDialogHugeName(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 100<<10; i++ {
		s := hostile()
		b.WriteString(s[i%len(s)])
	}
	m := newDialog(40, 12)
	m.Incoming(matrixsvc.Verification{Txn: "t", User: id.UserID(b.String()), Device: id.DeviceID(b.String())}, b.String(), false)
	for _, l := range strings.Split(m.View(), "\n") {
		if err := inert(l, 40, true); err != nil {
			t.Fatalf("%v in %q", err, l)
		}
	}
}

// hostile is text a server may send to make a terminal do something other than draw it, or to
// make a line wider than it looks.
func hostile() []string {
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

// setProfile draws in one of the colour profiles, chosen by b; it reports whether that is
// plain ASCII (no styling at all). The background is said to be dark so that lipgloss never
// asks the terminal.
func setProfile(b uint8) bool {
	p := [...]termenv.Profile{termenv.Ascii, termenv.ANSI, termenv.ANSI256, termenv.TrueColor}[b%4]
	lipgloss.SetHasDarkBackground(true)
	lipgloss.SetColorProfile(p)
	return p == termenv.Ascii
}

// sgr is the styling lipgloss writes: Select Graphic Rendition, parameters only.
var sgr = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// inert fails a line that holds anything a terminal would act on rather than draw, other than
// the renderer's own styling (none at all in the ASCII profile), or is wider than w.
func inert(line string, w int, ascii bool) error {
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
