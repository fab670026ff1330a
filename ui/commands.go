package ui

import (
	"regexp"
	"strings"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/ui/contacts"
)

var commandWord = regexp.MustCompile(`^/[A-Za-z]+$`)

// command runs a composer command (/dm, /me, /upload, /verify, /recovery, /help, /quit). handled is
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
		case strings.EqualFold(arg, "me") || id.UserID(arg) == m.me:
			return m.security.Verify(m.me, true), true
		}
		m.status.SetError("/verify verifies the person of this conversation; /verify me, this device with your other ones")
		m.composer.SetValue(text)
		return nil, true
	case "/upload":
		return m.upload(arg), true
	case "/recovery":
		return m.security.StartRecovery(), true
	case "/help":
		m.showHelp = true
		return nil, true
	case "/quit":
		return tea.Quit, true
	}
	m.status.SetError("unknown command " + word + ": try /dm, /me, /upload, /verify, /recovery, /help, /quit (start with // to send a /)")
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
	return m.security.Verify(c.Item().UserID, false)
}
