package ui

import (
	"fmt"
	"strings"

	"duet/internal/sanitize"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"duet/ui/contacts"
	"duet/ui/newdm"
)

// A new conversation by user ID: the prompt and the check are newdm.Model's; the focus, the
// key that closes the prompt and opening the conversation are the root's.

func (m *Model) startPrompt() tea.Cmd {
	m.newDM.Open()
	return m.setFocus(focusPrompt)
}

func (m *Model) closePrompt() tea.Cmd {
	m.newDM.Close()
	return m.setFocus(focusContacts)
}

func (m *Model) promptKey(k tea.KeyPressMsg) tea.Cmd {
	if key.Matches(k, m.keys.Global.Back) {
		return m.closePrompt()
	}
	return m.newDM.HandleKey(k)
}

// dmTo starts a conversation with a user ID typed in `/dm @user`.
func (m *Model) dmTo(raw string) tea.Cmd {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return m.startPrompt()
	}
	return m.newDM.Check(raw)
}

// userChecked opens the conversation with a validated user at once; the room is resolved or
// created in the background and messages typed meanwhile are queued (R11, R12, R21).
func (m *Model) userChecked(msg newdm.Msg) tea.Cmd {
	u, ok := m.newDM.Checked(msg)
	if !ok {
		return nil // cancelled, or no such user (said by the prompt)
	}
	a := m.acct(u.Acct)
	it, found := m.contacts.Find(a.userKey(u.ID))
	if !found {
		it = contacts.Item{Kind: contacts.KindContact, Section: contacts.SectionContacts, UserID: u.ID, Name: u.Label(),
			Acct: a.idx, Profile: a.profile, Tag: a.tag}
	}
	if m.multi() {
		m.status.SetInfo(fmt.Sprintf("conversation with %s as %s", u.Label(), sanitize.Line(string(a.me))))
	} else {
		m.status.SetInfo("conversation with " + u.Label())
	}
	cmd := m.openItem(it, true)
	if c := m.openChat(); c != nil {
		return tea.Batch(cmd, c.OpenDM())
	}
	return cmd
}
