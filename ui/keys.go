package ui

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"duet/ui/chat"
)

// handleKey routes a key: to the question in the status bar, the help screen, a dialog over
// the right pane, the picked message, the timeline, then the focused pane.
func (m *Model) handleKey(k tea.KeyPressMsg) tea.Cmd {
	m.beforeKey(k)
	if utf8.RuneCountInString(k.Text) > 1 && m.security.Active() && !m.security.TakesText() {
		// Typed fast while a dialog popped up: meant for the composer, not answers to it.
		return nil
	}
	if utf8.RuneCountInString(k.Text) > 1 && m.takesText() {
		return m.typedFast(k)
	}
	switch {
	case key.Matches(k, m.keys.Global.Quit):
		return tea.Quit
	case m.confirm != nil:
		return m.answerConfirm(k)
	case m.showHelp:
		m.showHelp = false
		return nil
	}
	if cmd, done := m.overlayKey(k); done {
		return cmd
	}
	switch {
	case key.Matches(k, m.keys.Global.Search):
		return m.openSearch()
	case key.Matches(k, m.keys.Global.Switcher):
		return m.openSwitcher()
	case m.focus == focusPick:
		return m.pickKey(k)
	case m.focus == focusPrompt:
		return m.promptKey(k)
	case key.Matches(k, m.keys.Conversation.Pick):
		return m.startPick()
	}
	if conv := m.keys.Conversation; key.Matches(k, conv.PageUp, conv.PageDown, conv.Bottom, conv.Retry) {
		if c := m.openChat(); c != nil {
			return c.HandleKey(k)
		}
	}
	if m.focus == focusComposer {
		return m.composerKey(k)
	}
	return m.contactsKey(k)
}

// handlePaste routes a paste (bracketed: it comes whole, apart from the keys) as a key would
// go: it answers no question in the status bar, closes the help screen, and is text for what
// has the keyboard.
func (m *Model) handlePaste(p tea.PasteMsg) tea.Cmd {
	m.beforeInput()
	switch {
	case m.confirm != nil:
		m.confirm = nil
		m.status.Ask("")
		m.status.SetInfo(m.confirmNo)
		return nil
	case m.showHelp:
		m.showHelp = false
		return nil
	}
	return m.forwardToFocused(p)
}

// beforeKey is what any key does first: notices read by now go, esc dismisses the error, and
// while offline a key press retries at once.
func (m *Model) beforeKey(k tea.KeyPressMsg) {
	m.beforeInput()
	if key.Matches(k, m.keys.Global.Back) {
		m.status.ClearError()
	}
}

// beforeInput is what a key or a paste does first: notices read by now go, and while offline
// it retries at once.
func (m *Model) beforeInput() {
	m.status.ClearInfo() // "joined …", "retrying…": read by now; errors stay until replaced or dismissed
	if m.status.Offline() && m.now().Sub(m.lastRetry) > 3*time.Second {
		// At most every 3 s: typing must not hammer a server that is struggling. RetryNow
		// does no I/O.
		m.lastRetry = m.now()
		for _, i := range m.status.OfflineAccounts() {
			m.acct(i).svc.RetryNow()
		}
		m.status.RetryingNow()
	}
}

// keysTold takes in whether the terminal tells keys apart that legacy terminals send alike
// (the kitty keyboard protocol: shift+enter from enter, esc from alt): the help then shows
// shift+enter as the composer's new line, where it is bound.
func (m *Model) keysTold(apart bool) {
	nl := &m.keys.Composer.Newline
	if apart && slices.Contains(nl.Keys(), "shift+enter") {
		nl.SetHelp("shift+enter", nl.Help().Desc)
	}
}

// takesText reports whether what has the keyboard is a text input.
func (m *Model) takesText() bool {
	return m.focus != focusContacts || m.contacts.Filtering() || m.security.TakesText() || m.search.Active() || m.finder.Active()
}

// typedFast hands on several runes in one key one at a time. They are text typed faster than
// the terminal is read, or text an input method composed. Its String() can spell a key
// ("down", "enter", "tab"), which every key binding down to the text input would take for that
// key: a word vanished from the message. One rune at a time, they are only text.
func (m *Model) typedFast(k tea.KeyPressMsg) tea.Cmd {
	cmds := make([]tea.Cmd, 0, len(k.Text))
	for _, r := range k.Text {
		cmds = append(cmds, m.forwardToFocused(tea.KeyPressMsg{Code: r, Text: string(r), Mod: k.Mod}))
	}
	return tea.Batch(cmds...)
}

