package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
	"duet/ui/contacts"
	"duet/ui/conversation"
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

	// One person, one conversation (R22): history pages come from histRoom; when it has no
	// more, from the next of older (the contact's older rooms, most recent first).
	histRoom id.RoomID
	older    []id.RoomID
	rooms    map[id.RoomID]bool // every room of the conversation (R22): live messages, reading
}

// olderRoom is the PrevToken that stands for "go on in this older room".
const olderRoom = "\x00room:"

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
	return m.loadChain(c.key, c.item.UserID)
}

func (m Model) loadChain(chat string, x id.UserID) tea.Cmd {
	svc := m.svc
	return m.call(func(ctx context.Context) tea.Msg {
		rooms, err := svc.Conversation(ctx, x)
		return chainMsg{chat: chat, rooms: rooms, err: err}
	})
}

// chainLoaded keeps the older rooms of a conversation to page into once the current one has no
// more history, and what the line between two rooms says.
func (m *Model) chainLoaded(msg chainMsg) {
	c := m.chats[msg.chat]
	if c == nil || msg.err != nil || c.room == "" {
		return
	}
	if len(msg.rooms) > 1 && len(c.rooms) <= 1 {
		c.readUpTo = "" // read again, now with the older rooms too
	}
	order := make([]id.RoomID, 0, len(msg.rooms))
	notes := map[id.RoomID]string{}
	c.rooms = map[id.RoomID]bool{}
	c.older = c.older[:0]
	for i, r := range msg.rooms {
		order = append(order, r.RoomID)
		c.rooms[r.RoomID] = true
		if i+1 < len(msg.rooms) && msg.rooms[i+1].Why == "upgraded" {
			notes[r.RoomID] = "room upgraded"
		}
		if r.RoomID != c.room && r.RoomID != c.histRoom {
			c.older = append(c.older, r.RoomID)
		}
	}
	c.conv.SetRooms(c.room, order, notes)
	if len(c.older) > 0 && (c.histRoom == "" || c.histRoom == c.room) {
		c.conv.ContinueBefore(olderRoom + string(c.older[0]))
	}
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
			c.conv.SetLoading()
			cmds = append(cmds, m.loadHistory(key, c.room, ""), m.checkEncrypted(c.room))
			cmds = append(cmds, m.loadChainOf(c))
		} else {
			c.conv.AddPage(nil, "") // nothing to load until the room exists or the invite is accepted
		}
	}
	if m.open != key {
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
	if c.room != "" || it.Pending || it.RoomID == "" || it.Kind == contacts.KindRoomInvite {
		return nil
	}
	c.room = it.RoomID
	cmds := []tea.Cmd{m.checkEncrypted(c.room)}
	if wasPending || !c.conv.Loaded() || c.conv.Len() == 0 {
		c.conv.SetLoading()
		cmds = append(cmds, m.loadHistory(c.key, c.room, ""))
	}
	cmds = append(cmds, m.loadChainOf(c)) // older rooms of the conversation (R22)
	return tea.Batch(cmds...)
}

// submit handles what was typed in the composer: a command or a message.
func (m *Model) submit(text string) tea.Cmd {
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
	if c.room == "" {
		if c.item.Kind != contacts.KindContact {
			m.status.SetError("this conversation has no room to send to")
			return nil
		}
		target = c.item.UserID
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
		c.conv.Confirm(o.TxnID, o.EventID)
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
		if _, _, _, ok := c.conv.Echo(o.TxnID); ok {
			continue
		}
		state, why := conversation.Queued, ""
		if o.Failed != "" {
			state, why = conversation.Failed, o.Failed
		}
		c.conv.AddEcho(o.TxnID, o.Body, o.Emote, state)
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
	if !msg.created {
		c.conv.SetLoading()
		cmds = append(cmds, m.loadHistory(c.key, c.room, ""))
	}
	return tea.Batch(cmds...)
}

func (m *Model) historyLoaded(msg historyMsg) {
	c := m.chats[msg.chat]
	if c == nil || c.room == "" {
		return
	}
	if c.histRoom == "" {
		c.histRoom = c.room
	}
	if msg.room != c.histRoom {
		return
	}
	if msg.err != nil {
		c.conv.LoadFailed()
		m.status.SetError(explain(msg.err))
		return
	}
	next := msg.next
	if next == "" && len(c.older) > 0 {
		next = olderRoom + string(c.older[0]) // go on in the conversation's older room
	}
	c.conv.AddPage(msg.msgs, next)
}

// loadOlderIfNeeded fetches the page before the oldest message when the top is in view.
func (m *Model) loadOlderIfNeeded() tea.Cmd {
	c := m.openChat()
	if c == nil || c.room == "" || !c.conv.NeedsOlder() {
		return nil
	}
	c.conv.SetLoading()
	token := c.conv.PrevToken()
	if room, ok := strings.CutPrefix(token, olderRoom); ok {
		c.histRoom, c.older = id.RoomID(room), c.older[1:]
		return m.loadHistory(c.key, c.histRoom, "")
	}
	if c.histRoom == "" {
		c.histRoom = c.room
	}
	return m.loadHistory(c.key, c.histRoom, token)
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
