package security

import "charm.land/bubbles/v2/key"

// KeyMap is the dialog's keys. While the dialog is open it has the keyboard, so they may be
// letters that mean something else elsewhere.
type KeyMap struct {
	Accept   key.Binding // accept a verification request
	Match    key.Binding // the emoji match
	Mismatch key.Binding // the emoji differ
	Cancel   key.Binding // cancel, decline, close
	Reveal   key.Binding // show or hide the recovery key being typed
	Submit   key.Binding // send what was typed; close the recovery key box
}

// DefaultKeyMap is the default dialog keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Accept:   key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "accept verification")),
		Match:    key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "emoji match")),
		Mismatch: key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "emoji differ")),
		Cancel:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel, decline")),
		Reveal:   key.NewBinding(key.WithKeys("ctrl+t"), key.WithHelp("ctrl+t", "show/hide key")),
		Submit:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "ok, done")),
	}
}

// FullHelp is the help screen's group for the dialog.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Accept, k.Match, k.Mismatch, k.Reveal, k.Submit, k.Cancel}}
}

// ShortHelp is the status bar's hint for the dialog at its current stage.
func (m *Dialog) ShortHelp() []key.Binding {
	k := m.keys
	cancel := func(desc string) key.Binding {
		b := k.Cancel
		b.SetHelp(k.Cancel.Help().Key, desc)
		return b
	}
	submit := func(desc string) key.Binding {
		b := k.Submit
		b.SetHelp(k.Submit.Help().Key, desc)
		return b
	}
	switch m.stage {
	case Incoming:
		a := k.Accept
		a.SetHelp(k.Accept.Help().Key, "accept")
		return []key.Binding{a, cancel("decline")}
	case Compare:
		y, n := k.Match, k.Mismatch
		y.SetHelp(k.Match.Help().Key, "they match")
		n.SetHelp(k.Mismatch.Help().Key, "they don't")
		return []key.Binding{y, n, cancel("cancel")}
	case EnterKey:
		return []key.Binding{submit("verify"), k.Reveal, cancel("cancel")}
	case OfferSetup:
		return []key.Binding{submit("set up"), cancel("not now")}
	case EnterPassword:
		return []key.Binding{submit("continue"), cancel("cancel")}
	case ShowKey:
		return []key.Binding{submit("done")}
	case SettingUp:
		return nil
	case Verifying, Checking:
		return []key.Binding{cancel("close")}
	}
	return []key.Binding{cancel("cancel")}
}
