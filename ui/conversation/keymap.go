package conversation

import "github.com/charmbracelet/bubbles/key"

// KeyMap is the timeline's keys. They work while the composer has focus, so none of them is a
// printable character.
type KeyMap struct {
	PageUp   key.Binding
	PageDown key.Binding
	Bottom   key.Binding
	Retry    key.Binding
}

// DefaultKeyMap is the default timeline keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+up"), key.WithHelp("pgup", "older")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+down"), key.WithHelp("pgdn", "newer")),
		Bottom:   key.NewBinding(key.WithKeys("ctrl+end"), key.WithHelp("ctrl+end", "newest")),
		Retry:    key.NewBinding(key.WithKeys("ctrl+r"), key.WithHelp("ctrl+r", "retry failed")),
	}
}

// ShortHelp is the status bar's hint line.
func (k KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.PageUp, k.PageDown} }

// FullHelp is the help screen.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.PageUp, k.PageDown, k.Bottom, k.Retry}}
}
