package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
	"duet/ui/contacts"
	"duet/ui/conversation"
	"duet/ui/internal/merge"
)

// chat is one open-able conversation: a contact (keyed by user) or a group DM (keyed by room).
// It outlives switching to another contact, so loaded history and pending sends are kept.
type chat struct {
	key       string
	item      contacts.Item
	room      id.RoomID // "" until the DM room is known (R9-R11)
	encrypted bool
	encKnown  bool
	conv      conversation.Model

	trust      matrixsvc.PeerTrust // the contact's devices, for the header
	trustKnown bool
	trustSeq   int  // the fetch trust was last set from
	stale      bool // keys came for messages shown undecryptable while another chat was open

	resolving bool       // OpenDM is under way
	queue     []string   // local echoes waiting to be sent, in order (txn IDs)
	inflight  string     // the one being sent: one at a time keeps them in order
	readUpTo  id.EventID // the newest event we sent a read receipt for

	// One person, one conversation (R22): pager interleaves the history of every room of the
	// conversation, one page of one room at a time; nil until the chat has a room.
	pager    *merge.Pager
	rooms    map[id.RoomID]bool // every room of the conversation (R22): live messages, reading
	chainFor id.RoomID          // the contact's room when its rooms were last asked for
	jumpTo   id.EventID         // the message a search led to, until it is loaded and shown
	editing  matrixsvc.Message  // our message being edited in the composer (EventID "" = none)
	draft    string             // what the composer held when the edit started, back after it
	replyTo  matrixsvc.Message  // the message the composer's text answers (EventID "" = none)
	replyOf  string             // replyTo's text on one line, for the line above the composer

	typing     []id.UserID // who is typing in the conversation's rooms, as sync last said
	typingSent time.Time   // when we last told the room we are typing (zero: we are not)
}

// jumpPage is how many older messages are asked for at a time while going to a message.
const jumpPage = 200

// chainMsg brings the rooms of a contact's conversation.
type chainMsg struct {
	chat  string
	rooms []matrixsvc.ConversationRoom
	err   error
}

// loadChainOf asks for the rooms of a contact's conversation once its chat knows its room
// (opened, made by the outbox, brought by sync); other chats have none.
func (m Model) loadChainOf(c *chat) tea.Cmd {
	if c.item.Kind != contacts.KindContact || c.room == "" {
		return nil
	}
	c.chainFor = c.room
	return m.loadChain(c.key, c.item.UserID)
}

func (m Model) loadChain(chat string, x id.UserID) tea.Cmd {
	svc := m.svc
	return m.call(func(ctx context.Context) tea.Msg {
		rooms, err := svc.Conversation(ctx, x)
		return chainMsg{chat: chat, rooms: rooms, err: err}
	})
}

// chainLoaded takes in the rooms of a conversation: where the conversation now goes on (R5-R9,
// R23), the older rooms to page into, and what the line between two rooms says.
func (m *Model) chainLoaded(msg chainMsg) tea.Cmd {
	c := m.chats[msg.chat]
	if c == nil || msg.err != nil || c.room == "" {
		return nil
	}
	var cmds []tea.Cmd
	switch {
	case len(msg.rooms) > 0 && msg.rooms[0].Why == "" && msg.rooms[0].RoomID != c.room:
		// The conversation moved on: the room was upgraded (R23) or another became the one to
		// write to. Messages go there from now on.
		c.room = msg.rooms[0].RoomID
		c.encKnown = false
		cmds = append(cmds, m.checkEncrypted(c.room))
	case len(msg.rooms) > 0 && msg.rooms[0].Why != "" && slices.ContainsFunc(msg.rooms, func(r matrixsvc.ConversationRoom) bool {
		return r.RoomID == c.room && r.Why == "left by them"
	}):
		// They left the room we were writing to: the next message makes a new one (R9).
		c.room = ""
	}
	if len(msg.rooms) > 1 && len(c.rooms) <= 1 {
		c.readUpTo = "" // read again, now with the older rooms too
	}
	order := make([]id.RoomID, 0, len(msg.rooms))
	notes := map[id.RoomID]string{}
	c.rooms = map[id.RoomID]bool{}
	for i, r := range msg.rooms {
		order = append(order, r.RoomID)
		c.rooms[r.RoomID] = true
		if i+1 < len(msg.rooms) && msg.rooms[i+1].Why == "upgraded" {
			notes[r.RoomID] = "room upgraded"
		}
	}
	c.conv.SetRooms(c.room, order, notes)
	if c.pager == nil && c.room != "" {
		// The room came after the chat was shown (made by the first message sent): page
		// from it, and on into the older rooms.
		cmds = append(cmds, m.startHistory(c))
	}
	if c.pager != nil {
		for _, r := range msg.rooms {
			c.pager.AddRoom(r.RoomID, r.LastActivity)
		}
		if !c.pager.Loading() && c.conv.NeedsOlder() {
			c.pager.Want(historyPage) // the screen is not full yet
		}
		cmds = append(cmds, m.pageIn(c))
	}
	return tea.Batch(cmds...)
}

