package conversation

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/sanitize"
	"duet/matrixsvc"
	"duet/ui/internal/textutil"
)

// lines returns entry i rendered at the current width, from the cache when it can.
func (m *Model) lines(i int) []string {
	e := m.entries[i]
	if e.lines == nil || e.width != m.width || (e.img != nil && e.picLimit != m.PictureLimit()) {
		e.lines, e.width, e.picLimit = m.render(e), m.width, m.PictureLimit()
	}
	return e.lines
}

const timeWidth = 6 // "15:04 "

// render draws one message: an optional day separator, then "15:04 Name: body" wrapped to the
// width with continuation lines indented under the body, then its delivery state.
func (m *Model) render(e *entry) []string {
	w := max(m.width, 1)
	ts := e.msg.Timestamp.In(m.now().Location())
	out := m.separators(e, ts, w)
	if e.msg.Note() {
		// duet's own line (a refused encryption change, someone else in the 1:1, a new device),
		// never a message. NoteText sanitizes the names; the style goes on after.
		return append(out, m.noteLines(e, e.msg.NoteText(m.me, func(u id.UserID) string { return m.names[u] }), w)...)
	}
	s := m.show(e, w)
	indent := timeWidth
	if w < 24 {
		indent = 0
	}
	pad := strings.Repeat(" ", indent)
	if e.msg.Thread != "" && m.thread == "" {
		out = append(out, m.threadLine(e, pad, w))
	}
	if e.msg.ReplyTo != "" {
		out = append(out, m.replyLine(e, pad, w))
	}
	out = append(out, m.bodyLines(e, s, ts, indent, w)...)
	e.picFrom, e.picRows = 0, 0
	if s.media {
		pic := m.pictureLines(e, pad, w)
		if len(pic) > 0 {
			e.picFrom, e.picRows = len(out), len(pic)
		}
		out = append(out, pic...)
	}
	out = m.withMarks(out, e, pad, w)
	if len(e.msg.Reactions) > 0 && !e.msg.Redacted {
		out = append(out, m.reactionLines(e.msg.Reactions, pad, w)...)
	}
	if e.msg.ThreadReplies > 0 && m.thread == "" && !e.msg.Redacted {
		out = append(out, m.repliesLine(e, pad, w))
	}
	out = m.withState(out, e, pad, w)
	if e.selected && indent > 0 {
		// A bar beside the picked message's other lines, so that all of it reads as picked.
		bar := m.styles.Selected.Render("▌")
		for i, l := range out {
			if strings.HasPrefix(l, pad) {
				out[i] = bar + l[1:]
			}
		}
	}
	return out
}

// separators are the lines above a message: the day it begins (or the room it moved from),
// then the mark of the first message not read.
func (m *Model) separators(e *entry, ts time.Time, w int) []string {
	var out []string
	if e.moved != "" {
		out = append(out, m.dayLine(e.moved+" · "+ts.Format("2 January 2006"), w))
	} else if e.day {
		out = append(out, m.dayLine(ts.Format("Monday, 2 January 2006"), w))
	}
	if e.unread {
		out = append(out, m.unreadLine(w))
	}
	return out
}

// shown is what a message's lines say: who wrote it, as the first line begins, and its body.
type shown struct {
	prefix      string // "Name: " or "* Name " for an emote, styled
	plainPrefix string // the same unstyled, to measure
	body        string
	bodyStyle   lipgloss.Style
	styled      bool // body carries its own styles (a formatted message), bodyStyle is not used
	media       bool // a picture or file: its lines come after the body
}

// show is the sender and body of e as they are drawn: a deleted or undecryptable message shows
// a placeholder in the notice style, an emote its sender's name in the sentence.
func (m *Model) show(e *entry, w int) shown {
	name, nameStyle, bodyStyle := m.sender(e, w)
	s := shown{bodyStyle: bodyStyle}
	s.body, s.styled, s.media = m.body(e)
	switch {
	case e.msg.Redacted:
		s.body, s.bodyStyle = "message deleted", m.styles.Notice
	case e.msg.MsgType == "" || e.msg.Encrypted:
		s.body, s.bodyStyle = undecryptable(e.msg.DecryptError), m.styles.Notice
	case e.msg.MsgType == string(event.MsgEmote):
		s.plainPrefix = "* " + name + " "
		s.prefix = nameStyle.Render("* "+name) + " "
		return s
	case e.msg.MsgType == string(event.MsgNotice):
		s.bodyStyle = m.styles.Notice
	}
	s.plainPrefix = name + ": "
	s.prefix = nameStyle.Render(name) + ": "
	return s
}

