package ui

import (
	"regexp"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
)

var commandWord = regexp.MustCompile(`^/[A-Za-z]+$`)

// command runs a composer command (/dm, /me, /help, /quit). handled is false for text to send.
// "//text" sends "/text".
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
	case "/help":
		m.showHelp = true
		return nil, true
	case "/quit":
		return tea.Quit, true
	}
	m.status.SetError("unknown command " + word + ": try /dm, /me, /help, /quit (start with // to send a /)")
	m.composer.SetValue(text)
	return nil, true
}