// pageIn shows what the conversation's pager can hand out now and asks for the page it needs
// next, if any.
func (m *Model) pageIn(c *chat) tea.Cmd {
	msgs, f := c.pager.Next()
	if len(msgs) > 0 || (f == nil && !c.pager.Loading()) {
		c.conv.AddPage(msgs, c.pager.More())
	}
	if f == nil {
		return m.jump(c)
	}
	c.conv.SetLoading()
	return m.loadHistory(c.key, f.Room, f.From)
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
	c.jumpTo = evt
	return tea.Batch(cmd, m.jump(c))
}

// jump goes on towards the message a search led to: shown once it is loaded, else the next
// older messages are asked for; when the conversation has no more, it says so.
func (m *Model) jump(c *chat) tea.Cmd {
	if c.jumpTo == "" || c.pager == nil || c.pager.Loading() || !c.conv.Loaded() {
		return nil
	}
	if c.conv.ShowMessage(c.jumpTo) {
		c.jumpTo = ""
		return nil
	}
	if !c.pager.More() {
		c.jumpTo = ""
		m.status.SetError("that message is no longer in this conversation")
		return nil
	}
	c.pager.Want(jumpPage)
	return m.pageIn(c)
}

// startHistory starts paging a chat's history from its room's newest page.
func (m *Model) startHistory(c *chat) tea.Cmd {
	c.pager = merge.New(c.room, historyPage)
	c.conv.SetLoading()
	return tea.Batch(m.pageIn(c), m.loadReceipts(c.key, c.room))
}

func (m Model) openChat() *chat { return m.chats[m.open] }

// openItem shows an item's conversation, creating its chat on first use; with focusIt the
// composer gets the keyboard.
func (m *Model) openItem(it contacts.Item, focusIt bool) tea.Cmd {
	key := it.Key()
	c := m.chats[key]
	var cmds []tea.Cmd
	known := c != nil
	if c == nil {
		c = &chat{key: key, item: it, conv: conversation.New(m.keys.Conversation, m.styles.Conversation, m.me, m.now)}
		c.conv.ShowImages(m.opts.InlineImages)
		if it.Kind == contacts.KindContact {
			c.conv.SetName(it.UserID, it.Name)
		}
		if it.Kind != contacts.KindRoomInvite && !it.Pending {
			c.room = it.RoomID
		}
		m.chats[key] = c
		if it.Kind != contacts.KindRoomInvite && !it.Pending {
			cmds = append(cmds, m.loadOutbox(key)) // what a crash or quit left unsent
		}
		if c.room != "" {
			cmds = append(cmds, m.startHistory(c), m.checkEncrypted(c.room), m.loadChainOf(c))
			if it.Kind == contacts.KindGroup {
				cmds = append(cmds, m.loadMemberNames(c))
			}
		} else {
			c.conv.AddPage(nil, false) // nothing to load until the room exists or the invite is accepted
		}
	}
	if m.open != key {
		if m.focus == focusPick {
			cmds = append(cmds, m.setFocus(focusComposer)) // the pick belongs to the conversation left
		}
		if left := m.openChat(); left != nil {
			left.conv.MarkUnread(0) // read now
		}
		c.conv.MarkUnread(it.Unread) // a line above the first message not read yet
		cmds = append(cmds, m.stopTyping(m.openChat()))
		m.cancelEdit(m.openChat()) // the text being edited belongs to the conversation left
		cmds = append(cmds, m.rememberOpen(key))
		if known { // shown before: a device may have come or been verified meanwhile
			cmds = append(cmds, m.fetchTrust(c))
		}
		if c.stale {
			cmds = append(cmds, m.reloadDecrypted(c))
		}
	}
	m.open = key
	m.contacts.Select(key)
	m.layout()
	if focusIt && !c.item.Pending {
		cmds = append(cmds, m.setFocus(focusComposer))
	} else if c.item.Pending {
		cmds = append(cmds, m.setFocus(focusContacts))
	}
	return tea.Batch(cmds...)
}

