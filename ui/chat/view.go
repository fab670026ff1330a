package chat

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"

	"duet/internal/sanitize"
	"duet/ui/contacts"
	"duet/ui/internal/textutil"
)

// HeaderLines is how many lines View draws above the timeline: the header and a rule.
const HeaderLines = 2

// View is the conversation in width w: its header and a rule, the timeline, and the line
// above the composer (a reaction typed, an edit, a reply, who types, else a rule). active
// says the composer has the keyboard (the name is drawn brighter).
func (c *Model) View(w int, active bool) []string {
	st := c.opts.Styles
	rule := st.Separator.Render(strings.Repeat("─", w))
	out := []string{textutil.Fit(c.header(w, active), w), rule}
	if c.thread != "" {
		out[1] = c.labelRule(w, " 💬 thread: its first message and the replies · esc goes back to the conversation ",
			" 💬 thread · esc goes back to the conversation ", " 💬 thread · esc back ", " thread ")
	}
	out = append(out, strings.Split(c.conv.View(), "\n")...)
	return append(out, c.composerRule(w, rule))
}

// composerRule is the line between the timeline and the composer.
func (c *Model) composerRule(w int, rule string) string {
	switch {
	case c.react != nil:
		return c.reactRule(w)
	case c.editing.EventID != "":
		return c.labelRule(w, " editing your message · enter saves, empty deletes · esc cancels ",
			" editing your message · esc cancels ", " editing · esc cancels ")
	case c.replyTo.EventID != "":
		who := "you"
		if c.replyTo.Sender != c.opts.Me {
			who = string(c.replyTo.Sender)
			if c.replyTo.Sender == c.item.UserID && c.item.Name != "" {
				who = c.item.Name
			}
		}
		who = sanitize.Line(who)
		return c.labelRule(w, " ↳ replying to "+who+": "+textutil.Cut(c.replyOf, max(w/3, 8))+" · esc cancels ",
			" ↳ replying to "+who+" · esc cancels ", " ↳ reply · esc cancels ")
	case len(c.typing) > 0:
		return c.typingRule(w)
	}
	return rule
}

// labelRule is the line above the composer with a label in its middle: the first of labels
// that fits the width.
func (c *Model) labelRule(w int, labels ...string) string {
	st := c.opts.Styles
	var label string
	for _, label = range labels {
		if lipgloss.Width(label)+4 <= w {
			break
		}
	}
	label = textutil.Cut(label, max(w, 1))
	side := max((w-lipgloss.Width(label))/2, 0)
	return textutil.Fit(st.Separator.Render(strings.Repeat("─", side))+st.Warning.Render(label)+
		st.Separator.Render(strings.Repeat("─", max(w-side-lipgloss.Width(label), 0))), w)
}

// reactRule is the line above the composer while a reaction is typed: the input, and the
// quick reactions by number.
func (c *Model) reactRule(w int) string {
	st := c.opts.Styles
	var quick strings.Builder
	for i, r := range quickReactions {
		fmt.Fprintf(&quick, " %d %s", i+1, r)
	}
	line := st.Warning.Render(" react: ") + c.react.input.View() + st.Muted.Render(" ·"+quick.String()+" · esc ")
	return textutil.Fit(line, w)
}

// typingRule is the line above the composer while the other person types: "Bob is typing…".
func (c *Model) typingRule(w int) string {
	st := c.opts.Styles
	names := make([]string, 0, len(c.typing))
	for _, u := range c.typing {
		name := string(u)
		if u == c.item.UserID && c.item.Name != "" {
			name = c.item.Name
		}
		names = append(names, sanitize.Line(name))
	}
	label := strings.Join(names, ", ") + " is typing… "
	if len(names) > 1 {
		label = strings.Join(names, ", ") + " are typing… "
	}
	label = textutil.Cut(label, max(w-4, 1))
	return textutil.Fit(st.Separator.Render("── ")+st.Muted.Render(label)+
		st.Separator.Render(strings.Repeat("─", max(w-3-lipgloss.Width(label), 0))), w)
}

