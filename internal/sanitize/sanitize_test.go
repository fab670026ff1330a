package sanitize

import (
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	cases := []struct {
		name, in, want string
		keepNL         bool
	}{
		{"plain", "hello, wörld 👋", "hello, wörld 👋", false},
		{"osc title", "\x1b]0;title\x07", "␛]0;title␇", false},
		{"clear screen", "a\x1b[2Jb", "a␛[2Jb", false},
		{"osc52 clipboard", "\x1b]52;c;ZXZpbA==\x07", "␛]52;c;ZXZpbA==␇", false},
		{"c1 csi", "x\u009b31mred", "x\uFFFD31mred", false},
		{"bidi override dropped", "abc\u202edef", "abcdef", false},
		{"newline kept", "a\nb", "a\nb", true},
		{"newline shown when not kept", "a\nb", "a␊b", false},
		{"crlf", "a\r\nb", "a\nb", true},
		{"tab", "a\tb", "a b", true},
		{"invalid utf8", "a\xffb", "a\uFFFDb", true},
		{"del", "a\x7fb", "a␡b", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Text(c.in, c.keepNL)
			if got != c.want {
				t.Fatalf("Text(%q) = %q, want %q", c.in, got, c.want)
			}
			if strings.ContainsRune(got, 0x1b) || strings.ContainsRune(got, 0x07) || strings.ContainsRune(got, 0x9b) {
				t.Fatalf("control character survived in %q", got)
			}
		})
	}
}

func TestLine(t *testing.T) {
	if got := Line("two\nlines\x1b[1m"); got != "two lines␛[1m" {
		t.Fatalf("Line = %q", got)
	}
}
