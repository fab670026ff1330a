package chat

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
	"duet/ui/contacts"
	"duet/ui/conversation"
	"duet/ui/internal/textutil"
)

// Submit takes what was typed in the composer. An edit or a reply is sent here (handled);
// otherwise the root decides whether it is a command or a message for Send.
func (c *Model) Submit(text string) (cmd tea.Cmd, handled bool) {
	stop := c.StopTyping()
	switch {
	case c.editing.EventID != "":
		return tea.Batch(stop, c.sendEdit(text)), true
	case c.replyTo.EventID != "" && !strings.HasPrefix(text, "/"):
		return tea.Batch(stop, c.sendReply(text, false)), true
	}
	return stop, false
}

// Send writes a message to the outbox and shows it at once (local echo). The service sends
// it, in order, once the room exists (R11), and reports back with OutgoingChanged events; the
// message survives a crash in between.
func (c *Model) Send(body string, emote bool) tea.Cmd {
	target, ok := c.target()
	if !ok {
		return nil
	}
	txn := c.host.NewTxn()
	c.conv.AddEcho(txn, body, emote, conversation.Queued)
	o := textOutgoing(c.room, target, body, emote, txn)
	if c.thread != "" {
		o.Room, o.Thread = c.threadRoom, c.thread
	}
	return c.enqueue(o)
}

// target is who a new message goes to: for a contact, the person (the outbox sends where the
// conversation is when it goes: R9, R23); for a group, nobody but its room. It says why not
// when the conversation cannot take a message.
func (c *Model) target() (id.UserID, bool) {
	switch {
	case c.item.Pending:
		c.host.Error("open a conversation first")
		return "", false
	case c.item.Kind == contacts.KindContact:
		return c.item.UserID, true
	case c.room == "":
		c.host.Error("this conversation has no room to send to")
		return "", false
	}
	return "", true
}

// Upload sends the file at path: shown at once, sent by the outbox.
func (c *Model) Upload(path string) tea.Cmd {
	target, ok := c.target()
	if !ok {
		return nil
	}
	size, err := matrixsvc.CheckFile(path) // a local look: no such file, a folder, empty, unreadable
	if err != nil {
		c.host.Error(textutil.Explain(err))
		return nil
	}
	txn := c.host.NewTxn()
	c.conv.AddFileEcho(txn, filepath.Base(path), size, conversation.Queued)
	return c.enqueue(matrixsvc.Outgoing{Kind: matrixsvc.KindFile, Room: c.room, Target: target, File: path, TxnID: txn})
}

// ExpandHome turns a leading ~ of a typed path into the home folder.
func ExpandHome(path string) string {
	if home, err := os.UserHomeDir(); err == nil && (path == "~" || strings.HasPrefix(path, "~/")) {
		return filepath.Join(home, path[1:])
	}
	return path
}

// EditLast starts editing our newest message in the composer (up in an empty composer, as
// in Element). It reports whether there was one.
func (c *Model) EditLast() bool {
	if c.room == "" {
		return false
	}
	msg, ok := c.conv.LastOwn()
	if !ok {
		return false
	}
	c.startEdit(msg)
	return true
}

// startEdit puts our message msg in the composer to edit it; what the composer held comes
// back when the edit is sent or cancelled.
func (c *Model) startEdit(msg matrixsvc.Message) {
	if c.editing.EventID == "" {
		c.draft = c.host.Draft()
	}
	c.replyTo = matrixsvc.Message{}
	c.editing = msg
	c.host.SetDraft(msg.Body)
}

// CancelEdit stops editing; the composer gets back what it held before.
func (c *Model) CancelEdit() {
	if c.editing.EventID != "" {
		c.editing = matrixsvc.Message{}
		c.host.SetDraft(c.draft)
		c.draft = ""
	}
}

// CancelReply drops the message the composer's text was to answer; the text stays.
func (c *Model) CancelReply() { c.replyTo = matrixsvc.Message{} }

// SendEmptiedEdit is enter on an edit whose text was all removed: the composer sends nothing
// empty, so it comes here, and an emptied edit is a deletion.
func (c *Model) SendEmptiedEdit() tea.Cmd { return c.sendEdit("") }

