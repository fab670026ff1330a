package ui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/internal/sanitize"
	"duet/ui/chat"
	"duet/ui/contacts"
	"duet/ui/internal/textutil"
)

// The conversations: which one is open, opening one, and what the composer's text becomes.

func (m *Model) openChat() *chat.Model { return m.chats[m.open] }

// openItem shows an item's conversation, creating its chat on first use; with focusIt the
// composer gets the keyboard.
func (m *Model) openItem(it contacts.Item, focusIt bool) tea.Cmd {
	key := it.Key()
	c := m.chats[key]
	var cmds []tea.Cmd
	known := c != nil
	if c == nil {
		a := m.acct(it.Acct)
		c = chat.New(a.svc, host{m}, m.chatOptions(a), it)
		m.chats[key] = c
		cmds = append(cmds, c.Start())
	}
	if m.open != key {
		if m.focus == focusPick {
			cmds = append(cmds, m.setFocus(focusComposer)) // the pick belongs to the conversation left
		}
		if left := m.openChat(); left != nil {
			cmds = append(cmds, left.Leave())
		}
		cmds = append(cmds, c.Enter(it.Unread, known), m.rememberOpen(key))
	}
	m.open = key
	m.contacts.Select(key)
	m.setPlaceholder(c.Item())
	m.newDM.SetLastUsed(c.Item().Acct) // a new DM's account, by default, when the ID's server says none
	m.layout()
	if focusIt && !c.Item().Pending {
		cmds = append(cmds, m.setFocus(focusComposer))
	} else if c.Item().Pending {
		cmds = append(cmds, m.setFocus(focusContacts))
	}
	return tea.Batch(cmds...)
}

// openAt opens the conversation of key and shows the message evt in it (a search result),
// paging back through its history until it is loaded.
func (m *Model) openAt(key string, evt id.EventID) tea.Cmd {
	it, ok := m.contacts.Find(key)
	if !ok {
		m.status.SetError("that conversation is no longer in your list")
		return nil
	}
	cmd := m.openItem(it, false)
	c := m.chats[key]
	if c == nil {
		return cmd
	}
	return tea.Batch(cmd, c.JumpTo(evt))
}

// submit handles what was typed in the composer: an edit or a reply (the conversation's), a
// command (a /word), or a message.
func (m *Model) submit(text string) tea.Cmd {
	c := m.openChat()
	var stop tea.Cmd
	if c != nil {
		cmd, handled := c.Submit(text)
		if handled {
			return cmd
		}
		stop = cmd
	}
	if strings.HasPrefix(text, "/") {
		if cmd, handled := m.command(text); handled {
			return tea.Batch(stop, cmd)
		}
	}
	if c == nil {
		m.status.SetError("open a conversation first")
		return nil
	}
	return tea.Batch(stop, c.Send(text, false))
}

// send sends a message in the open conversation.
func (m *Model) send(body string, emote bool) tea.Cmd {
	c := m.openChat()
	if c == nil {
		m.status.SetError("open a conversation first")
		return nil
	}
	return c.Send(body, emote)
}

// upload sends a file (/upload PATH) in the open conversation.
func (m *Model) upload(arg string) tea.Cmd {
	path := strings.TrimSpace(arg)
	if path == "" {
		m.status.SetError("/upload needs a file: /upload ~/Pictures/cat.png")
		return nil
	}
	c := m.openChat()
	if c == nil {
		m.status.SetError("open a conversation first")
		return nil
	}
	return c.Upload(chat.ExpandHome(path))
}

func (m *Model) answer(it contacts.Item, accept bool) tea.Cmd {
	rooms := it.InviteRooms
	if it.Kind == contacts.KindRoomInvite {
		rooms = []id.RoomID{it.RoomID}
	} else if accept && len(rooms) > 1 {
		rooms = rooms[:1] // the newest; the rest stay pending
	}
	if len(rooms) == 0 {
		return nil
	}
	verb := "declining"
	if accept {
		verb = "accepting"
	}
	m.status.SetInfo(fmt.Sprintf("%s the invite from %s…", verb, it.Name))
	return m.answerInvite(m.acct(it.Acct), accept, it.Name, rooms)
}

func (m *Model) inviteDone(msg inviteDoneMsg) tea.Cmd {
	var cmd tea.Cmd
	a := m.acct(msg.acct)
	if msg.ov != nil {
		// The list changes in the same step as the notice: an Enter pressed right after
		// "joined" opens the conversation, not the invite that was.
		a.overviewSeq++
		cmd = m.applyOverview(overviewMsg{acct: a.idx, seq: a.overviewSeq, ov: *msg.ov})
	}
	switch {
	case msg.err != nil:
		m.status.SetError(textutil.Explain(msg.err))
	case msg.accepted:
		m.status.SetInfo("joined the conversation with " + msg.name)
	default:
		m.status.SetInfo("declined the invite from " + msg.name)
	}
	if cmd == nil {
		return m.refreshOverview(a)
	}
	return cmd
}

// setPlaceholder says in the empty composer whom a message goes to, and from which account
// when several are open.
func (m *Model) setPlaceholder(it contacts.Item) {
	if !m.multi() {
		m.composer.SetPlaceholder("Write a message…")
		return
	}
	m.composer.SetPlaceholder(fmt.Sprintf("Message %s as %s", it.Name, sanitize.Line(string(m.acct(it.Acct).me))))
}

// host is what the components ask of the root (chat.Host, security.Host).
type host struct{ m *Model }

func (h host) Error(text string) { h.m.status.SetError(text) }
func (h host) Info(text string)  { h.m.status.SetInfo(text) }
func (h host) Ask(question string, yes tea.Cmd, no string) {
	h.m.status.Ask(question)
	h.m.confirm, h.m.confirmNo = yes, no
}
func (h host) Draft() string            { return h.m.composer.Value() }
func (h host) SetDraft(text string)     { h.m.composer.SetValue(text) }
func (h host) Copy(text string) tea.Cmd { return h.m.term.Copy(text) }
func (h host) RefreshList() tea.Cmd     { return h.m.refreshAll() }
func (h host) NewTxn() string           { return h.m.newTxn() }
func (h host) ImageID() uint32          { return h.m.nextImageID() }
func (h host) RefreshTrust() tea.Cmd {
	if c := h.m.openChat(); c != nil {
		return c.FetchTrust()
	}
	return nil
}

// accountHost is host for what belongs to one account (its security flow): the names it asks
// for are its account's rows.
type accountHost struct {
	host
	a *account
}

func (h accountHost) Names(user id.UserID) []string { return h.m.namesOf(h.a, user) }

// namesOf is what account a's list calls user: the name of its conversation, then of its row.
func (m *Model) namesOf(a *account, user id.UserID) []string {
	var names []string
	key := a.userKey(user)
	if c := m.chats[key]; c != nil {
		names = append(names, c.Item().Name)
	}
	if it, ok := m.contacts.Find(key); ok {
		names = append(names, it.Name)
	}
	return names
}