// updateChat takes in a fresh list row for a chat: the name, an invite that was accepted, a
// room that arrived through sync.
func (m *Model) updateChat(c *chat, it contacts.Item) tea.Cmd {
	wasPending := c.item.Pending
	c.item = it
	if it.Kind == contacts.KindContact {
		c.conv.SetName(it.UserID, it.Name)
	}
	if c.room != "" && it.Kind == contacts.KindContact && it.RoomID != c.room && it.RoomID != c.chainFor {
		// The list says the conversation goes on elsewhere now (an upgrade, R23), or nowhere
		// (they left, R9): the conversation's rooms say where messages go.
		c.chainFor = it.RoomID
		return m.loadChain(c.key, it.UserID)
	}
	if c.room != "" || it.Pending || it.RoomID == "" || it.Kind == contacts.KindRoomInvite {
		return nil
	}
	c.room = it.RoomID
	cmds := []tea.Cmd{m.checkEncrypted(c.room)}
	if c.pager == nil || wasPending || !c.conv.Loaded() || c.conv.Len() == 0 {
		cmds = append(cmds, m.startHistory(c))
	}
	cmds = append(cmds, m.loadChainOf(c)) // older rooms of the conversation (R22)
	return tea.Batch(cmds...)
}

// editLast starts editing our newest message in the composer (up in an empty composer, as
// in Element). It reports whether there was one.
func (m *Model) editLast() bool {
	c := m.openChat()
	if c == nil || c.room == "" {
		return false
	}
	msg, ok := c.conv.LastOwn()
	if !ok {
		return false
	}
	m.startEdit(c, msg)
	return true
}

// cancelEdit stops editing; the composer gets back what it held before.
func (m *Model) cancelEdit(c *chat) {
	if c != nil && c.editing.EventID != "" {
		c.editing = matrixsvc.Message{}
		m.composer.SetValue(c.draft)
		c.draft = ""
	}
}

// sendEdit shows the new text at once and sends the edit through the outbox.
func (m *Model) sendEdit(c *chat, text string) tea.Cmd {
	orig := c.editing
	c.editing = matrixsvc.Message{}
	if c.draft != "" { // what was being written before the edit comes back
		m.composer.SetValue(c.draft)
		c.draft = ""
	}
	if text == orig.Body {
		return nil // nothing changed
	}
	if strings.TrimSpace(text) == "" {
		// Emptied: a deletion, asked first (it cannot be undone).
		m.status.Ask("Delete your message? y: delete · other key: keep it")
		m.confirm, m.confirmNo = m.deleteMessage(c, orig), "kept"
		return nil
	}
	emote := orig.MsgType == string(event.MsgEmote)
	now := orig
	now.Body, now.HTML, now.Edited = text, matrixsvc.MarkdownHTML(text), true
	c.conv.Changed([]matrixsvc.Message{now})
	txn := m.newTxn()
	m.edits[txn] = c.key
	return m.enqueueEdit(orig.RoomID, orig.EventID, text, emote, txn)
}

