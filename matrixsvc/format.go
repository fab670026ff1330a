package matrixsvc

import (
	"context"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/format"
	"maunium.net/go/mautrix/id"
	"mvdan.cc/xurls/v2"
)

// mxReply is the quoted original a reply carried before Matrix 1.13 (the reply fallback), in
// formatted_body.
var mxReply = regexp.MustCompile(`(?is)^\s*<mx-reply>.*?</mx-reply>`)

// withoutReplyFallback removes the quote of the original message that other clients put in
// front of a reply: in body the leading "> " lines and the empty line after them, in html the
// <mx-reply> block. duet shows what a reply answers from the relation itself.
func withoutReplyFallback(body, html string) (string, string) {
	if html != "" {
		html = mxReply.ReplaceAllString(html, "")
	}
	if !strings.HasPrefix(body, "> ") {
		return body, html
	}
	lines := strings.Split(body, "\n")
	i := 0
	for i < len(lines) && strings.HasPrefix(lines[i], "> ") {
		i++
	}
	if i < len(lines) && lines[i] == "" {
		i++
	}
	return strings.Join(lines[i:], "\n"), html
}

// PlainText is a message's text on one line or a few, as a preview or a quote shows it: its
// formatting taken away (what **bold** or a link's target add), else its body as sent. It is
// not sanitized.
func PlainText(body, html string) string {
	if html == "" {
		return body
	}
	return plainParser.Parse(html, format.NewContext(context.Background()))
}

var plainParser = func() *format.HTMLParser {
	same := func(s string, _ format.Context) string { return s }
	return &format.HTMLParser{
		TabsToSpaces:            4,
		Newline:                 "\n",
		HorizontalLine:          "\n",
		BoldConverter:           same,
		ItalicConverter:         same,
		StrikethroughConverter:  same,
		UnderlineConverter:      same,
		MonospaceConverter:      same,
		MathConverter:           same,
		MathBlockConverter:      same,
		MonospaceBlockConverter: func(code, _ string, _ format.Context) string { return code },
		LinkConverter: func(text, href string, _ format.Context) string {
			if strings.TrimSpace(text) == "" {
				return href
			}
			return text
		},
		PillConverter:    format.DefaultPillConverter,
		SpoilerConverter: func(_, _ string, _ format.Context) string { return "[spoiler]" },
	}
}()

// Links are the web addresses in a message, in the order they come, each once: the targets
// of its links and the addresses written in its text. Only http and https ones: what a
// stranger sends must not make the opener run a file or another scheme's program. Mentions
// are not links.
func Links(body, html string) []string {
	text := body
	if html != "" {
		// Each link stands in for itself, so that one search finds all in order.
		parser := *plainParser
		parser.LinkConverter = func(_, href string, _ format.Context) string { return " " + href + " " }
		text = parser.Parse(html, format.NewContext(context.Background()))
	}
	var out []string
	for _, l := range webAddress().FindAllString(text, -1) {
		u, err := url.Parse(l)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || slices.Contains(out, l) {
			continue
		}
		out = append(out, l)
	}
	return out
}

// webAddress finds addresses written with their scheme. Compiled on first use: the
// expression is large (1 ms at every start, before main ran).
var webAddress = sync.OnceValue(xurls.Strict)

// messageContent is what is sent for a message typed in duet: the text as typed in body, and,
// when its Markdown formats anything, the HTML in formatted_body (as Element does).
func messageContent(body string, emote bool) *event.MessageEventContent {
	content := format.RenderMarkdown(body, true, false)
	content.Body = body
	content.MsgType = event.MsgText
	if emote {
		content.MsgType = event.MsgEmote
	}
	return &content
}

// MarkdownHTML is the formatted_body duet sends for text typed in Markdown, "" when the text
// formats nothing (it goes as plain text then).
func MarkdownHTML(body string) string {
	if c := messageContent(body, false); c.Format == event.FormatHTML {
		return c.FormattedBody
	}
	return ""
}

// editContent is an edit (m.replace) of our message evt: the new text in m.new_content,
// formatted as a message would be, and "* " and the new text as the fallback for clients
// that do not know edits.
func editContent(body string, emote bool, evt id.EventID) *event.MessageEventContent {
	next := messageContent(body, emote)
	content := *next // the fallback: rendered once, "* " in front (rendering "* text" made a list)
	content.Body = "* " + body
	if content.Format == event.FormatHTML {
		content.FormattedBody = "* " + next.FormattedBody
	}
	content.NewContent = next
	content.RelatesTo = &event.RelatesTo{Type: event.RelReplace, EventID: evt}
	return &content
}
