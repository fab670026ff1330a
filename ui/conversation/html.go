package conversation

import (
	"context"
	"regexp"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"maunium.net/go/mautrix/format"
	"maunium.net/go/mautrix/id"

	"duet/internal/sanitize"
)

// Formatted messages: the HTML of formatted_body drawn with terminal styles. mautrix's HTML
// parser walks the tags (lists, quotes, headings, code blocks, links, pills); duet gives it the
// styles. Every piece of text, attribute values included, goes through sanitize first, so
// nothing in a message can move the cursor or change the terminal; unknown tags are their text.

// formatted turns a message's HTML into styled text: lines separated by "\n", each with the
// styles' escape sequences and nothing else.
func (m Model) formatted(html string) string {
	st := m.styles
	inline := func(style lipgloss.Style) format.TextConverter {
		return func(s string, _ format.Context) string { return styleLines(style, s) }
	}
	parser := &format.HTMLParser{
		TabsToSpaces:   4,
		Newline:        "\n",
		HorizontalLine: "\n" + st.Quote.Render("───") + "\n",
		TextConverter: func(s string, _ format.Context) string {
			return sanitize.Text(s, true)
		},
		BoldConverter:          inline(st.Strong),
		ItalicConverter:        inline(st.Emph),
		StrikethroughConverter: inline(st.Strike),
		UnderlineConverter:     inline(st.Under),
		MonospaceConverter:     inline(st.Code),
		MathConverter:          inline(st.Code),
		MathBlockConverter:     inline(st.Code),
		MonospaceBlockConverter: func(code, _ string, _ format.Context) string {
			code = sanitize.Text(strings.TrimRight(code, "\n"), true)
			lines := strings.Split(code, "\n")
			for i, l := range lines {
				lines[i] = st.Quote.Render("│ ") + styleLines(st.Code, l)
			}
			return strings.Join(lines, "\n")
		},
		LinkConverter: func(text, href string, _ format.Context) string {
			href = sanitize.Line(href)
			plain := strings.TrimSpace(ansi.Strip(text))
			if plain == "" || plain == href || "mailto:"+plain == href {
				return styleLines(st.Link, href)
			}
			return text + " " + st.Quote.Render("(") + styleLines(st.Link, href) + st.Quote.Render(")")
		},
		PillConverter: func(name, mxid, _ string, _ format.Context) string {
			if mxid == "" {
				return name
			}
			if strings.HasPrefix(mxid, "@") {
				shown := m.names[id.UserID(mxid)]
				if shown == "" {
					shown = strings.TrimPrefix(ansi.Strip(name), "@")
				}
				return styleLines(st.Mention, "@"+sanitize.Line(shown))
			}
			return styleLines(st.Link, sanitize.Line(mxid))
		},
		SpoilerConverter: func(_, reason string, _ format.Context) string {
			if reason = sanitize.Line(reason); reason != "" {
				return styleLines(st.Quote, "[spoiler: "+reason+"]")
			}
			return st.Quote.Render("[spoiler]")
		},
		ImageConverter: func(_, alt, _, _, _ string, isEmoji bool) string {
			alt = sanitize.Line(alt)
			if isEmoji && alt != "" {
				return alt
			}
			if alt == "" {
				alt = "image"
			}
			return styleLines(st.Quote, "["+alt+"]")
		},
	}
	html = scriptOrStyle.ReplaceAllString(html, "")
	out := parser.Parse(html, format.NewContext(context.Background()))
	// Blocks come apart with empty lines between them, and quotes as "> " lines: the timeline
	// packs the lines (a message's lines are already set apart) and draws a bar instead.
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
			l = strings.Repeat(st.Quote.Render("▏"), depth) + " " + l
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
// sequences, which some (strikethrough, underline) would cut apart rune by rune. Text reaching
// here is sanitized, so every escape in it is one of the styles' own SGR sequences.
func styleLines(style lipgloss.Style, s string) string {
	var b strings.Builder
	for i, line := range strings.Split(s, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		for line != "" {
			esc := strings.IndexByte(line, '\x1b')
			if esc < 0 {
				b.WriteString(style.Render(line))
				break
			}
			if esc > 0 {
				b.WriteString(style.Render(line[:esc]))
			}
			end := strings.IndexByte(line[esc:], 'm')
			if end < 0 { // not one of ours: dropped rather than drawn
				break
			}
			b.WriteString(line[esc : esc+end+1])
			line = line[esc+end+1:]
		}
	}
	return b.String()
}