// sender is the name e is shown under, cut to a third of the width, with the styles of its
// name and body: "you" in ours, else the sender's display name or, without one, user ID.
func (m *Model) sender(e *entry, w int) (name string, nameStyle, bodyStyle lipgloss.Style) {
	st := m.styles
	nameStyle, bodyStyle = st.Other, st.Body
	name = m.names[e.msg.Sender]
	if e.msg.Sender == m.me {
		nameStyle, bodyStyle, name = st.Own, st.OwnBody, "you"
	}
	if name == "" {
		name = string(e.msg.Sender)
	}
	return textutil.Cut(sanitize.Line(name), max(w/3, 4)), nameStyle, bodyStyle
}

// body is e's text as drawn: sanitized plain text, the formatted text when there is some
// (styled), or a media line with the caption under it (media).
func (m *Model) body(e *entry) (body string, styled, media bool) {
	if e.msg.Kind != matrixsvc.KindMessage && !e.msg.Redacted && !e.msg.Encrypted {
		return m.kindBody(e)
	}
	body = sanitize.Text(e.msg.Body, true)
	media = e.msg.Media != nil && !e.msg.Redacted && !e.msg.Encrypted
	if media {
		body = mediaLine(e.msg.Media)
		if caption := strings.TrimSpace(e.msg.Body); caption != "" && caption != e.msg.Media.Name {
			body += "\n" + sanitize.Text(caption, true)
		}
	} else if e.msg.HTML != "" && !e.msg.Redacted && !e.msg.Encrypted {
		if f := m.formatted(e.msg.HTML); strings.TrimSpace(ansi.Strip(f)) != "" {
			body, styled = f, true
		}
	}
	return body, styled, media
}

// bodyLines are the time, the sender and the body, each paragraph wrapped under the body's
// start (indent cells in). When a long name leaves too little room, the body starts on the
// next line.
func (m *Model) bodyLines(e *entry, s shown, ts time.Time, indent, w int) []string {
	timeStyle := m.styles.Time
	if e.marked {
		timeStyle = m.styles.Marked // the message a search led to
	}
	if e.selected {
		timeStyle = m.styles.Selected
	}
	head := timeStyle.Render(ts.Format("15:04")) + " " + s.prefix
	headW := timeWidth + lipgloss.Width(s.plainPrefix)
	pad := strings.Repeat(" ", indent)
	var out []string
	for p, para := range strings.Split(s.body, "\n") {
		first, rest := w-indent, w-indent
		lead := pad
		if p == 0 {
			lead = head
			first = w - headW
			if first < 8 { // a long name: the body starts on the next line
				out = append(out, textutil.Cut(head, w))
				lead, first = pad, w-indent
			}
		}
		for j, l := range wrapHanging(para, first, rest) {
			if !s.styled {
				l = s.bodyStyle.Render(l)
			}
			if j == 0 {
				out = append(out, lead+l)
			} else {
				out = append(out, pad+l)
			}
		}
	}
	return out
}

// withMarks puts the marks about a message after its lines: edited, and the warnings about
// where it came from.
func (m *Model) withMarks(out []string, e *entry, pad string, w int) []string {
	st := m.styles
	if e.msg.Edited && !e.msg.Redacted {
		out = withMark(out, st.Notice.Render("(edited)"), pad, w)
	}
	if e.msg.Trust != "" {
		// A warning about the sending device: short, and on the message it is about.
		warn := textutil.Cut("⚠ "+sanitize.Line(e.msg.Trust), max(w-len(pad), 1))
		out = withMark(out, st.Trust.Render(warn), pad, w)
	}
	if e.msg.Unauthenticated && !e.msg.Redacted {
		// Its key came from the key backup or another device, not from the sender's: nothing
		// proves who wrote it (Element: "authenticity cannot be guaranteed on this device").
		warn := textutil.Cut("⚠ authenticity not guaranteed", max(w-len(pad), 1))
		out = withMark(out, st.Trust.Render(warn), pad, w)
	}
	if e.msg.NotEncrypted {
		// Plain text in an encrypted DM: the server, or anyone on the way, may have written it.
		out = withMark(out, st.Trust.Render("⚠ not encrypted"), pad, w)
	}
	return out
}

