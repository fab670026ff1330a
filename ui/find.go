package ui

import (
	tea "charm.land/bubbletea/v2"

	"duet/ui/contacts"
	"duet/ui/newdm"
	"duet/ui/search"
	"duet/ui/switcher"
)

// Message search (issue 11) and the quick switcher (ctrl+k), each a box over the right pane:
// the components search and ask the directory themselves; the root opens them with what is
// its own (the open conversation, the list's rows) and opens what they hand back.

// updateFind routes the messages of the message search and the quick switcher: what they hand
// back is opened here, the rest goes to them.
func (m *Model) updateFind(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case search.OpenMsg:
		cmd = m.openResult(msg.Result)
	case search.Msg:
		cmd = m.search.Update(msg)
	case switcher.ChosenMsg:
		cmd = m.chosen(msg.Entry)
	case switcher.Msg:
		cmd = m.finder.Update(msg)
	}
	return cmd
}

// openSearch opens the search dialog: limited to the open conversation's person when one is
// open (tab widens it).
func (m *Model) openSearch() tea.Cmd {
	var scope search.Scope
	if c := m.openChat(); c != nil && c.Item().Kind == contacts.KindContact {
		scope = search.Scope{User: c.Item().UserID, Name: c.Item().Name}
	}
	m.layout()
	return m.search.Open(scope)
}

// openResult opens the conversation a search result is in, at the message.
func (m *Model) openResult(r search.Result) tea.Cmd {
	a := m.acct(r.Acct)
	key := a.roomKey(r.RoomID)
	if r.Person != "" {
		key = a.userKey(r.Person)
	}
	return m.openAt(key, r.EventID)
}

// openSwitcher opens the quick switcher over every row of the list.
func (m *Model) openSwitcher() tea.Cmd {
	entries := switcher.EntriesOf(m.contacts.All())
	m.layout()
	return m.finder.Open(entries)
}

// chosen opens what was picked in the quick switcher: a row of the list, or a DM with a user
// ID (typed, or found in the directory) by the same path as a new DM by ID.
func (m *Model) chosen(e switcher.Entry) tea.Cmd {
	if e.Key != "" {
		if it, ok := m.contacts.Find(e.Key); ok {
			return m.openItem(it, !it.Pending)
		}
	}
	if e.UserID == "" {
		return nil
	}
	if it, ok := m.contacts.Find(m.acct(m.newDM.Account(string(e.UserID))).userKey(e.UserID)); ok {
		return m.openItem(it, !it.Pending)
	}
	// A new DM: open it at once with the composer, so that what is typed next goes there and
	// nowhere else, while the user ID is checked (userChecked then resolves the room; a user
	// that does not exist is said in the status bar).
	name := e.Name
	if e.Kind == switcher.KindNewDM {
		name = ""
	}
	it := contacts.Item{Kind: contacts.KindContact, Section: contacts.SectionContacts, UserID: e.UserID, Name: newdm.Label(e.UserID, name)}
	return tea.Batch(m.openItem(it, true), m.dmTo(string(e.UserID)))
}
