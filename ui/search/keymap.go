package search

import "charm.land/bubbles/v2/key"

// KeyMap is the dialog's keys. While it is open it has the keyboard, and every key not bound
// here edits the query, so these are keys that do not type text.
type KeyMap struct {
	Up       key.Binding // the previous result
	Down     key.Binding // the next result
	PageUp   key.Binding
	PageDown key.Binding
	Scope    key.Binding // the person's messages <-> all conversations
	Open     key.Binding // search now, or open the selected result
	Close    key.Binding
}

// DefaultKeyMap is the default dialog keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "ctrl+p"), key.WithHelp("↑/ctrl+p", "previous result")),
		Down:     key.NewBinding(key.WithKeys("down", "ctrl+n"), key.WithHelp("↓/ctrl+n", "next result")),
		PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdown", "page down")),
		Scope:    key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "person/everywhere")),
		Open:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "search, open result")),
		Close:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close search")),
	}
}

// FullHelp is the help screen's group for the dialog.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown}, {k.Open, k.Scope, k.Close}}
}

// ShortHelp is the status bar's hint while the dialog is open: what enter does now, and tab
// only when there is a person to toggle to.
func (m *Model) ShortHelp() []key.Binding {
	k := m.keys
	open := k.Open
	if m.canOpen() {
		open.SetHelp(k.Open.Help().Key, "open")
	} else {
		open.SetHelp(k.Open.Help().Key, "search")
	}
	out := []key.Binding{open}
	if m.scope.User != "" {
		scope := k.Scope
		if m.everywhere {
			scope.SetHelp(k.Scope.Help().Key, m.who+"'s messages")
		} else {
			scope.SetHelp(k.Scope.Help().Key, "all conversations")
		}
		out = append(out, scope)
	}
	if len(m.rows) > 1 {
		out = append(out, k.Down)
	}
	return append(out, k.Close)
}

// FullHelp is the dialog's keys, for a help view of the dialog alone.
func (m *Model) FullHelp() [][]key.Binding { return m.keys.FullHelp() }