// overlayKey gives the key to the dialog, the search or the quick switcher when one is open.
func (m *Model) overlayKey(k tea.KeyPressMsg) (tea.Cmd, bool) {
	var cmd tea.Cmd
	switch {
	case m.security.Active():
		cmd = m.sec(m.security.HandleKey(k)) // the dialog has the keyboard; the composer keeps what was typed
	case m.search.Active():
		cmd = m.search.Update(k)
	case m.finder.Active():
		cmd = m.finderKey(k)
	default:
		return nil, false
	}
	return cmd, true
}

// finderKey handles a key in the quick switcher.
func (m *Model) finderKey(k tea.KeyPressMsg) tea.Cmd {
	if key.Matches(k, m.keys.Global.Switcher) { // the same key closes it
		m.finder.Close()
		return nil
	}
	if key.Matches(k, m.keys.Switcher.Choose) {
		// Chosen here and now, not by a message: the keys typed right after enter must find
		// the conversation (and its composer) already open.
		e, ok := m.finder.Selected()
		if !ok {
			return nil
		}
		m.finder.Close()
		return m.chosen(e)
	}
	return m.finder.Update(k)
}

// composerKey handles a key in the composer. The root handles Send itself:
// composer.Model.Update ignores it.
func (m *Model) composerKey(k tea.KeyPressMsg) tea.Cmd {
	g, ck := m.keys.Global, m.keys.Composer
	c := m.openChat()
	switch {
	case c != nil && c.Editing() && key.Matches(k, g.Back):
		c.CancelEdit() // esc leaves the edit, not the composer
		return nil
	case c != nil && c.Replying() && key.Matches(k, g.Back):
		c.CancelReply() // esc drops the reply, not the text
		return nil
	case c != nil && c.Thread() != "" && key.Matches(k, g.Back):
		c.CloseThread() // esc leaves the thread for the conversation, not the composer
		return nil
	case c != nil && c.Editing() && key.Matches(k, ck.Send) && strings.TrimSpace(m.composer.Value()) == "":
		return c.SendEmptiedEdit() // the composer sends nothing empty: an emptied edit is a deletion
	case key.Matches(k, g.Back), key.Matches(k, g.Switch):
		m.setFocus(focusContacts)
		return nil
	case key.Matches(k, ck.EditLast) && m.composer.Value() == "" && c != nil && c.EditLast():
		return nil
	case key.Matches(k, ck.Editor):
		return m.openEditor() // the draft, or the message being edited
	case key.Matches(k, ck.Send):
		// Sent here and now: a key right after enter (a pick, esc) must not change how.
		if text, ok := m.composer.Take(); ok {
			return m.submit(text)
		}
		return nil
	}
	return m.updateComposer(k)
}

// contactsKey handles a key in the contacts list: the global keys that are letters work only
// here, and only while the list is not being filtered.
func (m *Model) contactsKey(k tea.KeyPressMsg) tea.Cmd {
	g := m.keys.Global
	if !m.contacts.Filtering() {
		switch {
		case key.Matches(k, m.keys.Contacts.Quit):
			return tea.Quit
		case key.Matches(k, g.Help):
			m.showHelp = true
			return nil
		case key.Matches(k, g.Switch):
			return m.focusComposer()
		case key.Matches(k, g.Verify):
			return m.verifyOpen()
		case key.Matches(k, g.VerifyOwn):
			a := m.cur()
			return m.sec(m.useSecurity(a).Verify(a.me, true))
		case key.Matches(k, g.Recovery):
			return m.sec(m.useSecurity(m.cur()).StartRecovery())
		}
	}
	if intent := m.contacts.Intent(k); intent != nil {
		return m.handleIntent(intent)
	}
	var cmd tea.Cmd
	cmd = m.contacts.Update(k)
	return cmd
}

// startPick picks the newest message of the open conversation.
func (m *Model) startPick() tea.Cmd {
	if c := m.openChat(); c != nil && c.StartPick() {
		return m.setFocus(focusPick)
	}
	return nil
}

// pickKey hands a key to the open conversation while a message is picked.
func (m *Model) pickKey(k tea.KeyPressMsg) tea.Cmd {
	c := m.openChat()
	if c == nil {
		return m.focusComposer()
	}
	cmd, next := c.PickKey(k)
	switch next {
	case chat.ToComposer:
		c.EndPick()
		return tea.Batch(cmd, m.focusComposer())
	case chat.ShowHelp:
		m.showHelp = true
	}
	return cmd
}