// sendEdit shows the new text at once and sends the edit through the outbox.
func (c *Model) sendEdit(text string) tea.Cmd {
	orig := c.editing
	c.editing = matrixsvc.Message{}
	if c.draft != "" { // what was being written before the edit comes back
		c.host.SetDraft(c.draft)
		c.draft = ""
	}
	if text == orig.Body {
		return nil // nothing changed
	}
	if strings.TrimSpace(text) == "" {
		// Emptied: a deletion, asked first (it cannot be undone).
		c.askDelete(orig)
		return nil
	}
	emote := orig.MsgType == string(event.MsgEmote)
	now := orig
	now.Body, now.HTML, now.Edited = text, matrixsvc.MarkdownHTML(text), true
	c.each(func(t *conversation.Model) { t.Changed([]matrixsvc.Message{now}) })
	txn := c.host.NewTxn()
	c.edits[txn] = true
	return c.enqueue(matrixsvc.Outgoing{Kind: matrixsvc.KindEdit, Room: orig.RoomID, Of: orig.EventID, Body: text, Emote: emote, TxnID: txn})
}

// askDelete asks in the status bar before deleting our message orig; y deletes it.
func (c *Model) askDelete(orig matrixsvc.Message) {
	key := c.key
	yes := func() tea.Msg { return deleteMsg{to: to{key}, msg: orig} }
	c.host.Ask("Delete your message? y: delete · other key: keep it", yes, "kept")
}

// deleteConfirmed deletes our message: shown as deleted at once, the redaction sent through
// the outbox.
func (c *Model) deleteConfirmed(d deleteMsg) tea.Cmd {
	gone := d.msg
	gone.Body, gone.HTML, gone.Redacted, gone.Edited = "", "", true, false
	c.each(func(t *conversation.Model) { t.Changed([]matrixsvc.Message{gone}) })
	txn := c.host.NewTxn()
	c.edits[txn] = true
	return c.enqueue(matrixsvc.Outgoing{Kind: matrixsvc.KindRedaction, Room: d.msg.RoomID, Of: d.msg.EventID, TxnID: txn})
}

// sendReply sends text as a reply to the picked message: shown at once with what it answers,
// sent by the outbox.
func (c *Model) sendReply(text string, emote bool) tea.Cmd {
	orig := c.replyTo
	c.replyTo = matrixsvc.Message{}
	var target id.UserID
	if c.item.Kind == contacts.KindContact {
		target = c.item.UserID
	}
	room := orig.RoomID
	if room == "" {
		room = c.room
	}
	thread := orig.Thread // an answer to a message in a thread goes into the thread
	if c.thread != "" {
		thread = c.thread // the root too, answered in its thread's view
	}
	txn := c.host.NewTxn()
	c.conv.AddReplyEcho(txn, text, emote, orig.EventID, conversation.Queued)
	return c.enqueue(matrixsvc.Outgoing{Kind: matrixsvc.KindReply, Room: room, Target: target, Body: text, Emote: emote, ReplyTo: orig.EventID,
		Thread: thread, TxnID: txn})
}

// Owns reports whether a message in the outbox is this conversation's: a local echo it shows,
// or an edit, deletion or reaction it sent.
func (c *Model) Owns(txn string) bool {
	if c.edits[txn] {
		return true
	}
	_, _, _, ok := c.conv.Echo(txn)
	if !ok && c.thread != "" {
		_, _, _, ok = c.main.Echo(txn)
	}
	return ok
}

// OutgoingChanged follows one of Owns' messages through the outbox.
func (c *Model) OutgoingChanged(o matrixsvc.OutgoingChanged) tea.Cmd {
	if c.edits[o.TxnID] {
		switch o.State {
		case matrixsvc.OutgoingSent:
			delete(c.edits, o.TxnID)
		case matrixsvc.OutgoingFailed:
			delete(c.edits, o.TxnID)
			c.host.Error("edit, deletion, reaction or poll action not done: " + textutil.Explain(o.Err))
		}
		return nil
	}
	var cmd tea.Cmd
	if c.room == "" && o.Room != "" { // the outbox opened the DM (R21)
		c.room = o.Room
		cmd = tea.Batch(c.checkEncrypted(), c.host.RefreshList(), c.loadChainOf()) // older rooms too (R22)
	}
	switch o.State {
	case matrixsvc.OutgoingSending:
		c.each(func(t *conversation.Model) { t.SetState(o.TxnID, conversation.Sending, "") })
	case matrixsvc.OutgoingSent:
		c.each(func(t *conversation.Model) { t.Confirm(o.TxnID, o.EventID, o.Room) })
	case matrixsvc.OutgoingQueued:
		why := ""
		if o.Err != nil {
			why = "waiting: " + textutil.Explain(o.Err)
		}
		c.each(func(t *conversation.Model) { t.SetState(o.TxnID, conversation.Queued, why) })
	case matrixsvc.OutgoingFailed:
		why := textutil.Explain(o.Err)
		c.each(func(t *conversation.Model) { t.SetState(o.TxnID, conversation.Failed, why) })
		c.host.Error("not sent: " + why)
	}
	return cmd
}

