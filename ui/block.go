package ui

import (
	"context"
	"fmt"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/ui/contacts"
	"duet/ui/internal/textutil"
)

// Blocking (R25) from the list: b asks in the status bar, y blocks, any other key does not.

type blockDoneMsg struct {
	acct    int
	user    id.UserID
	block   bool // block, or unblock
	changed bool
	err     error
}

// askBlock asks before blocking: it declines their invites and hides them everywhere.
func (m *Model) askBlock(it contacts.Item) tea.Cmd {
	what := "the server then drops their messages and invites"
	if it.Pending {
		what = "their invite is declined and the server drops what they send"
	}
	// The answer keys first: a narrow terminal cuts the end of the line.
	m.status.Ask(fmt.Sprintf("Block %s? y: block · other key: cancel · %s", it.UserID, what))
	m.confirm, m.confirmNo = m.setBlocked(m.acct(it.Acct), it.UserID, true), "not blocked"
	return nil
}

// answerConfirm takes the key that answers the question in the status bar.
func (m *Model) answerConfirm(k tea.KeyPressMsg) tea.Cmd {
	cmd := m.confirm
	m.confirm = nil
	m.status.Ask("")
	if k.Text == "y" {
		return cmd
	}
	m.status.SetInfo(m.confirmNo)
	return nil
}

func (m *Model) unblock(it contacts.Item) tea.Cmd {
	m.status.SetInfo(fmt.Sprintf("unblocking %s…", it.UserID))
	return m.setBlocked(m.acct(it.Acct), it.UserID, false)
}

// setBlocked blocks or unblocks user in account a, in a command.
func (m *Model) setBlocked(a *account, user id.UserID, block bool) tea.Cmd {
	svc, idx := a.svc, a.idx
	return m.call(func(ctx context.Context) tea.Msg {
		change := svc.Unblock
		if block {
			change = svc.Block
		}
		x, changed, err := change(ctx, string(user))
		if x == "" {
			x = user
		}
		return blockDoneMsg{acct: idx, user: x, block: block, changed: changed, err: err}
	})
}

func (m *Model) blockDone(msg blockDoneMsg) tea.Cmd {
	a := m.acct(msg.acct)
	if msg.err != nil {
		m.status.SetError(a.label(textutil.Explain(msg.err)))
		return m.refreshOverview(a)
	}
	wasRequest := false
	var focusCmd tea.Cmd
	for key, c := range m.chats {
		if c.Item().UserID != msg.user || c.Item().Acct != a.idx {
			continue
		}
		if msg.block && c.Item().Pending {
			// Only an invite, now declined: nothing is left to show.
			wasRequest = true
			delete(m.chats, key)
			if m.open == key {
				m.open = ""
				focusCmd = m.setFocus(focusContacts)
			}
			continue
		}
		c.SetBlocked(msg.block)
	}
	switch {
	case !msg.block:
		m.status.SetInfo(a.label(fmt.Sprintf("unblocked %s", msg.user)))
	case wasRequest || !m.inList(a, msg.user):
		undo := fmt.Sprintf("duet unblock %s", msg.user)
		if a.profile != "" {
			undo = fmt.Sprintf("duet --profile %s unblock %s", a.profile, msg.user)
		}
		m.status.SetInfo(a.label(fmt.Sprintf("blocked %s and declined their invite; `%s` undoes it", msg.user, undo)))
	default:
		m.status.SetInfo(a.label(fmt.Sprintf("blocked %s: %s on them in the list unblocks", msg.user, m.keys.Contacts.Unblock.Help().Key)))
	}
	return tea.Batch(focusCmd, m.refreshOverview(a))
}

// inList reports whether user has a row in account a's part of the list that is not a
// request.
func (m *Model) inList(a *account, user id.UserID) bool {
	it, ok := m.contacts.Find(a.userKey(user))
	return ok && !it.Request
}