// deleteMessage deletes our message: shown as deleted at once, the redaction sent through the
// outbox.
func (m *Model) deleteMessage(c *chat, orig matrixsvc.Message) tea.Cmd {
	return func() tea.Msg { return deleteMsg{chat: c.key, msg: orig} }
}

type deleteMsg struct {
	chat string
	msg  matrixsvc.Message
}

func (m *Model) deleteConfirmed(d deleteMsg) tea.Cmd {
	c := m.chats[d.chat]
	if c == nil {
		return nil
	}
	gone := d.msg
	gone.Body, gone.HTML, gone.Redacted, gone.Edited = "", "", true, false
	c.conv.Changed([]matrixsvc.Message{gone})
	txn := m.newTxn()
	m.edits[txn] = c.key
	return m.enqueueRedact(d.msg.RoomID, d.msg.EventID, txn)
}

// submit handles what was typed in the composer: a command or a message.
func (m *Model) submit(text string) tea.Cmd {
	c := m.openChat()
	stop := m.stopTyping(c)
	if c != nil && c.editing.EventID != "" {
		return tea.Batch(stop, m.sendEdit(c, text))
	}
	if c != nil && c.replyTo.EventID != "" && !strings.HasPrefix(text, "/") {
		return tea.Batch(stop, m.sendReply(c, text, false))
	}
	return tea.Batch(stop, m.submitText(text))
}

func (m *Model) submitText(text string) tea.Cmd {
	cmd, handled := m.command(text)
	if handled {
		return cmd
	}
	return m.send(text, false)
}

// send writes a message to the outbox and shows it at once (local echo). The service sends
// it, in order, once the room exists (R11), and reports back with OutgoingChanged events; the
// message survives a crash in between.
func (m *Model) send(body string, emote bool) tea.Cmd {
	c := m.openChat()
	if c == nil || c.item.Pending {
		m.status.SetError("open a conversation first")
		return nil
	}
	var target id.UserID
	if c.item.Kind == contacts.KindContact {
		target = c.item.UserID // the outbox sends where the conversation is when it goes (R9, R23)
	} else if c.room == "" {
		m.status.SetError("this conversation has no room to send to")
		return nil
	}
	txn := m.newTxn()
	c.conv.AddEcho(txn, body, emote, conversation.Queued)
	return m.enqueue(c.key, c.room, target, body, emote, txn)
}

// chatOfTxn finds the chat showing a local echo.
func (m *Model) chatOfTxn(txn string) *chat {
	for _, c := range m.chats {
		if _, _, _, ok := c.conv.Echo(txn); ok {
			return c
		}
	}
	return nil
}

// outgoingChanged follows a message through the outbox.
func (m *Model) outgoingChanged(o matrixsvc.OutgoingChanged) tea.Cmd {
	if _, isEdit := m.edits[o.TxnID]; isEdit {
		switch o.State {
		case matrixsvc.OutgoingSent:
			delete(m.edits, o.TxnID)
		case matrixsvc.OutgoingFailed:
			delete(m.edits, o.TxnID)
			m.status.SetError("edit or deletion not done: " + explain(o.Err))
		}
		return nil
	}
	c := m.chatOfTxn(o.TxnID)
	if c == nil {
		return nil
	}
	var cmd tea.Cmd
	if c.room == "" && o.Room != "" { // the outbox opened the DM (R21)
		c.room = o.Room
		cmd = tea.Batch(m.checkEncrypted(c.room), m.refreshOverview())
		cmd = tea.Batch(cmd, m.loadChainOf(c)) // older rooms of the conversation (R22)
	}
	switch o.State {
	case matrixsvc.OutgoingSending:
		c.conv.SetState(o.TxnID, conversation.Sending, "")
	case matrixsvc.OutgoingSent:
		c.conv.Confirm(o.TxnID, o.EventID, o.Room)
	case matrixsvc.OutgoingQueued:
		why := ""
		if o.Err != nil {
			why = "waiting: " + explain(o.Err)
		}
		c.conv.SetState(o.TxnID, conversation.Queued, why)
	case matrixsvc.OutgoingFailed:
		why := explain(o.Err)
		c.conv.SetState(o.TxnID, conversation.Failed, why)
		m.status.SetError("not sent: " + why)
	}
	return cmd
}

