package ui

import (
	"charm.land/bubbles/v2/key"

	"duet/ui/keys"
)

// focusedHelp is the help of the focused component first, then the global keys: help
// delegates to the child that has the keyboard.
func (m *Model) focusedHelp() keys.Help {
	g := m.keys.Global
	conv := m.keys.Conversation
	if m.security.Active() {
		short := m.security.ShortHelp()
		return keys.Help{Short: short, Full: [][]key.Binding{short, {g.Quit}}}
	}
	if m.finder.Active() {
		return keys.Help{Short: m.finder.ShortHelp(), Full: append(m.finder.FullHelp(), []key.Binding{g.Switcher, g.Quit})}
	}
	if m.search.Active() {
		return keys.Help{Short: m.search.ShortHelp(), Full: append(m.search.FullHelp(), []key.Binding{g.Quit})}
	}
	find := []key.Binding{g.Switcher, g.Search}
	switch m.focus {
	case focusComposer:
		return keys.Help{
			Short: append(m.keys.Composer.ShortHelp(), conv.PageUp, g.Back),
			Full: append(append(append(append(m.keys.Composer.FullHelp(), conv.FullHelp()...),
				[]key.Binding{g.Switch, g.Back, g.Quit}, find), m.keys.Search.FullHelp()...), m.keys.Pick.FullHelp()...),
		}
	case focusPick:
		pk := m.keys.Pick
		if c := m.openChat(); c != nil && c.Reacting() {
			pick := key.NewBinding(key.WithKeys("1"), key.WithHelp("1-6", "quick reaction"))
			send := key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "react"))
			back := key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel"))
			return keys.Help{Short: []key.Binding{pick, send, back}, Full: [][]key.Binding{{pick, send, back, g.Quit}}}
		}
		short := pk.ShortHelp()
		if c := m.openChat(); c != nil && c.PickedPoll() {
			short = []key.Binding{pk.Vote, pk.EndPoll, pk.Reply, pk.React, pk.Done}
		}
		return keys.Help{Short: short, Full: append(pk.FullHelp(), []key.Binding{g.Help, g.Quit})}
	case focusPrompt:
		return keys.Help{
			Short: []key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "check")), g.Back},
			Full:  [][]key.Binding{{g.Back, g.Quit}},
		}
	}
	c := m.keys.Contacts
	full := append(c.FullHelp(), []key.Binding{g.Switch, g.Help, g.Quit}, find)
	full = append(full, conv.FullHelp()...)
	full = append(full, []key.Binding{g.Verify, g.VerifyOwn, g.Recovery})
	full = append(full, m.keys.Security.FullHelp()...)
	short := c.ShortHelp()
	if it, ok := m.contacts.Selected(); ok {
		// What can be done with the selected row comes first.
		switch {
		case it.Request:
			short = []key.Binding{c.Accept, c.Decline, c.Block}
		case it.Pending:
			short = []key.Binding{c.Accept, c.Decline, c.Open}
		case it.Blocked:
			short = []key.Binding{c.Unblock, c.Open}
		}
	}
	return keys.Help{Short: append(short, g.Help), Full: full}
}