// noteLines draws one of duet's own warning lines (someone else came into the 1:1, a new
// device, a refused encryption change): its time, then the warning, wrapped under itself. text
// is sanitized already; the style goes on after.
func (m *Model) noteLines(e *entry, text string, w int) []string {
	st := m.styles
	timeStyle := st.Time
	if e.selected {
		timeStyle = st.Selected
	}
	indent := timeWidth
	if w < 24 {
		indent = 0
	}
	ts := e.msg.Timestamp.In(m.now().Location())
	var out []string
	for j, l := range wrapHanging(text, w-timeWidth, w-indent) {
		if j == 0 {
			out = append(out, timeStyle.Render(ts.Format("15:04"))+" "+st.Trust.Render(l))
		} else {
			out = append(out, strings.Repeat(" ", indent)+st.Trust.Render(l))
		}
	}
	return out
}

// replyLine is the line above a reply quoting what it answers: the message as it is now when
// it is loaded, else as the store had it.
func (m *Model) replyLine(e *entry, pad string, w int) string {
	who, what := m.quote(e.msg.ReplyTo, e.msg.Reply)
	text := "↳ " + what
	if who != "" {
		text = "↳ " + who + ": " + what
	}
	return pad + m.styles.Reply.Render(textutil.Cut(text, max(w-len(pad), 1)))
}

// quote is who wrote the message evt and what it says on one line, sanitized: as it is now
// when it is loaded, else q (as the store had it), else "an earlier message" by nobody known.
func (m *Model) quote(evt id.EventID, q *matrixsvc.Quote) (who, what string) {
	what = "an earlier message"
	if orig := m.byEvent[evt]; orig != nil {
		q = &matrixsvc.Quote{Sender: orig.msg.Sender, Body: matrixsvc.PlainText(orig.msg.Body, orig.msg.HTML), Redacted: orig.msg.Redacted,
			NotEncrypted: orig.msg.NotEncrypted}
		if orig.msg.Encrypted {
			q.Body = "🔒 a message not decrypted"
		}
	}
	if q == nil {
		return "", what
	}
	who = m.names[q.Sender]
	if q.Sender == m.me {
		who = "you"
	}
	if who == "" {
		who = string(q.Sender)
	}
	what = strings.Join(strings.Fields(sanitize.Line(q.Body)), " ")
	if q.Redacted {
		what = "message deleted"
	} else if q.NotEncrypted {
		what = "⚠ not encrypted: " + what // the quoted text is as little authenticated as its message
	}
	return sanitize.Line(who), what
}

// reactionLines draws a message's reactions under it: each key with who reacted when they are
// few, else how many; ours stand out. They wrap at the width.
func (m *Model) reactionLines(rs []matrixsvc.Reaction, pad string, w int) []string {
	var out []string
	line, lineW := pad, len(pad)
	for _, r := range rs {
		names := make([]string, 0, len(r.Senders))
		for _, u := range r.Senders {
			n := m.names[u]
			if u == m.me {
				n = "you"
			}
			if n == "" {
				n = string(u)
			}
			names = append(names, n)
		}
		label := sanitize.Line(r.Key)
		if len(names) <= 3 {
			label += " " + sanitize.Line(strings.Join(names, ", "))
		} else {
			label += fmt.Sprintf(" %d", len(names))
		}
		style := m.styles.Reaction
		if r.Mine != "" {
			style = m.styles.ReactionMine
		}
		if r.NotEncrypted { // came in plain text in an encrypted DM: anyone could have made it up
			label, style = "⚠ "+label+" (not encrypted)", m.styles.Trust
		}
		label = textutil.Cut(label, max(w-len(pad), 1))
		lw := lipgloss.Width(label)
		if lineW > len(pad) && lineW+2+lw > w {
			out = append(out, line)
			line, lineW = pad, len(pad)
		}
		if lineW > len(pad) {
			line += "  "
			lineW += 2
		}
		line += style.Render(label)
		lineW += lw
	}
	return append(out, line)
}

// undecryptable is the placeholder of a message this device cannot read (yet), with why.
func undecryptable(why string) string {
	if why = strings.TrimSpace(sanitize.Line(why)); why != "" {
		return "🔒 unable to decrypt (" + why + ")"
	}
	return "🔒 unable to decrypt"
}

// withMark puts a short styled mark after the last line when it fits there, else on a line of
// its own.
func withMark(out []string, mark, pad string, w int) []string {
	last := out[len(out)-1]
	if lipgloss.Width(last)+1+lipgloss.Width(mark) <= w {
		out[len(out)-1] = last + " " + mark
		return out
	}
	return append(out, pad+mark)
}

