package sanitize

import (
	"strings"
	"testing"

	"golang.org/x/net/html"

	"duet/internal/testkit/termtest"
)

// TestHTML: control characters written as themselves or as character references, in text or
// in attributes, are inert once parsed; the formatting itself is kept.
func TestHTML(t *testing.T) {
	cases := []struct{ in, want string }{
		{`<span data-mx-maths="&#27;]52;c;aGk=&#7;">x</span>`, `<span data-mx-maths="␛]52;c;aGk=␇">x</span>`},
		{"<b>bold\x1b[2J</b>", "<b>bold␛[2J</b>"},
		{"<a href=\"https://e.org/\u009b31m\">l &amp; &lt;</a>", "<a href=\"https://e.org/\uFFFD31m\">l &amp; &lt;</a>"},
		{"<pre><code>\tx\r\ny\n</code></pre>", "<pre><code>\tx\ny\n</code></pre>"},
		{"", ""},
	}
	for _, c := range cases {
		got := HTML(c.in)
		if !strings.Contains(got, c.want) {
			t.Errorf("HTML(%q) = %q, want it to hold %q", c.in, got, c.want)
		}
	}
}

// FuzzHTML: whatever HTML comes in, once what comes out is parsed again (as any consumer
// does), no text node, attribute, tag or comment holds a character a terminal would act on
// (line breaks and tabs aside).
func FuzzHTML(f *testing.F) {
	for _, s := range termtest.HostileHTML() {
		f.Add(s)
	}
	for _, s := range termtest.Hostile() {
		f.Add("<p title=\"" + s + "\">" + s + "</p>")
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := HTML(s)
		doc, err := html.Parse(strings.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		var walk func(n *html.Node)
		walk = func(n *html.Node) {
			inertHTML(t, n.Data, out)
			for _, a := range n.Attr {
				inertHTML(t, a.Namespace+a.Key+a.Val, out)
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		walk(doc)
	})
}

func inertHTML(t *testing.T, s, doc string) {
	t.Helper()
	if err := termtest.Output(s); err != nil {
		t.Fatalf("%v, in %q", err, doc)
	}
}
