package conversation

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"duet/internal/testkit/termtest"
	"duet/matrixsvc"
	"duet/ui/styles"
)

// What Element and other clients send as formatted_body, drawn in the terminal: emphasis
// kept, lists and quotes laid out, links with their address, pills by name, code as code;
// unknown tags are their text, and nothing in the HTML reaches the terminal as a control.
const elementHTML = `<p>This is <strong>bold</strong>, <em>italic</em>, <del>gone</del> and <code>x := 1</code>.</p>` +
	`<blockquote><p>a quoted line</p></blockquote>` +
	`<ul><li>first</li><li>second</li></ul><ol><li>one</li><li>two</li></ol>` +
	`<pre><code class="language-go">fmt.Println("hi")
return nil
</code></pre>` +
	`<p>See <a href="https://example.org/docs">the docs</a> or https://example.org, ask ` +
	`<a href="https://matrix.to/#/@alice:example.org">Alice</a>.</p>` +
	`<marquee>old tag</marquee><script>alert(1)</script>` +
	"<p>evil \x1b[2J\x1b]0;title\x07 text <a href=\"https://x.org/\x1b[31m\">link</a></p>"

func TestFormattedMessage(t *testing.T) {
	for _, profile := range []uint8{0, 3} {
		ascii := termtest.SetProfile(profile)
		m := New(DefaultKeyMap(), styles.Default().Conversation, me, func() time.Time { return now })
		m.SetSize(60, 40)
		m.SetName(alice, "Alice")
		m.AddPage([]matrixsvc.Message{{EventID: "$f", Sender: alice, Timestamp: now, MsgType: "m.text",
			Body: "plain fallback that is not shown", HTML: elementHTML}}, false)
		v := m.View()
		checkView(t, v, 60, 40, ascii)
		plain := ansi.Strip(v)
		for _, want := range []string{
			"This is bold, italic, gone and x := 1.",
			"▏ a quoted line",
			"* first", "* second", "1. one", "2. two",
			`│ fmt.Println("hi")`, "│ return nil",
			"See the docs (https://example.org/docs)", "ask @Alice.",
			"old tag",
			"evil", "link (https://x.org/",
		} {
			if !strings.Contains(plain, want) {
				t.Fatalf("profile %d: view lacks %q:\n%s", profile, want, plain)
			}
		}
		for _, bad := range []string{"plain fallback", "<strong>", "alert(1)"} {
			if strings.Contains(plain, bad) {
				t.Fatalf("profile %d: view shows %q:\n%s", profile, bad, plain)
			}
		}
	}
}

// TestFormattedHostileAttributes: hostile text in any attribute the HTML parser hands to a
// converter (the maths of data-mx-maths above all, which mautrix passes on as it came), or
// written as character references, is drawn inert, in every colour profile.
func TestFormattedHostileAttributes(t *testing.T) {
	for profile := range uint8(4) {
		ascii := termtest.SetProfile(profile)
		for _, h := range termtest.HostileHTML() {
			m := New(DefaultKeyMap(), styles.Default().Conversation, me, func() time.Time { return now })
			m.SetSize(80, 30)
			m.AddPage([]matrixsvc.Message{{EventID: "$f", Sender: alice, Timestamp: now, MsgType: "m.text", Body: "x", HTML: h}}, false)
			for _, l := range m.lines(0) {
				if err := termtest.Inert(l, 80, ascii); err != nil {
					t.Fatalf("profile %d, %q: %v in %q", profile, h, err, l)
				}
			}
			checkView(t, m.View(), 80, 30, ascii)
		}
	}
	termtest.SetProfile(0)
}

// FuzzFormatted: whatever HTML a message carries, its lines stay inert and within the pane.
func FuzzFormatted(f *testing.F) {
	f.Add(elementHTML, uint8(40), uint8(0))
	f.Add("<b>unclosed <i>nest<ul><li>x", uint8(10), uint8(3))
	f.Add("<pre>\x1b[31m\ttab</pre><a href='javascript:\x07'>", uint8(20), uint8(2))
	for i, h := range termtest.HostileHTML() {
		f.Add(h, uint8(i*7), uint8(i))
	}
	f.Fuzz(func(t *testing.T, html string, w, profile uint8) {
		ascii := termtest.SetProfile(profile)
		width := 10 + int(w)%150
		m := New(DefaultKeyMap(), styles.Default().Conversation, me, func() time.Time { return now })
		m.SetSize(width, 20)
		m.AddPage([]matrixsvc.Message{{EventID: "$f", Sender: alice, Timestamp: now, MsgType: "m.text", Body: "x", HTML: html}}, false)
		for _, l := range m.lines(0) {
			checkLine(t, l, width, ascii)
		}
		checkView(t, m.View(), width, 20, ascii)
	})
}
