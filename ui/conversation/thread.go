package conversation

import (
	"fmt"

	"maunium.net/go/mautrix/id"

	"duet/ui/internal/textutil"
)

// Threads (m.thread). In a conversation's timeline a thread reply shows the root it belongs to
// on a line above it, and a root how many replies it has under it; a thread's own timeline
// (ForThread) shows neither: its root and its replies only.

// ForThread returns an empty timeline for the thread on root, with this one's keys, styles,
// names and size.
func (m *Model) ForThread(root id.EventID) Model {
	t := New(m.keys, m.styles, m.me, m.now)
	for u, n := range m.names {
		t.names[u] = n
	}
	t.width, t.height, t.images, t.thread, t.threadKey = m.width, m.height, m.images, root, m.threadKey
	return t
}

// Thread is the root of the thread this timeline shows, "" for a conversation's.
func (m *Model) Thread() id.EventID { return m.thread }

// SetThreadKey is the key named on a root's line as the one that opens its thread.
func (m *Model) SetThreadKey(k string) { m.threadKey = k }

// threadLine is the line above a thread reply: the root it belongs to, as it is now when it is
// loaded, else as the store had it.
func (m *Model) threadLine(e *entry, pad string, w int) string {
	who, what := m.quote(e.msg.Thread, e.msg.ThreadRoot)
	text := "⤷ in a thread on: " + what
	if who != "" {
		text = "⤷ in a thread on: " + who + ": " + what
	}
	return pad + m.styles.Reply.Render(textutil.Cut(text, max(w-len(pad), 1)))
}

// repliesLine is the line under a thread's root: how many replies it has, and how to open it.
func (m *Model) repliesLine(e *entry, pad string, w int) string {
	text := "💬 1 reply in thread"
	if n := e.msg.ThreadReplies; n != 1 {
		text = fmt.Sprintf("💬 %d replies in thread", n)
	}
	if m.threadKey != "" {
		text += " · " + m.threadKey + " opens it"
	}
	return pad + m.styles.Reply.Render(textutil.Cut(text, max(w-len(pad), 1)))
}
