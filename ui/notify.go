package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"duet/internal/sanitize"
	"duet/matrixsvc"
)

// Telling of new messages not on screen: the terminal's bell and a desktop notification, for
// the messages the push rules say notify (muted rooms stay quiet); and the terminal's title,
// which says how many messages are unread.
//
// The bell and the title go out with the frame, as part of the view (a BEL at the end of the
// status line, an OSC 0 before the first line), so that they are written under the renderer's
// lock and never behind its back: bubbletea v1's SetWindowTitle writes from the event loop
// while the renderer flushes.

// bellFor is how long the BEL stays in the frame: the renderer writes a line only when it
// changed, so it is written once.
const bellFor = 250 * time.Millisecond

// bellOffMsg takes the BEL out of the frame again.
type bellOffMsg struct{ seq int }

// terminal is what the UI tells the terminal itself, with the frame.
type terminal struct {
	blurred bool   // the terminal is in the background (focus reporting)
	bell    bool   // the bell rings with the next frame
	bellSeq int    // the ring the bell's reset belongs to
	title   string // the terminal's title
	clip    string // an OSC 52 clipboard write, sent with the next frame
	clipSeq int    // the copy the clip's reset belongs to
}

// updateTerminal handles the terminal's messages: focus, the bell's and the clipboard's ends,
// the offline countdown.
func (m *Model) updateTerminal(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case countdownMsg:
		if m.status.Offline() {
			return countdown() // redraws the countdown; stops once back online
		}
	case bellOffMsg:
		if msg.seq == m.term.bellSeq {
			m.term.bell = false
		}
	case clipOffMsg:
		if msg.seq == m.term.clipSeq {
			m.term.clip = ""
		}
	case tea.FocusMsg:
		m.term.blurred = false
	case tea.BlurMsg:
		m.term.blurred = true
	}
	return nil
}

// notified is a desktop notification's result; it is not shown: a terminal without a
// notification daemon is normal.
type notified struct{}

// notifyOf tells of new messages that are not on screen.
func (m *Model) notifyOf(msgs []matrixsvc.Message) tea.Cmd {
	var cmds []tea.Cmd
	rang := false
	for _, msg := range msgs {
		if !msg.Notify || msg.Sender == m.me || m.onScreen(msg) {
			continue
		}
		if m.opts.Bell && !rang {
			rang = true
			m.term.bell = true
			m.term.bellSeq++
			seq := m.term.bellSeq
			cmds = append(cmds, tea.Tick(bellFor, func(time.Time) tea.Msg { return bellOffMsg{seq: seq} }))
		}
		if d := m.opts.Desktop; d != nil {
			summary, body := m.notification(msg)
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
func (m *Model) onScreen(msg matrixsvc.Message) bool {
	c := m.openChat()
	return c != nil && !m.term.blurred && !m.showHelp && c.Shows(msg.RoomID)
}

// notification is a message's desktop notification: who, and what they said.
func (m *Model) notification(msg matrixsvc.Message) (summary, body string) {
	summary = string(msg.Sender)
	if it, ok := m.contacts.Find("u:" + string(msg.Sender)); ok && it.Name != "" {
		summary = it.Name
	}
	switch {
	case msg.Encrypted:
		body = "sent an encrypted message"
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

// withTerminalControls adds the title, a clipboard write and the bell to a frame.
func (m *Model) withTerminalControls(frame string) string {
	var b strings.Builder
	if m.term.title != "" {
		b.WriteString("\x1b]0;" + sanitize.Line(m.term.title) + "\a")
	}
	b.WriteString(m.term.clip)
	b.WriteString(frame)
	if m.term.bell {
		b.WriteByte('\a')
	}
	return b.String()
}
