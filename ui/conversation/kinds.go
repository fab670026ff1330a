package conversation

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"maunium.net/go/mautrix/id"

	"duet/internal/sanitize"
	"duet/matrixsvc"
	"duet/ui/internal/textutil"
)

// kindBody is the body of a line that is not an m.room.message: a sticker (its text, and its
// picture like an image's), a poll, a call, a place, or an unknown type's fallback text
// marked with its type. Everything from the sender is sanitized here.
func (m *Model) kindBody(e *entry) (body string, styled, media bool) {
	msg := &e.msg
	switch msg.Kind {
	case matrixsvc.KindSticker:
		text := strings.TrimSpace(sanitize.Line(msg.Body))
		if text == "" {
			text = "a sticker"
		}
		return "🏷 Sticker: " + text, false, msg.Media != nil
	case matrixsvc.KindPoll:
		if msg.Poll != nil {
			return m.pollBody(msg), false, false
		}
	case matrixsvc.KindLocation, matrixsvc.KindLiveLocation:
		return locationBody(msg), false, false
	case matrixsvc.KindOther:
		// The type is the sender's word too, and may be long: cut, as a label should be.
		return "[" + textutil.Cut(sanitize.Line(msg.OtherType), maxTypeLabel) + "] " + sanitize.Text(msg.Body, true), false, false
	case matrixsvc.KindPollEnd:
		return "📊 " + sanitize.Line(pollEndText(msg, m.byEvent)), false, false
	case matrixsvc.KindCallInvite, matrixsvc.KindCallHangup:
		return "📞 " + sanitize.Line(msg.KindText()), false, false
	}
	return sanitize.Line(msg.KindText()), false, false
}

// pollEndText says which poll ended, when it is loaded; an end from someone other than the
// poll's creator ends nothing (the count ignores it), and says so.
func pollEndText(msg *matrixsvc.Message, byEvent map[id.EventID]*entry) string {
	p := byEvent[msg.Rel]
	switch {
	case p == nil || p.msg.Poll == nil:
		return "Ended a poll"
	case p.msg.Sender != msg.Sender:
		return "Tried to end the poll: " + p.msg.Poll.Question + " (only whoever made it can)"
	}
	return "Ended the poll: " + p.msg.Poll.Question
}

// pollBody is a poll: its question, then each answer numbered (the number votes for it), with
// its count and a bar while the results may be shown, our own votes marked.
func (m *Model) pollBody(msg *matrixsvc.Message) string {
	p := msg.Poll
	var b strings.Builder
	b.WriteString("📊 " + sanitize.Line(p.Question))
	switch {
	case p.Ended:
		b.WriteString("  (ended)")
	case !p.Disclosed:
		b.WriteString("  (results when it ends)")
	}
	visible := p.ResultsVisible() && p.Tallied
	texts := make([]string, len(p.Answers))
	col := 0 // where the bars start: after the longest answer up to maxAnswerCol, so they line up
	for i, a := range p.Answers {
		texts[i] = fmt.Sprintf("%d. %s", i+1, sanitize.Line(a.Text))
		if w := ansi.StringWidth(texts[i]); w <= maxAnswerCol {
			col = max(col, w)
		}
	}
	for i, a := range p.Answers {
		mark := "○"
		for _, mine := range p.Mine {
			if mine == a.ID {
				mark = "●"
			}
		}
		b.WriteString("\n" + mark + " " + texts[i])
		if visible {
			pad := max(col-ansi.StringWidth(texts[i]), 0)
			fmt.Fprintf(&b, "%s  %s %d", strings.Repeat(" ", pad), bar(a.Count, p.Voters), a.Count)
			if p.Disclosed && len(a.Voters) > 0 && len(a.Voters) <= 3 {
				b.WriteString(" · " + m.voterNames(a.Voters)) // who, where the poll discloses it
			}
		}
	}
	if visible {
		fmt.Fprintf(&b, "\n%d %s", p.Voters, "vote"+plural(p.Voters))
	}
	return b.String()
}

// voterNames names the people who picked an answer: "you", else their display names.
func (m *Model) voterNames(users []id.UserID) string {
	names := make([]string, len(users))
	for i, u := range users {
		switch n := m.names[u]; {
		case u == m.me:
			names[i] = "you"
		case n != "":
			names[i] = sanitize.Line(n)
		default:
			names[i] = sanitize.Line(string(u))
		}
	}
	return strings.Join(names, ", ")
}

// maxTypeLabel bounds the label of an unknown event type, in cells.
const maxTypeLabel = 48

// maxAnswerCol bounds the column the bars line up at: a longer answer has its bar after it.
const maxAnswerCol = 32

// bar is a count as a short bar of eighths, out of total.
func bar(n, total int) string {
	const width = 8
	if total <= 0 {
		return strings.Repeat("░", width)
	}
	full := n * width / total
	return strings.Repeat("█", full) + strings.Repeat("░", width-full)
}

// locationBody is a shared place: what the sender said of it, the point, and that o opens it
// on a map.
func locationBody(msg *matrixsvc.Message) string {
	text := "📍 " + sanitize.Line(msg.KindText())
	l := msg.Location
	if l == nil {
		return text
	}
	if l.Live && !l.Until.IsZero() {
		text += ", until " + l.Until.Local().Format("15:04")
	}
	if lat, lon, ok := l.LatLon(); ok {
		text += fmt.Sprintf("\n%.5f, %.5f · o opens the map", lat, lon)
	}
	return text
}
