package conversation

import "charm.land/bubbles/v2/key"

// KeyMap is the timeline's keys. They work while the composer has focus, so none of them is a
// printable character.
type KeyMap struct {
	PageUp   key.Binding
	PageDown key.Binding
	Bottom   key.Binding
	Retry    key.Binding
	Pick     key.Binding // pick a message: to reply, react, edit or delete it
}

// PickKeyMap is the keys while a message is being picked; the composer does not have the
// keyboard then, so they are letters.
type PickKeyMap struct {
	Up     key.Binding
	Down   key.Binding
	Reply  key.Binding
	React  key.Binding
	Edit   key.Binding
	Delete key.Binding
	Open   key.Binding // a file: open it with the system's program; a text: open its link
	Save   key.Binding // a file: save it in the downloads folder
	Copy   key.Binding // copy its text to the clipboard (through the terminal)
	Thread key.Binding // open the thread it is the root of or is in
	Done   key.Binding
	// A poll: a number votes for that answer (toggles it where several may be picked); the
	// numbers are fixed, so Vote is only their help. EndPoll ends our own poll.
	Vote    key.Binding
	EndPoll key.Binding
}

// DefaultPickKeyMap is the default keys while picking a message.
func DefaultPickKeyMap() PickKeyMap {
	return PickKeyMap{
		Up:     key.NewBinding(key.WithKeys("up", "k", "shift+up", "alt+up"), key.WithHelp("↑/k", "pick older")),
		Down:   key.NewBinding(key.WithKeys("down", "j", "shift+down", "alt+down"), key.WithHelp("↓/j", "pick newer")),
		Reply:  key.NewBinding(key.WithKeys("r", "enter"), key.WithHelp("r", "reply to pick")),
		React:  key.NewBinding(key.WithKeys("+", "="), key.WithHelp("+", "react to pick")),
		Edit:   key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "edit pick")),
		Delete: key.NewBinding(key.WithKeys("d", "delete"), key.WithHelp("d", "delete pick")),
		Open:   key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "open file or link")),
		Save:   key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "save its file")),
		Copy:   key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy its text")),
		Thread: key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "open its thread")),
		Done:   key.NewBinding(key.WithKeys("esc", "q"), key.WithHelp("esc", "stop picking")),
		Vote: key.NewBinding(key.WithKeys("1", "2", "3", "4", "5", "6", "7", "8", "9"),
			key.WithHelp("1-9", "vote on a poll")),
		EndPoll: key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "end your poll")),
	}
}

// ShortHelp is the status bar's hint line while picking.
func (k PickKeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Reply, k.React, k.Edit, k.Delete, k.Open, k.Done}
}

// FullHelp is the help screen while picking.
func (k PickKeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.Done}, {k.Reply, k.React, k.Edit, k.Delete}, {k.Open, k.Save, k.Copy, k.Thread}, {k.Vote, k.EndPoll}}
}

// DefaultKeyMap is the default timeline keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+up"), key.WithHelp("pgup", "older")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+down"), key.WithHelp("pgdn", "newer")),
		Bottom:   key.NewBinding(key.WithKeys("ctrl+end"), key.WithHelp("ctrl+end", "newest")),
		Retry:    key.NewBinding(key.WithKeys("ctrl+r"), key.WithHelp("ctrl+r", "retry failed")),
		// Not alt+up: esc then up, typed quickly, reaches the program as alt+up.
		Pick: key.NewBinding(key.WithKeys("shift+up"), key.WithHelp("shift+↑", "pick a message")),
	}
}

// ShortHelp is the status bar's hint line.
func (k KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.PageUp, k.PageDown} }

// FullHelp is the help screen.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.PageUp, k.PageDown, k.Bottom, k.Retry, k.Pick}}
}
