package switcher

import "charm.land/bubbles/v2/key"

// KeyMap is the switcher's keys. While it is open every other key is typed into the query, so
// none of these may be a printable character.
type KeyMap struct {
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Choose   key.Binding // open the selected entry
	Close    key.Binding
}

// DefaultKeyMap is the default switcher keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "ctrl+p"), key.WithHelp("↑/ctrl+p", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "ctrl+n"), key.WithHelp("↓/ctrl+n", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
		Choose:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Close:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close")),
	}
}

// ShortHelp is the status bar's hint while the switcher is open.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.Choose, k.Close}
}

// FullHelp is the help screen's group for the switcher.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown}, {k.Choose, k.Close}}
}

// ShortHelp is the switcher's keys for the status bar (with FullHelp, the switcher is a
// help.KeyMap the root can delegate to while it is open).
func (m *Model) ShortHelp() []key.Binding { return m.keys.ShortHelp() }

// FullHelp is the switcher's keys for the help screen.
func (m *Model) FullHelp() [][]key.Binding { return m.keys.FullHelp() }