func (m *Model) withState(out []string, e *entry, pad string, w int) []string {
	st := m.styles
	mark := ""
	switch e.state {
	case Queued, Sending:
		mark = st.Sending.Render("sending…")
		if e.state == Queued && e.err != "" {
			// Waiting for the server to come back: the outbox keeps it and sends it later.
			out = append(out, pad+st.Sending.Render(textutil.Cut("⋯ "+sanitize.Line(e.err), max(w-len(pad), 1))))
			return out
		}
	case Sent:
		mark = st.Sent.Render("✓ sent")
		if e.seen {
			mark = st.Sent.Render("✓ seen")
		}
	case Failed:
		msg := "✗ failed"
		if e.err != "" {
			msg += ": " + sanitize.Line(e.err)
		}
		msg = textutil.Cut(msg, max(w-len(pad), 1))
		retry := fmt.Sprintf("  %s to retry", m.keys.Retry.Help().Key)
		out = append(out, pad+st.Failed.Render(msg))
		if len(pad)+len(retry) <= w {
			out = append(out, pad+st.Failed.Render(strings.TrimSpace(retry)))
		}
		return out
	default:
		if !e.seen {
			return out
		}
		mark = st.Sent.Render("✓ seen")
	}
	return withMark(out, mark, pad, w)
}

// unreadLine is the line above the first message not read when the conversation was opened.
func (m *Model) unreadLine(w int) string {
	label := " new messages "
	if lipgloss.Width(label)+2 > w {
		return m.styles.NewBelow.Render(textutil.Cut("new", w))
	}
	side := max((w-lipgloss.Width(label))/2, 0)
	return m.styles.Unread.Render(strings.Repeat("─", side) + label + strings.Repeat("─", w-side-lipgloss.Width(label)))
}

func (m *Model) dayLine(label string, w int) string {
	label = " " + label + " "
	side := (w - lipgloss.Width(label)) / 2
	if side < 1 {
		return m.styles.Day.Render(textutil.Cut(strings.TrimSpace(label), w))
	}
	return m.styles.Day.Render(strings.Repeat("─", side) + label + strings.Repeat("─", w-side-lipgloss.Width(label)))
}

// wrapHanging word-wraps plain text with the first line first cells wide and the rest rest
// cells wide. Empty text is one empty line.
func wrapHanging(s string, first, rest int) []string {
	first, rest = max(first, 1), max(rest, 1)
	if lipgloss.Width(s) <= first {
		return []string{s}
	}
	head := strings.SplitN(ansi.Wrap(s, first, ""), "\n", 2)[0]
	cut := len(head)
	if head == "" || !strings.HasPrefix(s, head) || lipgloss.Width(head) > first {
		// ansi.Wrap drops leading spaces before a long word, and keeps them uncounted before
		// one that fits: the first line is cut by cells instead. (Not with ansi.Truncate: it
		// keeps the escape sequences after the cut, so what it returns is no prefix of s.)
		cut = prefixWithin(s, first)
		head = s[:cut]
		if strings.Contains(head, "\x1b[") {
			head += "\x1b[0m" // a style cut off here ends with the line
		}
	}
	tail := strings.TrimLeft(s[cut:], " ")
	if tail == "" {
		return []string{head}
	}
	return append([]string{head}, wrap(tail, rest)...)
}

// prefixWithin is the length in bytes of the longest prefix of s at most w cells wide, cut
// between whole characters (and escape sequences).
func prefixWithin(s string, w int) int {
	var state byte
	n, cells := 0, 0
	for n < len(s) {
		_, width, size, next := ansi.DecodeSequence(s[n:], state, nil)
		if size <= 0 || cells+width > w {
			break
		}
		cells += width
		n += size
		state = next
	}
	return n
}

// wrap word-wraps plain text at w cells, breaking what ansi.Wrap leaves wider (runs of
// spaces); a paragraph has no empty lines.
func wrap(s string, w int) []string {
	var out []string
	for _, l := range strings.Split(ansi.Wrap(s, w, ""), "\n") {
		switch {
		case l == "":
		case lipgloss.Width(l) > w:
			out = append(out, strings.Split(ansi.Hardwrap(l, w, true), "\n")...)
		default:
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		out = []string{""}
	}
	return out
}