// enqueued reports whether the message reached the outbox: if it did not (the disk), it is
// shown as failed and ctrl+r tries again.
func (c *Model) enqueued(msg enqueuedMsg) {
	if msg.err == nil {
		return
	}
	if _, _, _, ok := c.conv.Echo(msg.txn); ok {
		c.conv.SetState(msg.txn, conversation.Failed, textutil.Explain(msg.err))
	}
	c.host.Error("not saved: " + textutil.Explain(msg.err))
}

// Retry sends a failed message again with the same transaction ID, so that it cannot arrive
// twice; one that never reached the outbox is written now.
func (c *Model) Retry(txn string) tea.Cmd {
	body, emote, state, ok := c.conv.Echo(txn)
	if !ok || state != conversation.Failed {
		return nil
	}
	c.conv.SetState(txn, conversation.Queued, "")
	c.host.Info("retrying…")
	svc, key, o := c.svc, c.key, textOutgoing(c.room, c.item.UserID, body, emote, txn)
	if c.thread != "" { // one that never reached the outbox goes into the thread it was written in
		o.Room, o.Thread = c.threadRoom, c.thread
	}
	return c.call(func(ctx context.Context) tea.Msg {
		return enqueuedMsg{to: to{key}, txn: txn, err: retryOutgoing(ctx, svc, o)}
	})
}

// showOutbox adds the messages still in the outbox (from before a restart).
func (c *Model) showOutbox(msg outboxMsg) {
	if msg.err != nil {
		return
	}
	for _, o := range msg.entries {
		if o.Room != c.room && !(o.Room == "" && o.Target == c.item.UserID && c.item.Kind == contacts.KindContact) {
			continue
		}
		if _, _, _, ok := c.conv.Echo(o.TxnID); ok || o.Of != "" {
			continue // shown already; an edit, a deletion or a reaction changes a message shown
		}
		state, why := conversation.Queued, ""
		if o.Failed != "" {
			state, why = conversation.Failed, o.Failed
		}
		switch {
		case o.File != "":
			c.conv.AddFileEcho(o.TxnID, o.Body, 0, state)
		default:
			c.conv.AddReplyEcho(o.TxnID, o.Body, o.Emote, o.ReplyTo, state)
		}
		c.conv.SetState(o.TxnID, state, why)
	}
}

// DraftChanged tells the room we are typing, at most every typingEvery, while the composer
// has text; and that we stopped once it is empty. Not while editing.
func (c *Model) DraftChanged() tea.Cmd {
	if c.editing.EventID != "" || c.room == "" || c.item.Pending || c.opts.NoTyping {
		return nil
	}
	if strings.TrimSpace(c.host.Draft()) == "" {
		return c.StopTyping()
	}
	if now := c.opts.Now(); c.typingSent.IsZero() || now.Sub(c.typingSent) >= typingEvery {
		c.typingSent = now
		return c.setTyping(true)
	}
	return nil
}

// StopTyping tells the room we stopped typing, if we said we were: on send, on an emptied
// composer, on leaving the conversation.
func (c *Model) StopTyping() tea.Cmd {
	if c.typingSent.IsZero() || c.room == "" {
		return nil
	}
	c.typingSent = time.Time{}
	return c.setTyping(false)
}

// retryOutgoing requeues a failed message; one that never reached the outbox is written now.
func retryOutgoing(ctx context.Context, svc Sending, o matrixsvc.Outgoing) error {
	queued, err := svc.Outbox(ctx)
	if err != nil {
		return err
	}
	for _, q := range queued {
		if q.TxnID == o.TxnID {
			return svc.RetryOutgoing(ctx, o.TxnID)
		}
	}
	return svc.Enqueue(ctx, o)
}
