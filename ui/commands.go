package ui

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/ui/contacts"
)

var commandWord = regexp.MustCompile(`^/[A-Za-z]+$`)

// command runs a composer command (/dm, /me, /upload, /poll, /verify, /recovery, /help, /quit). handled is
// false for text to send. "//text" sends "/text".
func (m *Model) command(text string) (cmd tea.Cmd, handled bool) {
	if strings.HasPrefix(text, "//") {
		return m.send(text[1:], false), true
	}
	word, arg, _ := strings.Cut(text, " ")
	if nl := strings.IndexByte(word, '\n'); nl >= 0 {
		word, arg = word[:nl], text[nl+1:]
	}
	if !commandWord.MatchString(word) {
		return nil, false
	}
	switch strings.ToLower(word) {
	case "/dm":
		return m.dmTo(arg), true
	case "/me":
		if strings.TrimSpace(arg) == "" {
			m.status.SetError("/me needs some text: /me waves")
			return nil, true
		}
		return m.send(arg, true), true
	case "/verify":
		switch arg = strings.TrimSpace(arg); {
		case arg == "":
			return m.verifyOpen(), true
		case strings.EqualFold(arg, "me") || id.UserID(arg) == m.cur().me:
			a := m.cur()
			return m.sec(m.useSecurity(a).Verify(a.me, true)), true
		}
		m.status.SetError("/verify verifies the person of this conversation; /verify me, this device with your other ones")
		m.composer.SetValue(text)
		return nil, true
	case "/upload":
		return m.upload(arg), true
	case "/poll":
		return m.poll(text, arg), true
	case "/recovery":
		return m.sec(m.useSecurity(m.cur()).StartRecovery()), true
	case "/help":
		m.showHelp = true
		return nil, true
	case "/quit":
		return tea.Quit, true
	}
	m.status.SetError("unknown command " + word + ": try /dm, /me, /upload, /poll, /verify, /recovery, /help, /quit (start with // to send a /)")
	m.composer.SetValue(text)
	return nil, true
}

// verifyOpen verifies the person of the open conversation.
func (m *Model) verifyOpen() tea.Cmd {
	c := m.openChat()
	switch {
	case c == nil:
		m.status.SetError("open the conversation with the person to verify first")
		return nil
	case c.Item().Kind != contacts.KindContact:
		m.status.SetError("verification is with one person: open their DM")
		return nil
	}
	return m.sec(m.useSecurity(m.acct(c.Item().Acct)).Verify(c.Item().UserID, false))
}

// pollUsage is what /poll alone, or a poll that cannot be made, says.
const pollUsage = "/poll Question | answer | answer …: a poll everyone sees the results of, one answer each"

// poll starts a poll in the open conversation (/poll Question | answer | answer): results
// shown as votes come, one answer per person. A poll that cannot be made stays in the composer.
func (m *Model) poll(text, arg string) tea.Cmd {
	parts := strings.Split(arg, "|")
	for i := range parts {
		parts[i] = strings.Join(strings.Fields(parts[i]), " ")
	}
	parts = slices.DeleteFunc(parts, func(s string) bool { return s == "" })
	c := m.openChat()
	switch {
	case strings.TrimSpace(arg) == "":
		m.status.SetInfo(pollUsage)
		return nil
	case c == nil:
		m.status.SetError("open a conversation first")
	case len(parts) < 3:
		m.status.SetError(fmt.Sprintf("a poll needs a question and at least 2 answers, each after a |: %s", pollUsage))
	case len(parts) > 21:
		m.status.SetError("a poll has at most 20 answers")
	default:
		return c.SendPoll(parts[0], parts[1:])
	}
	m.composer.SetValue(text)
	return nil
}
