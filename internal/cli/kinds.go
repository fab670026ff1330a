package cli

import (
	"fmt"
	"strings"

	"duet/internal/sanitize"
	"duet/matrixsvc"
)

// kindText is the body of a line of `messages` for what is not an m.room.message (a sticker, a
// poll, a call, a location, an unknown type), sanitized.
func kindText(m matrixsvc.Message) string {
	switch m.Kind {
	case matrixsvc.KindPoll:
		if m.Poll != nil {
			return pollText(m.Poll)
		}
	case matrixsvc.KindLocation, matrixsvc.KindLiveLocation:
		text := sanitize.Line(m.KindText())
		if l := m.Location; l != nil {
			if l.Live && !l.Until.IsZero() {
				text += ", until " + l.Until.Local().Format("2006-01-02 15:04")
			}
			if l.URI != "" {
				text += "  " + sanitize.Line(l.URI)
			}
			if u := l.MapURL(); u != "" {
				text += "  " + u
			}
		}
		return "[" + strings.ReplaceAll(m.Kind.Name(), "_", " ") + "] " + text
	case matrixsvc.KindOther:
		return "[" + sanitize.Line(m.OtherType) + "] " + sanitize.Text(m.Body, true)
	case matrixsvc.KindPollEnd:
		return "[poll ended] " + sanitize.Text(m.Body, true)
	}
	return sanitize.Line(m.KindText())
}

// pollText is a poll as `messages` shows it: the question, then each answer on a line of its
// own with its count while it may be shown, and whether it ended.
func pollText(p *matrixsvc.Poll) string {
	var b strings.Builder
	b.WriteString("[poll] " + sanitize.Line(p.Question))
	visible := p.ResultsVisible() && p.Tallied
	switch {
	case p.Ended:
		b.WriteString("  (ended)")
	case !p.Disclosed:
		b.WriteString("  (results when it ends)")
	}
	for i, a := range p.Answers {
		fmt.Fprintf(&b, "\n%d. %s", i+1, sanitize.Line(a.Text))
		if visible {
			fmt.Fprintf(&b, "  %d %s", a.Count, plural(a.Count, "vote", "votes"))
		}
		for _, mine := range p.Mine {
			if mine == a.ID {
				b.WriteString("  (your vote)")
			}
		}
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
