// Package keys is the whole keymap: the global keys and each component's KeyMap, with the
// defaults and the user's overrides from the config file.
package keys

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"

	"duet/ui/composer"
	"duet/ui/contacts"
	"duet/ui/conversation"
	"duet/ui/search"
	"duet/ui/security"
	"duet/ui/switcher"
)

// Global is the keys the root model handles.
type Global struct {
	Quit   key.Binding // anywhere
	Help   key.Binding // outside text inputs
	Switch key.Binding // contacts <-> composer
	Back   key.Binding // back to the contacts

	// Encryption, from the contacts list (the composer has /verify and /recovery).
	Verify    key.Binding // verify the person of the open conversation with emoji
	VerifyOwn key.Binding // verify this device with our own other devices
	Recovery  key.Binding // enter the recovery key, or set one up

	// Finding, from anywhere (the composer too).
	Switcher key.Binding // the quick switcher: a person, a group, or a new DM by user ID
	Search   key.Binding // search messages
}

// KeyMap is every key binding of the UI.
type KeyMap struct {
	Global       Global
	Contacts     contacts.KeyMap
	Conversation conversation.KeyMap
	Pick         conversation.PickKeyMap
	Composer     composer.KeyMap
	Security     security.KeyMap
	Search       search.KeyMap
	Switcher     switcher.KeyMap
}

// DefaultKeyMap is the built-in keymap.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Global: Global{
			Quit:   key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
			Help:   key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
			Switch: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "switch focus")),
			Back:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "contacts")),

			Verify:    key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "verify open contact")),
			VerifyOwn: key.NewBinding(key.WithKeys("V"), key.WithHelp("V", "verify this device")),
			Recovery:  key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "recovery key")),

			Switcher: key.NewBinding(key.WithKeys("ctrl+k"), key.WithHelp("ctrl+k", "go to a person")),
			Search:   key.NewBinding(key.WithKeys("ctrl+f"), key.WithHelp("ctrl+f", "search messages")),
		},
		Contacts:     contacts.DefaultKeyMap(),
		Conversation: conversation.DefaultKeyMap(),
		Pick:         conversation.DefaultPickKeyMap(),
		Composer:     composer.DefaultKeyMap(),
		Security:     security.DefaultKeyMap(),
		Search:       search.DefaultKeyMap(),
		Switcher:     switcher.DefaultKeyMap(),
	}
}

// Bindings names every action, as the config file spells it.
func (km *KeyMap) Bindings() map[string]*key.Binding {
	return map[string]*key.Binding{
		"quit":                &km.Global.Quit,
		"help":                &km.Global.Help,
		"switch-focus":        &km.Global.Switch,
		"back":                &km.Global.Back,
		"verify":              &km.Global.Verify,
		"verify-own":          &km.Global.VerifyOwn,
		"recovery-key":        &km.Global.Recovery,
		"switcher":            &km.Global.Switcher,
		"search":              &km.Global.Search,
		"contacts.up":         &km.Contacts.Up,
		"contacts.down":       &km.Contacts.Down,
		"contacts.open":       &km.Contacts.Open,
		"contacts.new-dm":     &km.Contacts.New,
		"contacts.filter":     &km.Contacts.Filter,
		"contacts.clear":      &km.Contacts.Clear,
		"contacts.accept":     &km.Contacts.Accept,
		"contacts.decline":    &km.Contacts.Decline,
		"contacts.block":      &km.Contacts.Block,
		"contacts.unblock":    &km.Contacts.Unblock,
		"contacts.account":    &km.Contacts.Account,
		"contacts.quit":       &km.Contacts.Quit,
		"conversation.pageup": &km.Conversation.PageUp,
		"conversation.pagedn": &km.Conversation.PageDown,
		"conversation.bottom": &km.Conversation.Bottom,
		"conversation.retry":  &km.Conversation.Retry,
		"conversation.pick":   &km.Conversation.Pick,
		"pick.up":             &km.Pick.Up,
		"pick.down":           &km.Pick.Down,
		"pick.reply":          &km.Pick.Reply,
		"pick.react":          &km.Pick.React,
		"pick.edit":           &km.Pick.Edit,
		"pick.delete":         &km.Pick.Delete,
		"pick.open":           &km.Pick.Open,
		"pick.save":           &km.Pick.Save,
		"pick.copy":           &km.Pick.Copy,
		"pick.thread":         &km.Pick.Thread,
		"pick.done":           &km.Pick.Done,
		"pick.end-poll":       &km.Pick.EndPoll,
		"composer.send":       &km.Composer.Send,
		"composer.newline":    &km.Composer.Newline,
		"composer.edit-last":  &km.Composer.EditLast,
		"composer.editor":     &km.Composer.Editor,
		"security.accept":     &km.Security.Accept,
		"security.match":      &km.Security.Match,
		"security.mismatch":   &km.Security.Mismatch,
		"security.cancel":     &km.Security.Cancel,
		"security.reveal":     &km.Security.Reveal,
		"security.submit":     &km.Security.Submit,
		"search.up":           &km.Search.Up,
		"search.down":         &km.Search.Down,
		"search.scope":        &km.Search.Scope,
		"search.open":         &km.Search.Open,
		"search.close":        &km.Search.Close,
	}
}

// Actions lists the action names, sorted.
func (km *KeyMap) Actions() []string {
	var names []string
	for name := range km.Bindings() {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Apply overrides bindings: action name -> keys (bubbletea key names such as "ctrl+n", "alt+enter",
// "K"). An empty list unbinds the action. Unknown actions are an error and nothing is changed.
func Apply(km *KeyMap, overrides map[string][]string) error {
	b := km.Bindings()
	var unknown []string
	for name := range overrides {
		if b[name] == nil {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return fmt.Errorf("unknown key action(s) %s; known: %s", strings.Join(unknown, ", "), strings.Join(km.Actions(), ", "))
	}
	for name, list := range overrides {
		binding := b[name]
		if len(list) == 0 {
			binding.Unbind()
			continue
		}
		for _, k := range list {
			if strings.TrimSpace(k) == "" {
				return fmt.Errorf("key action %s: empty key name", name)
			}
		}
		binding.SetKeys(list...)
		binding.SetHelp(strings.Join(list, "/"), binding.Help().Desc)
		binding.SetEnabled(true)
	}
	return nil
}

// Help is a help.KeyMap built from some bindings.
type Help struct {
	Short []key.Binding
	Full  [][]key.Binding
}

// ShortHelp implements help.KeyMap.
func (h Help) ShortHelp() []key.Binding { return h.Short }

// FullHelp implements help.KeyMap.
func (h Help) FullHelp() [][]key.Binding { return h.Full }
