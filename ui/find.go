package ui

import (
	"context"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"

	"duet/matrixsvc"
	"duet/ui/contacts"
	"duet/ui/search"
	"duet/ui/switcher"
)

// Message search (issue 11): a dialog over the right pane, answered from the local index.

// updateFind handles the messages of the message search and the quick switcher: what they
// hand back to open, and the rest to them.
func (m *Model) updateFind(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case search.OpenMsg:
		cmd = m.openResult(msg.Result)
	case search.Msg:
		cmd = m.search.Update(msg)
	case switcher.TickMsg:
		cmd = m.finder.Update(msg)
	case switcher.DirectoryMsg:
		cmd = m.searchDirectory(msg)
	case directoryDoneMsg:
		m.directoryDone(msg)
	case switcher.ChosenMsg:
		cmd = m.chosen(msg.Entry)
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
	key := "r:" + string(r.RoomID)
	if r.Person != "" {
		key = "u:" + string(r.Person)
	}
	return m.openAt(key, r.EventID)
}

// The quick switcher (ctrl+k): a fuzzy finder over the contacts, group DMs and invites, with
// the server's user directory below, and a new DM by user ID.

// directoryLimit is how many people one user directory search lists.
const directoryLimit = 20

type directoryDoneMsg struct {
	query string
	users []matrixsvc.DirectoryUser
	err   error
}

// openSwitcher opens the quick switcher over every row of the list.
func (m *Model) openSwitcher() tea.Cmd {
	all := m.contacts.All()
	entries := make([]switcher.Entry, 0, len(all))
	for _, it := range all {
		e := switcher.Entry{Key: it.Key(), Name: it.Name, UserID: it.UserID, LastActivity: it.TS}
		switch {
		case it.Kind == contacts.KindGroup:
			e.Kind, e.Detail = switcher.KindGroup, fmt.Sprintf("%d members", it.Members)
		case it.Kind == contacts.KindRoomInvite:
			e.Kind, e.Detail = switcher.KindInvite, "room invite"
		case it.Request:
			e.Kind, e.Detail = switcher.KindInvite, "request"
		case it.Pending:
			e.Kind, e.Detail = switcher.KindInvite, "invite"
		default:
			e.Kind = switcher.KindContact
		}
		if it.Blocked {
			e.Detail = "blocked"
		}
		entries = append(entries, e)
	}
	m.layout()
	return m.finder.Open(entries)
}

// searchDirectory asks the server's user directory in a command.
func (m *Model) searchDirectory(q switcher.DirectoryMsg) tea.Cmd {
	svc, query := m.svc, q.Query
	return m.call(func(ctx context.Context) tea.Msg {
		users, err := svc.SearchUsers(ctx, query, directoryLimit)
		return directoryDoneMsg{query: query, users: users, err: err}
	})
}

func (m *Model) directoryDone(msg directoryDoneMsg) {
	if msg.err != nil {
		m.finder.DirectoryFailed(msg.query, explain(msg.err))
		return
	}
	out := make([]switcher.Entry, len(msg.users))
	for i, u := range msg.users {
		name := u.DisplayName
		if name == "" {
			name = string(u.UserID)
		}
		out[i] = switcher.Entry{Kind: switcher.KindDirectory, Name: name, UserID: u.UserID}
	}
	m.finder.SetDirectory(msg.query, out)
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
	if it, ok := m.contacts.Find("u:" + string(e.UserID)); ok {
		return m.openItem(it, !it.Pending)
	}
	// A new DM: open it at once with the composer, so that what is typed next goes there and
	// nowhere else, while the user ID is checked (userChecked then resolves the room; a user
	// that does not exist is said in the status bar).
	name := e.Name
	if e.Kind == switcher.KindNewDM {
		name = ""
	}
	it := contacts.Item{Kind: contacts.KindContact, Section: contacts.SectionContacts, UserID: e.UserID, Name: userLabel(e.UserID, name)}
	return tea.Batch(m.openItem(it, true), m.dmTo(string(e.UserID)))
}