// enqueued reports whether the message reached the outbox: if it did not (the disk), it is
// shown as failed and ctrl+r tries again.
func (m *Model) enqueued(msg enqueuedMsg) {
	if msg.err == nil {
		return
	}
	if c := m.chatOfTxn(msg.txn); c != nil {
		c.conv.SetState(msg.txn, conversation.Failed, explain(msg.err))
	}
	m.status.SetError("not saved: " + explain(msg.err))
}

// retry sends a failed message again with the same transaction ID, so that it cannot arrive
// twice.
func (m *Model) retry(txn string) tea.Cmd {
	c := m.openChat()
	if c == nil {
		return nil
	}
	body, emote, state, ok := c.conv.Echo(txn)
	if !ok || state != conversation.Failed {
		return nil
	}
	c.conv.SetState(txn, conversation.Queued, "")
	m.status.SetInfo("retrying…")
	return m.retryOutgoing(c.key, c.room, c.item.UserID, body, emote, txn)
}

// showOutbox adds the messages still in the outbox (from before a restart) to a chat.
func (m *Model) showOutbox(msg outboxMsg) {
	c := m.chats[msg.chat]
	if c == nil || msg.err != nil {
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

func (m *Model) dmOpened(msg dmOpenedMsg) tea.Cmd {
	c := m.chats[msg.chat]
	if c == nil {
		return nil
	}
	var notRecorded *matrixsvc.NotRecordedError
	switch {
	case msg.err != nil && (msg.room == "" || !errors.As(msg.err, &notRecorded)):
		m.status.SetError(explain(msg.err))
		return nil
	case msg.err != nil:
		m.status.SetError("warning: " + explain(msg.err))
	}
	if c.room != "" { // sync or the outbox brought it first
		return nil
	}
	c.room = msg.room
	cmds := []tea.Cmd{m.checkEncrypted(c.room), m.refreshOverview()}
	cmds = append(cmds, m.loadChainOf(c)) // older rooms of the conversation (R22)
	if !msg.created || c.pager == nil {
		cmds = append(cmds, m.startHistory(c))
	}
	return tea.Batch(cmds...)
}

func (m *Model) historyLoaded(msg historyMsg) tea.Cmd {
	c := m.chats[msg.chat]
	if c == nil || c.pager == nil || !c.pager.Has(msg.room) {
		return nil
	}
	if msg.err != nil {
		c.pager.Failed(msg.room)
		c.conv.LoadFailed()
		m.status.SetError(explain(msg.err))
		return nil
	}
	c.pager.Add(msg.room, msg.msgs, msg.next)
	return m.pageIn(c)
}

// loadOlderIfNeeded asks for the messages before the oldest shown when the top is in view.
func (m *Model) loadOlderIfNeeded() tea.Cmd {
	c := m.openChat()
	if c == nil || c.pager == nil || c.pager.Loading() || !c.conv.NeedsOlder() {
		return nil
	}
	c.pager.Want(historyPage)
	return m.pageIn(c)
}

// markOpenRead marks the open conversation read up to its newest message when the newest
// message is in view: opening a conversation, or a message arriving while it is shown, clears
// its unread badge, here and in other clients.
func (m *Model) markOpenRead() tea.Cmd {
	c := m.openChat()
	if c == nil || c.room == "" || c.item.Pending || !c.conv.AtBottom() || m.showHelp || m.dialog.Active() {
		return nil
	}
	newest := c.conv.NewestEventID()
	if newest == "" || newest == c.readUpTo {
		return nil
	}
	c.readUpTo = newest
	var x id.UserID
	if len(c.rooms) > 1 { // reading the conversation reads its other rooms too
		x = c.item.UserID
	}
	return m.markRead(c.room, newest, x)
}

// appendLive adds messages from sync to the chats showing their rooms.
func (m *Model) appendLive(msgs []matrixsvc.Message) {
	if len(msgs) == 0 {
		return
	}
	for _, c := range m.chats {
		if c.room == "" {
			continue
		}
		var mine []matrixsvc.Message
		for _, msg := range msgs {
			// The conversation's older rooms too (R22): someone may still write in one.
			if msg.RoomID == c.room || c.rooms[msg.RoomID] {
				mine = append(mine, msg)
			}
		}
		if len(mine) > 0 {
			c.conv.Append(mine)
		}
	}
}

// readLive takes in how far others have read, into the chats showing those rooms: the
// contact's receipt in the chat's current room marks our newest message they read.
func (m *Model) readLive(read map[id.RoomID]map[id.UserID]id.EventID) {
	for room, users := range read {
		for _, c := range m.chats {
			if c.item.Kind == contacts.KindContact && room == c.room {
				if evt, ok := users[c.item.UserID]; ok {
					c.conv.SetRead(evt)
				}
			}
		}
	}
}

func (m *Model) receiptsLoaded(msg receiptsMsg) {
	c := m.chats[msg.chat]
	if c == nil || c.room != msg.room || c.item.Kind != contacts.KindContact {
		return
	}
	if evt, ok := msg.read[c.item.UserID]; ok {
		c.conv.SetRead(evt)
	}
}

// typingLive takes in who is typing, per room, into the chats showing those rooms.
func (m *Model) typingLive(typing map[id.RoomID][]id.UserID) {
	for room, users := range typing {
		for _, c := range m.chats {
			if room == c.room || c.rooms[room] {
				c.typing = users
			}
		}
	}
}

// composerChanged tells the room we are typing, at most every typingEvery, while the composer
// has text; and that we stopped once it is empty.
func (m *Model) composerChanged(c *chat) tea.Cmd {
	if c == nil || c.room == "" || c.item.Pending || m.opts.NoTyping {
		return nil
	}
	if strings.TrimSpace(m.composer.Value()) == "" {
		return m.stopTyping(c)
	}
	if now := m.now(); c.typingSent.IsZero() || now.Sub(c.typingSent) >= typingEvery {
		c.typingSent = now
		return m.setTyping(c.room, true)
	}
	return nil
}

// stopTyping tells the room we stopped typing, if we said we were: on send, on an emptied
// composer, on leaving the conversation.
func (m *Model) stopTyping(c *chat) tea.Cmd {
	if c == nil || c.typingSent.IsZero() || c.room == "" {
		return nil
	}
	c.typingSent = time.Time{}
	return m.setTyping(c.room, false)
}

// changedLive shows edits and deletions of messages that chats show.
func (m *Model) changedLive(msgs []matrixsvc.Message) {
	if len(msgs) == 0 {
		return
	}
	for _, c := range m.chats {
		c.conv.Changed(msgs)
	}
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
	return m.answerInvite(accept, it.Name, rooms)
}

func (m *Model) inviteDone(msg inviteDoneMsg) tea.Cmd {
	var cmd tea.Cmd
	if msg.ov != nil {
		// The list changes in the same step as the notice: an Enter pressed right after
		// "joined" opens the conversation, not the invite that was.
		m.overviewSeq++
		cmd = m.applyOverview(overviewMsg{seq: m.overviewSeq, ov: *msg.ov})
	}
	switch {
	case msg.err != nil:
		m.status.SetError(explain(msg.err))
	case msg.accepted:
		m.status.SetInfo("joined the conversation with " + msg.name)
	default:
		m.status.SetInfo("declined the invite from " + msg.name)
	}
	if cmd == nil {
		return m.refreshOverview()
	}
	return cmd
}
