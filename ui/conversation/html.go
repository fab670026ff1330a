package conversation

import (
	"context"
	"regexp"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"maunium.net/go/mautrix/format"
	"maunium.net/go/mautrix/id"

	"duet/internal/sanitize"
)

// Formatted messages: the HTML of formatted_body drawn with terminal styles. mautrix's HTML
// parser walks the tags (lists, quotes, headings, code blocks, links, pills); duet gives it the
// styles. The HTML is made safe as a whole (sanitize.HTML: every text node and every attribute
// value) before the parser sees it, because the parser hands some attribute values (the maths
// of data-mx-maths, hrefs, alt texts) to the converters as they are; the converters sanitize
// what they print again, and styleLines and the result (onlySGR) keep no escape sequence but
// genuine SGR styling.
// Nothing in a message can move the cursor or change the terminal; unknown tags are their text.

// formatted turns a message's HTML into styled text: lines separated by "\n", each with the
// styles' escape sequences and nothing else.
func (m *Model) formatted(html string) string {
	html = scriptOrStyle.ReplaceAllString(sanitize.HTML(html), "")
	// Whatever a converter let through, the result holds no escape sequence but SGR styling.
	out := onlySGR(m.htmlParser().Parse(html, format.NewContext(context.Background())))
	return m.packBlocks(out)
}

// htmlParser converts HTML to text in the styles: sanitized text, styled inline elements,
// code blocks behind a bar, links with their address, mentions as names.
func (m *Model) htmlParser() *format.HTMLParser {
	st := m.styles
	inline := func(style lipgloss.Style) format.TextConverter {
		return func(s string, _ format.Context) string { return styleLines(style, s) }
	}
	return &format.HTMLParser{
		TabsToSpaces:   4,
		Newline:        "\n",
		HorizontalLine: "\n" + st.Quote.Render("───") + "\n",
		TextConverter: func(s string, _ format.Context) string {
			return sanitize.Text(s, true)
		},
		BoldConverter:           inline(st.Strong),
		ItalicConverter:         inline(st.Emph),
		StrikethroughConverter:  inline(st.Strike),
		UnderlineConverter:      inline(st.Under),
		MonospaceConverter:      inline(st.Code),
		MathConverter:           inline(st.Code),
		MathBlockConverter:      inline(st.Code),
		MonospaceBlockConverter: m.codeBlock,
		LinkConverter:           m.link,
		PillConverter:           m.pill,
		SpoilerConverter:        m.spoiler,
		ImageConverter:          m.image,
	}
}

// codeBlock is a code block's lines in the code style, each behind a bar.
func (m *Model) codeBlock(code, _ string, _ format.Context) string {
	code = sanitize.Text(strings.TrimRight(code, "\n"), true)
	lines := strings.Split(code, "\n")
	for i, l := range lines {
		lines[i] = m.styles.Quote.Render("│ ") + styleLines(m.styles.Code, l)
	}
	return strings.Join(lines, "\n")
}

// link is a link's text with its address after it, or the address alone when the text says
// nothing more.
func (m *Model) link(text, href string, _ format.Context) string {
	st := m.styles
	href = sanitize.Line(href)
	plain := strings.TrimSpace(ansi.Strip(text))
	if plain == "" || plain == href || "mailto:"+plain == href {
		return styleLines(st.Link, href)
	}
	return text + " " + st.Quote.Render("(") + styleLines(st.Link, href) + st.Quote.Render(")")
}

// pill is a mention: a user as the name we know them by (else the pill's text), a room or
// event as its ID.
func (m *Model) pill(name, mxid, _ string, _ format.Context) string {
	if mxid == "" {
		return name
	}
	if strings.HasPrefix(mxid, "@") {
		shown := m.names[id.UserID(mxid)]
		if shown == "" {
			shown = strings.TrimPrefix(ansi.Strip(name), "@")
		}
		return styleLines(m.styles.Mention, "@"+sanitize.Line(shown))
	}
	return styleLines(m.styles.Link, sanitize.Line(mxid))
}

// spoiler hides a spoiler's text, saying what it is about when the sender did.
func (m *Model) spoiler(_, reason string, _ format.Context) string {
	if reason = sanitize.Line(reason); reason != "" {
		return styleLines(m.styles.Quote, "[spoiler: "+reason+"]")
	}
	return m.styles.Quote.Render("[spoiler]")
}

// image is an image's alt text: an inline emoji as itself, else in brackets.
func (m *Model) image(_, alt, _, _, _ string, isEmoji bool) string {
	alt = sanitize.Line(alt)
	if isEmoji && alt != "" {
		return alt
	}
	if alt == "" {
		alt = "image"
	}
	return styleLines(m.styles.Quote, "["+alt+"]")
}

// packBlocks packs the parser's output for the timeline: blocks come apart with empty lines
// between them, and quotes as "> " lines, but a message's lines are already set apart, so the
// empty lines go and a quote gets a bar for each level instead.
func (m *Model) packBlocks(out string) string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(ansi.Strip(l)) == "" {
			continue
		}
		depth := 0
		for strings.HasPrefix(l, "> ") {
			l, depth = strings.TrimPrefix(l, "> "), depth+1
		}
		if depth > 0 {
			l = strings.Repeat(m.styles.Quote.Render("▏"), depth) + " " + l
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}

// scriptOrStyle is content no client shows as text.
var scriptOrStyle = regexp.MustCompile(`(?is)<script\b.*?</script\s*>|<style\b.*?</style\s*>`)

// styleLines styles the text of s, line by line so that a style never spans a line break
// (the timeline wraps and draws line by line). Parts styled already (bold inside a link, code
// inside a strikethrough) keep their own style: a style is never applied over another's escape
// sequences, which some (strikethrough, underline) would cut apart rune by rune. Only genuine
// SGR sequences (ESC [ digits, ';' or ':' then m: what lipgloss writes) pass as styling; the
// text around them is sanitized again, so whatever reaches here, an escape sequence that is
// not styling is drawn inert (␛]52;…), never acted on.
func styleLines(style lipgloss.Style, s string) string {
	var b strings.Builder
	for i, line := range strings.Split(s, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		for line != "" {
			loc := sgr.FindStringIndex(line)
			if loc == nil {
				b.WriteString(style.Render(sanitize.Line(line)))
				break
			}
			if loc[0] > 0 {
				b.WriteString(style.Render(sanitize.Line(line[:loc[0]])))
			}
			b.WriteString(line[loc[0]:loc[1]])
			line = line[loc[1]:]
		}
	}
	return b.String()
}

// onlySGR returns s with its SGR sequences kept and everything else sanitized (line breaks
// kept): an escape sequence that is not styling is drawn inert.
func onlySGR(s string) string {
	var b strings.Builder
	for s != "" {
		loc := sgr.FindStringIndex(s)
		if loc == nil {
			b.WriteString(sanitize.Text(s, true))
			break
		}
		b.WriteString(sanitize.Text(s[:loc[0]], true))
		b.WriteString(s[loc[0]:loc[1]])
		s = s[loc[1]:]
	}
	return b.String()
}

// sgr is one Select Graphic Rendition sequence: the only escape sequence duet's styling writes.
var sgr = regexp.MustCompile(`\x1b\[[0-9;:]*m`)
