package idlebench

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// A command name with a space and parentheses of its own: fields count from the last ')'.
	line := "4242 (du et) (x)) S 1 4242 4242 34816 4242 4194304 1234 0 0 0 157 23 0 0 20 0 9 0 123456 1000000 2000 18446744073709551615\n"
	utime, stime, err := parseStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if utime != 157 || stime != 23 {
		t.Fatalf("utime, stime = %d, %d; want 157, 23", utime, stime)
	}
	for _, bad := range []string{"", "4242 no parentheses", "4242 (duet) S 1 2 3"} {
		if _, _, err := parseStat(bad); err == nil {
			t.Errorf("parseStat(%q) took it", bad)
		}
	}
}

func TestAnswer(t *testing.T) {
	var term Term
	var got []string
	write := func(s string) {
		term.out = append(term.out, s...)
		got = append(got, term.answer()...)
	}
	// termenv's question (background colour, then the cursor as a fallback), a frame, then a
	// question cut in two by a read, and one asked again.
	write("\x1b]11;?\x1b\\\x1b[6n")
	write("frame\r\n\x1b[38;2;1;2;3mtext\x1b[m\x1b[")
	write("c more \x1b[6n")
	want := []string{"\x1b]11;rgb:0000/0000/0000\x1b\\", "\x1b[1;1R", "\x1b[?62;22c", "\x1b[1;1R"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("answers %q, want %q", got, want)
	}
	if extra := term.answer(); len(extra) > 0 {
		t.Fatalf("answered again: %q", extra)
	}
}

func TestDrawn(t *testing.T) {
	// The text is cut by an escape sequence, as a styled frame cuts it, and then changed in
	// place, as a renderer that writes only the cells that changed does; a silent terminal
	// answers nothing.
	cmd := exec.Command("sh", "-c", `printf '\033]11;?\033\\x \033[1mCon\033[mtacts (0)'; sleep 0.2; printf '\r\033[12C3)'; sleep 5`)
	term, err := StartWith(cmd, 80, 24, Options{Silent: true})
	if err != nil {
		t.Fatal(err)
	}
	defer term.Close("", 0)
	began := time.Now()
	never := term.Drawn("Contacts (4)")
	select {
	case seen := <-term.Drawn("Contacts (3)"):
		if d := seen.At.Sub(began); d < 150*time.Millisecond {
			t.Errorf("drawn after %s, before it was written", d)
		}
	case <-time.After(4 * time.Second):
		t.Fatalf("not seen; the screen: %q", term.Screen(0))
	}
	select {
	case <-never:
		t.Error("a text never written was seen")
	default:
	}
	if term.scanned != 0 {
		t.Error("a silent terminal looked for questions")
	}
}
