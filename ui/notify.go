package ui

import (
	"context"
	"fmt"

	tea "charm.land/bubbletea/v2"

	"duet/internal/sanitize"
	"duet/matrixsvc"
)

// Telling of new messages not on screen: the terminal's bell and a desktop notification, for
// the messages the push rules say notify (muted rooms stay quiet); and the terminal's title,
// which says how many messages are unread. The bell and the title go out with the frame
// (ui/internal/terminal).

// notified is a desktop notification's result; it is not shown: a terminal without a
// notification daemon is normal.
type notified struct{}

// notifyOf tells of account a's new messages that are not on screen.
func (m *Model) notifyOf(a *account, msgs []matrixsvc.Message) tea.Cmd {
	var cmds []tea.Cmd
	rang := false
	for _, msg := range msgs {
		if !msg.Notify || msg.Sender == a.me || m.onScreen(a, msg) {
			continue
		}
		if m.opts.Bell && !rang {
			rang = true
			cmds = append(cmds, m.term.Ring())
		}
		if d := m.opts.Desktop; d != nil {
			summary, body := m.notification(a, msg)
			cmds = append(cmds, m.call(func(ctx context.Context) tea.Msg {
				_ = d.Notify(ctx, summary, body)
				return notified{}
			}))
		}
	}
	return tea.Batch(cmds...)
}

// onScreen reports whether a message shows in the open conversation while the terminal is in
// front.
func (m *Model) onScreen(a *account, msg matrixsvc.Message) bool {
	c := m.openChat()
	return c != nil && c.Item().Acct == a.idx && !m.term.Blurred() && !m.showHelp && c.Shows(msg.RoomID)
}

// notification is a message's desktop notification: who, and what they said.
func (m *Model) notification(a *account, msg matrixsvc.Message) (summary, body string) {
	summary = string(msg.Sender)
	if it, ok := m.contacts.Find(a.userKey(msg.Sender)); ok && it.Name != "" {
		summary = it.Name
	}
	if a.tag != "" {
		summary += " (" + a.tag + ")"
	}
	switch {
	case msg.Encrypted:
		body = "sent an encrypted message"
	case msg.Kind != matrixsvc.KindMessage:
		body = msg.KindText() // a sticker, a poll, a call, a place: said as what it is
	case msg.Media != nil:
		body = "sent " + sanitize.Line(msg.Media.Name)
	case msg.MsgType == "m.emote":
		body = "* " + summary + " " + matrixsvc.PlainText(msg.Body, msg.HTML)
	default:
		body = matrixsvc.PlainText(msg.Body, msg.HTML)
	}
	if msg.Highlight {
		summary += " (mentions you)"
	}
	return summary, body
}

// unreadTitle is the terminal's title: duet, and the number of unread messages.
func (m *Model) unreadTitle() string {
	n := 0
	for _, it := range m.contacts.All() {
		n += it.Unread
	}
	if n == 0 {
		return "duet"
	}
	return fmt.Sprintf("duet (%d unread)", n)
}
