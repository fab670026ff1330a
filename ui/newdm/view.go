package newdm

import (
	"fmt"
	"strings"

	"duet/internal/sanitize"

	"duet/ui/internal/textutil"
)

// View draws the prompt, for the right pane: a title, the field, then what happens (checking,
// why the ID is no good, or the keys).
func (p *Model) View() string {
	st := p.opts.Styles
	lines := []string{
		" " + st.Title.Render("New conversation"),
		"",
		" " + p.input.View(),
		"",
	}
	if len(p.opts.Accounts) > 1 {
		a := p.opts.Accounts[p.Account(p.input.Value())]
		from := textutil.Cut(fmt.Sprintf("From: %s (%s)", sanitize.Line(string(a.Me)), sanitize.Line(a.Tag)), max(p.width-2, 1))
		lines = append(lines[:3], " "+st.Label.Render(from), "", st.Muted.Render(" tab: another account"), "")
	}
	switch {
	case p.busy:
		lines = append(lines, st.Muted.Render(" checking…"))
	case p.err != "":
		for _, l := range strings.Split(textutil.Wrap(p.err, p.width-2), "\n") {
			lines = append(lines, " "+st.Error.Render(l))
		}
	default:
		lines = append(lines, st.Muted.Render(" enter: check and open · esc: cancel"))
	}
	return strings.Join(lines, "\n")
}
