package ui

import (
	"github.com/charmbracelet/bubbles/key"

	"duet/ui/keys"
)

// focusedHelp is the help of the focused component first, then the global keys: help
// delegates to the child that has the keyboard.
func (m Model) focusedHelp() keys.Help {
	g := m.keys.Global
	conv := m.keys.Conversation
	switch m.focus {
	case focusComposer:
		return keys.Help{
			Short: append(m.keys.Composer.ShortHelp(), conv.PageUp, g.Back),
			Full: append(append(m.keys.Composer.FullHelp(), conv.FullHelp()...),
				[]key.Binding{g.Switch, g.Back, g.Quit}),
		}
	case focusPrompt:
		return keys.Help{
			Short: []key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "check")), g.Back},
			Full:  [][]key.Binding{{g.Back, g.Quit}},
		}
	}
	c := m.keys.Contacts
	return keys.Help{
		Short: append(c.ShortHelp(), g.Help),
		Full: append(append(c.FullHelp(), []key.Binding{g.Switch, g.Help, g.Quit}),
			conv.FullHelp()...),
	}
}
