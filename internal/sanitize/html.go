package sanitize

import (
	"strings"

	"golang.org/x/net/html"
)

// HTML returns formatted_body with every text node, attribute value and name, tag name and
// comment made safe as Text makes it (line breaks and tabs kept: the HTML parser decides what
// whitespace means). It works on the parsed document, not on the string, because character
// references (&#27;) become control characters only once parsed, and because an HTML parser
// hands some attribute values (data-mx-maths, href, alt) to its converters as they are, without
// the text converter seeing them. What comes back is HTML again, for any HTML parser to take.
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
		n.Data = htmlText(n.Data)
		n.Namespace = htmlText(n.Namespace)
		for i := range n.Attr {
			a := &n.Attr[i]
			a.Namespace, a.Key, a.Val = htmlText(a.Namespace), htmlText(a.Key), htmlText(a.Val)
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

// htmlText is Text keeping tabs and line breaks (CR LF as LF), which carry meaning in <pre>.
func htmlText(s string) string {
	if !strings.ContainsRune(s, '\t') {
		return Text(s, true)
	}
	parts := strings.Split(s, "\t")
	for i, p := range parts {
		parts[i] = Text(p, true)
	}
	return strings.Join(parts, "\t")
}
