package chat

import (
	"context"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
	"duet/ui/conversation"
	"duet/ui/internal/textutil"
)

// A thread (m.thread) shown instead of the conversation: t on a picked message opens the thread
// it is the root of or is in; its root and replies come from the store, older replies as the
// top comes into view; when the root is not stored, the conversation's history is paged back to
// find it. What is written meanwhile goes into the thread. esc goes back.

// threadPage is how many replies one read of a thread adds; threadSearch bounds the pages of
// history read back to find a root.
const (
	threadPage   = 50
	threadSearch = 10
)

// threadMsg is a thread read from the store.
type threadMsg struct {
	to
	root            id.EventID
	msgs            []matrixsvc.Message
	rootFound, more bool
	err             error
}

// tl is the conversation's timeline, whether it or a thread is on screen.
func (c *Model) tl() *conversation.Model {
	if c.thread != "" {
		return &c.main
	}
	return &c.conv
}

// each applies fn to the conversation's timeline and, when one is open, the thread's.
func (c *Model) each(fn func(*conversation.Model)) {
	fn(&c.conv)
	if c.thread != "" {
		fn(&c.main)
	}
}

// Thread is the root of the thread on screen, "" when the conversation is.
func (c *Model) Thread() id.EventID { return c.thread }

// pickThread opens the thread of the picked message.
func (c *Model) pickThread(msg matrixsvc.Message) (tea.Cmd, Next) {
	switch {
	case msg.Note():
		c.host.Error("that line is duet's own warning, not a message: it has no thread")
		return nil, StayPicking
	case msg.EventID == "" && msg.Thread == "":
		c.host.Error("that message is not sent yet: wait for it to be sent to open its thread")
		return nil, StayPicking
	}
	c.conv.Unpick()
	return c.OpenThread(msg), ToComposer
}

// OpenThread shows the thread msg is the root of (or starts one on it) or is in.
func (c *Model) OpenThread(msg matrixsvc.Message) tea.Cmd {
	root := msg.Thread
	if root == "" {
		root = msg.EventID
	}
	if root == c.thread {
		return nil
	}
	c.CloseThread()
	room := msg.RoomID
	if room == "" {
		room = c.room
	}
	c.CancelEdit()
	c.replyTo = matrixsvc.Message{}
	c.main = c.conv
	c.conv = c.main.ForThread(root)
	c.thread, c.threadRoom, c.threadLimit, c.threadPages, c.threadWait = root, room, threadPage, 0, false
	c.conv.SetLoading()
	return c.loadThread()
}

// CloseThread shows the conversation again.
func (c *Model) CloseThread() {
	if c.thread == "" {
		return
	}
	c.CancelEdit()
	c.replyTo = matrixsvc.Message{}
	c.conv, c.main = c.main, conversation.Model{}
	c.thread, c.threadWait = "", false
}

func (c *Model) loadThread() tea.Cmd {
	svc, key, room, root, limit := c.svc, c.key, c.threadRoom, c.thread, c.threadLimit
	return c.call(func(ctx context.Context) tea.Msg {
		msgs, found, more, err := svc.ThreadMessages(ctx, room, root, limit)
		return threadMsg{to: to{key}, root: root, msgs: msgs, rootFound: found, more: more, err: err}
	})
}

// threadLoaded shows what the store has of the thread; without its root, the conversation's
// history is paged back (a few pages at most) and the thread read again.
func (c *Model) threadLoaded(msg threadMsg) tea.Cmd {
	if msg.root != c.thread || c.thread == "" {
		return nil
	}
	if msg.err != nil {
		c.conv.LoadFailed()
		c.host.Error(textutil.Explain(msg.err))
		return nil
	}
	if !msg.rootFound && c.pager != nil && c.pager.More() && c.threadPages < threadSearch {
		c.threadPages++
		c.threadWait = true
		if c.pager.Loading() {
			return nil // historyLoaded reads the thread again
		}
		c.pager.Want(jumpPage)
		cmd := c.pageIn()
		if !c.pager.Loading() { // the page was at hand
			c.threadWait = false
			return tea.Batch(cmd, c.loadThread())
		}
		return cmd
	}
	c.conv.AddPage(msg.msgs, msg.more)
	if !msg.rootFound {
		c.host.Info("the thread's first message is not in this conversation's history")
	}
	return nil
}

// olderInThread reads more of the thread when its top is in view.
func (c *Model) olderInThread() tea.Cmd {
	if !c.conv.NeedsOlder() {
		return nil
	}
	c.threadLimit += threadPage
	c.conv.SetLoading()
	return c.loadThread()
}

// appendThread adds the live messages of the thread on screen.
func (c *Model) appendThread(msgs []matrixsvc.Message) {
	if c.thread == "" {
		return
	}
	var in []matrixsvc.Message
	for _, m := range msgs {
		if m.RoomID == c.threadRoom && (m.Thread == c.thread || m.EventID == c.thread) {
			in = append(in, m)
		}
	}
	if len(in) > 0 {
		c.conv.Append(in)
	}
}
