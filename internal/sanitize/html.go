package sanitize

import (
	"strings"

	"golang.org/x/net/html"
)

// HTML returns formatted_body with every text node, attribute value and name, tag name and
// comment made safe as Output makes it (line breaks and tabs kept: the HTML parser decides
// what whitespace means, and <pre> keeps them). It works on the parsed document, not on the
// string, because character references (&#27;) become control characters only once parsed,
// and because an HTML parser hands some attribute values (data-mx-maths, href, alt) to its
// converters as they are, without the text converter seeing them. What comes back is HTML
// again, for any HTML parser to take.
func HTML(s string) string {
	if s == "" {
		return ""
	}
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil { // x/net/html parses anything; a reader error cannot happen on a string
		return html.EscapeString(Text(s, true))
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		n.Data = Output(n.Data)
		n.Namespace = Output(n.Namespace)
		for i := range n.Attr {
			a := &n.Attr[i]
			a.Namespace, a.Key, a.Val = Output(a.Namespace), Output(a.Key), Output(a.Val)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	var b strings.Builder
	if err := html.Render(&b, doc); err != nil {
		return html.EscapeString(Text(s, true))
	}
	return b.String()
}
