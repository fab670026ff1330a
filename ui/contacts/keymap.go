package contacts

import "charm.land/bubbles/v2/key"

// KeyMap is the contacts pane's keys.
type KeyMap struct {
	Up      key.Binding
	Down    key.Binding
	Open    key.Binding
	New     key.Binding
	Filter  key.Binding
	Clear   key.Binding // leaves and clears the filter
	Accept  key.Binding
	Decline key.Binding
	Block   key.Binding
	Unblock key.Binding
	Account key.Binding // narrows the list to the account of that number (several accounts open)
	Quit    key.Binding
}

// DefaultKeyMap is the default contacts keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:      key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:    key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Open:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		New:     key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "new DM")),
		Filter:  key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Clear:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
		Accept:  key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "accept invite")),
		Decline: key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "decline invite")),
		Block:   key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "block person")),
		Unblock: key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "unblock person")),
		Account: key.NewBinding(key.WithKeys("1", "2", "3", "4", "5", "6", "7", "8", "9", "0"), key.WithHelp("1-9/0", "one account/all")),
		Quit:    key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
	}
}

// ShortHelp is the status bar's hint line.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Open, k.New, k.Filter, k.Quit}
}

// FullHelp is the help screen.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.Open}, {k.New, k.Filter, k.Clear}, {k.Accept, k.Decline, k.Quit}, {k.Block, k.Unblock, k.Account}}
}