// header is the conversation's one line: name, user ID, encryption and trust. When it does
// not fit, the user ID goes first, so that what the room's safety is stays in view.
func (c *Model) header(w int, active bool) string {
	st := c.opts.Styles
	nameStyle := st.Header
	if active {
		nameStyle = st.HeaderOn
	}
	it := c.item
	name := nameStyle.Render(textutil.Cut(it.Name, max(w/2, 8)))
	idPart := ""
	switch it.Kind {
	case contacts.KindGroup:
		idPart = st.HeaderID.Render(fmt.Sprintf("group · %d members", it.Members))
	default:
		if id := textutil.Cut(sanitize.Line(string(it.UserID)), max(w/2, 8)); id != "" && id != it.Name {
			idPart = st.HeaderID.Render(id)
		}
	}
	if it.Tag != "" {
		// Several accounts: whose conversation this is stays in view, next to the name.
		name += st.Muted.Render(" (" + textutil.Cut(it.Tag, 12) + ")")
	}
	state, trust := c.headerState(), c.trustState()
	sep := st.Muted.Render(" · ")
	join := func(parts ...string) string {
		var keep []string
		for _, p := range parts {
			if p != "" {
				keep = append(keep, p)
			}
		}
		return " " + strings.Join(keep, sep)
	}
	// Shorter and shorter until it fits: without the user ID, then without "encrypted" when
	// the trust says as much.
	candidates := []string{join(append(append([]string{name, idPart}, state...), trust...)...)}
	if len(state)+len(trust) > 0 {
		candidates = append(candidates, join(append(append([]string{name}, state...), trust...)...))
	}
	if len(trust) > 0 {
		candidates = append(candidates, join(append([]string{name}, trust...)...))
	}
	for _, line := range candidates {
		if lipgloss.Width(line) <= w {
			return line
		}
	}
	return candidates[len(candidates)-1]
}

// headerState is the conversation's state: invite, opening, encrypted or not.
func (c *Model) headerState() []string {
	st := c.opts.Styles
	it := c.item
	var parts []string
	if it.Blocked {
		parts = append(parts, st.Warning.Render(fmt.Sprintf("blocked: %s on them in the list unblocks", c.opts.Keys.Contacts.Unblock.Help().Key)))
	}
	if it.Note != "" {
		parts = append(parts, st.Warning.Render("⚠ "+it.Note))
	}
	switch {
	case it.Request:
		parts = append(parts, st.Contacts.Pending.Render("request from someone you share no room with"))
	case it.Pending:
		parts = append(parts, st.Contacts.Pending.Render("invite"))
	case c.room == "" && c.resolving:
		parts = append(parts, st.Muted.Render("opening…"))
	case c.room == "":
		parts = append(parts, st.Muted.Render("new conversation"))
	case !c.encKnown:
	case c.encrypted:
		parts = append(parts, st.Encrypted.Render("encrypted"))
	default:
		parts = append(parts, st.Plain.Render("not encrypted"))
	}
	return parts
}

// trustState says whether the person of an encrypted DM is verified, and warns about their
// devices that are not.
func (c *Model) trustState() []string {
	if it := c.item; it.Kind != contacts.KindContact || !c.trustKnown || it.Pending || c.room == "" || !c.encKnown || !c.encrypted {
		return nil
	}
	st, t := c.opts.Styles, c.trust
	if !t.Verified {
		return []string{st.Unverified.Render("not verified")}
	}
	parts := []string{st.Verified.Render("verified")}
	switch n := len(t.Unverified); {
	case n == 1:
		parts = append(parts, st.Warning.Render("⚠ new device: "+sanitize.Line(string(t.Unverified[0]))))
	case n > 1:
		ids := make([]string, n)
		for i, d := range t.Unverified {
			ids[i] = sanitize.Line(string(d))
		}
		parts = append(parts, st.Warning.Render(fmt.Sprintf("⚠ %d new devices: %s", n, strings.Join(ids, ", "))))
	}
	return parts
}
