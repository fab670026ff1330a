// Package termtest holds what duet's fuzz tests share about text that reaches a terminal: the
// hostile strings servers may send, the colour profiles to draw in, and the check that what was
// drawn holds nothing a terminal would act on and fits its pane.
package termtest

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	"duet/ui/styles"
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

// SetProfile draws in one of the colour profiles, chosen by b, on a dark background; it reports
// whether that is plain ASCII (no styling at all). The styles built from then on (styles.New,
// styles.Default) are the profile's.
func SetProfile(b uint8) bool {
	p := [...]colorprofile.Profile{colorprofile.ASCII, colorprofile.ANSI, colorprofile.ANSI256, colorprofile.TrueColor}[b%4]
	styles.SetTerminal(styles.Terminal{Profile: p})
	return p == colorprofile.ASCII
}

// Plain draws with no styling at all, as the tests that read the text of views expect: the
// styles built from then on are plain.
func Plain() { styles.SetTerminal(styles.Terminal{Profile: colorprofile.ASCII}) }

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
		case acted(r):
			return fmt.Errorf("control character %U at byte %d", r, i)
		}
	}
	// The width as the renderer takes it, with the styling in place (only SGR is left by now):
	// Bubble Tea v2 parses the frame into cells, and a mark after a style change (a variation
	// selector, a combining mark) joins the cell before it without widening it; so does
	// ansi.StringWidth. With the styling stripped, the mark would make a new cluster with the
	// character before it instead, which x/ansi measures differently (a space and U+FE0F: two
	// cells since v0.11.9).
	if lw := ansi.StringWidth(line); lw > w {
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

// HostileHTML is formatted_body a server or peer may send: hostile text in every attribute
// mautrix's HTML parser hands to a converter (data-mx-maths, href, src, alt, title,
// data-mx-spoiler, data-mx-color, a code block's class, an ordered list's start), and control
// characters written as character references, which only exist once the HTML is parsed.
func HostileHTML() []string {
	const osc52 = "\x1b]52;c;aGk=\x07m"
	return []string{
		`<span data-mx-maths="` + osc52 + `">x</span>`,
		`<div data-mx-maths="` + osc52 + `">x</div>`,
		`<span data-mx-maths="&#27;]52;c;aGk=&#7;m">x</span>`,
		`<div data-mx-maths="a&#x1b;[2J&#x1b;[Hb&#7;">x</div>`,
		`<span data-mx-maths="bell&#7;only">x</span>`,
		`<span data-mx-maths="&#x9b;31mred">x</span>`,
		`<a href="https://e.org/&#27;]52;c;aGk=&#7;m">link</a>`,
		`<a href="` + osc52 + `"></a>`,
		`<a href="https://matrix.to/#/@x&#27;]0;t&#7;:e.org">pill</a>`,
		`<a href="https://matrix.to/#/@x%1b]52;c;aGk=%07m:e.org">pill</a>`,
		`<a href="https://matrix.to/#/%23r%1b[2J:e.org">room</a>`,
		`<img src="mxc://e.org/&#27;[2J" alt="&#27;]52;c;aGk=&#7;m" title="&#27;]0;t&#7;">`,
		`<img data-mx-emoticon src="mxc://e.org/x" alt="` + osc52 + `">`,
		`<span data-mx-spoiler="&#27;]52;c;aGk=&#7;m">secret</span>`,
		`<span data-mx-color="&#27;[31m" data-mx-bg-color="` + osc52 + `">colour</span>`,
		`<font color="&#27;]0;t&#7;">font</font>`,
		`<pre><code class="language-&#27;]52;c;aGk=&#7;m">code &#27;[2J</code></pre>`,
		`<ol start="&#27;[2J"><li>one</li></ol><ol start="-3"><li>minus</li></ol>`,
		`<p>&#27;]52;c;aGk=&#7;m &#x9d;0;t&#x9c; &#x202e;rev &#13;cr &#0;nul</p>`,
		`<h1>&#27;[1mhead</h1><blockquote>&#27;[2J<code>&#27;]0;t&#7;</code></blockquote>`,
		`<b>` + osc52 + `</b><i>&#27;[31m</i><del>&#7;</del><u>&#27;P</u><code>&#27;\</code>`,
		`<ul><li><input type="checkbox" checked>&#27;]52;c;aGk=&#7;</li></ul>`,
		"<p \x1b]0;t\x07=\"x\">attr name</p><x\x1b[2J>tag</x\x1b[2J>",
		`<table><tr><td>&#27;[2J</td></tr></table><hr><br>`,
		`<script>&#27;[2J</script><style>x</style><!-- &#27;]0;t&#7; -->`,
		`<span data-mx-maths="` + strings.Repeat("\x1b[31m", 20) + `">x</span>`,
	}
}

// Output fails text a command printed (one of its lines or all of them) that holds anything a
// terminal would act on rather than draw: commands print no styling at all, and no control but
// line breaks and tabs.
func Output(out string) error {
	if !utf8.ValidString(out) {
		return fmt.Errorf("invalid UTF-8 in %q", out)
	}
	for i, r := range out {
		switch {
		case r == '\n', r == '\t':
		case acted(r):
			return fmt.Errorf("control character %U at byte %d in %q", r, i, out)
		}
	}
	return nil
}

// acted reports whether a terminal acts on r instead of drawing it: C0 and C1 controls, DEL,
// and the bidirectional controls, which reorder what follows.
func acted(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || (r >= 0x202a && r <= 0x202e) ||
		(r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}

// Frames keeps the text of every frame a model draws (Record), one after the other, each
// followed by a line break; a frame the same as the one before is kept once. Bubble Tea v2's
// renderer writes only the cells that changed, so what a program writes to the terminal holds
// no line whole: tests that wait for text on the screen read the frames, taken where they are
// made.
type Frames struct {
	mu     sync.Mutex
	frames bytes.Buffer
	last   string
}

// Take returns what was recorded since the last Take.
func (f *Frames) Take() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := bytes.Clone(f.frames.Bytes())
	f.frames.Reset()
	return b
}

// Record wraps m: the model it returns hands everything to m, and records the text of its
// views (without styling) in frames.
func Record(m tea.Model) (tea.Model, *Frames) {
	f := &Frames{}
	return recording{m, f}, f
}

type recording struct {
	tea.Model
	f *Frames
}

func (r recording) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := r.Model.Update(msg)
	r.Model = m
	return r, cmd
}

func (r recording) View() tea.View {
	v := r.Model.View()
	text := ansi.Strip(v.Content)
	r.f.mu.Lock()
	if text != r.f.last {
		r.f.last = text
		r.f.frames.WriteString(text)
		r.f.frames.WriteByte('\n')
	}
	r.f.mu.Unlock()
	return v
}
