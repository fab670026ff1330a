package chat

import (
	"context"
	"errors"
	"slices"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
	"duet/ui/contacts"
	"duet/ui/internal/merge"
	"duet/ui/internal/textutil"
)

// jumpPage is how many older messages are asked for at a time while going to a message.
const jumpPage = 200

// reloadPages bounds how far back a conversation is re-read when keys arrive for its messages.
const reloadPages = 20

// chainLoaded takes in the rooms of a conversation: where the conversation now goes on (R5-R9,
// R23), the older rooms to page into, and what the line between two rooms says.
func (c *Model) chainLoaded(msg chainMsg) tea.Cmd {
	if msg.err != nil || c.room == "" {
		return nil
	}
	cmd := c.followRooms(msg.rooms)
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
	c.tl().SetRooms(c.room, order, notes)
	cmds := []tea.Cmd{cmd}
	if c.pager == nil && c.room != "" {
		// The room came after the chat was shown (made by the first message sent): page
		// from it, and on into the older rooms.
		cmds = append(cmds, c.startHistory())
	}
	if c.pager != nil {
		for _, r := range msg.rooms {
			c.pager.AddRoom(r.RoomID, r.LastActivity)
		}
		if !c.pager.Loading() && c.tl().NeedsOlder() {
			c.pager.Want(historyPage) // the screen is not full yet
		}
		cmds = append(cmds, c.pageIn())
	}
	return tea.Batch(cmds...)
}

// followRooms moves the conversation to the room it goes on in: another room became the one
// to write to (an upgrade, R23), or they left ours and the next message makes a new one (R9).
func (c *Model) followRooms(rooms []matrixsvc.ConversationRoom) tea.Cmd {
	switch {
	case len(rooms) > 0 && rooms[0].Why == "" && rooms[0].RoomID != c.room:
		c.room = rooms[0].RoomID
		c.encKnown = false
		return c.checkEncrypted()
	case len(rooms) > 0 && rooms[0].Why != "" && slices.ContainsFunc(rooms, func(r matrixsvc.ConversationRoom) bool {
		return r.RoomID == c.room && r.Why == "left by them"
	}):
		c.room = ""
	}
	return nil
}

// pageIn shows what the conversation's pager can hand out now and asks for the page it needs
// next, if any.
func (c *Model) pageIn() tea.Cmd {
	msgs, f := c.pager.Next()
	if len(msgs) > 0 || (f == nil && !c.pager.Loading()) {
		c.tl().AddPage(msgs, c.pager.More())
	}
	if f == nil {
		return c.jump()
	}
	c.tl().SetLoading()
	return c.loadHistory(f.Room, f.From)
}

// JumpTo shows the message evt (a search result), paging back through the history until it
// is loaded.
func (c *Model) JumpTo(evt id.EventID) tea.Cmd {
	c.jumpTo = evt
	return c.jump()
}

// jump goes on towards the message a search led to: shown once it is loaded, else the next
// older messages are asked for; when the conversation has no more, it says so.
func (c *Model) jump() tea.Cmd {
	if c.jumpTo == "" || c.pager == nil || c.pager.Loading() || !c.tl().Loaded() {
		return nil
	}
	if c.tl().ShowMessage(c.jumpTo) {
		c.jumpTo = ""
		return nil
	}
	if !c.pager.More() {
		c.jumpTo = ""
		c.host.Error("that message is no longer in this conversation")
		return nil
	}
	c.pager.Want(jumpPage)
	return c.pageIn()
}

// startHistory starts paging the history from the room's newest page.
func (c *Model) startHistory() tea.Cmd {
	c.pager = merge.New(c.room, historyPage)
	c.tl().SetLoading()
	return tea.Batch(c.pageIn(), c.loadReceipts())
}

func (c *Model) historyLoaded(msg historyMsg) tea.Cmd {
	if c.pager == nil || !c.pager.Has(msg.room) {
		return nil
	}
	if msg.err != nil {
		c.pager.Failed(msg.room)
		c.tl().LoadFailed()
		c.host.Error(textutil.Explain(msg.err))
		return nil
	}
	c.pager.Add(msg.room, msg.msgs, msg.next)
	cmd := c.pageIn()
	if c.threadWait && !c.pager.Loading() {
		// The page looked for the thread's root: read the thread again.
		c.threadWait = false
		return tea.Batch(cmd, c.loadThread())
	}
	return cmd
}

// LoadOlderIfNeeded asks for the messages before the oldest shown when the top is in view.
func (c *Model) LoadOlderIfNeeded() tea.Cmd {
	if c.thread != "" {
		return c.olderInThread()
	}
	if c.pager == nil || c.pager.Loading() || !c.tl().NeedsOlder() {
		return nil
	}
	c.pager.Want(historyPage)
	return c.pageIn()
}

// MarkRead marks the conversation read up to its newest message when the newest message is
// in view: opening a conversation, or a message arriving while it is shown, clears its unread
// badge, here and in other clients. The root calls it only while the conversation is seen.
func (c *Model) MarkRead() tea.Cmd {
	if c.room == "" || c.item.Pending || !c.tl().AtBottom() {
		return nil
	}
	newest := c.tl().NewestEventID()
	if newest == "" || newest == c.readUpTo {
		return nil
	}
	c.readUpTo = newest
	var x id.UserID
	if len(c.rooms) > 1 { // reading the conversation reads its other rooms too
		x = c.item.UserID
	}
	return c.markRead(c.room, newest, x)
}

func (c *Model) receiptsLoaded(msg receiptsMsg) {
	if c.room != msg.room || c.item.Kind != contacts.KindContact {
		return
	}
	if evt, ok := msg.read[c.item.UserID]; ok {
		c.tl().SetRead(evt)
	}
}

func (c *Model) memberNamesLoaded(msg memberNamesMsg) {
	for u, name := range msg.names {
		if u != c.opts.Me {
			c.tl().SetName(u, name)
		}
	}
}

func (c *Model) encryptionKnown(msg encryptedMsg) tea.Cmd {
	if c.room != msg.room {
		return nil
	}
	c.encrypted, c.encKnown = msg.on, true
	return c.FetchTrust()
}

// FetchTrust asks whether the person of an encrypted DM is verified.
func (c *Model) FetchTrust() tea.Cmd {
	if c.item.Kind != contacts.KindContact || c.room == "" || !c.encKnown || !c.encrypted {
		return nil
	}
	c.trustSeq++
	seq, user, svc, key := c.trustSeq, c.item.UserID, c.svc, c.key
	return c.call(func(ctx context.Context) tea.Msg {
		t, err := svc.PeerTrust(ctx, user)
		return trustMsg{to: to{key}, seq: seq, trust: t, err: err}
	})
}

func (c *Model) trustLoaded(msg trustMsg) {
	if msg.err != nil || msg.seq <= c.trustApplied {
		return // the header says nothing rather than something wrong; it is asked again on open
	}
	c.trust, c.trustKnown, c.trustApplied = msg.trust, true, msg.seq
}

// redecrypted re-reads the messages of rooms whose keys arrived: now when the conversation is
// open, else when it is next shown.
func (c *Model) redecrypted(rooms []id.RoomID, open bool) tea.Cmd {
	if c.room == "" || !slices.Contains(rooms, c.room) {
		return nil
	}
	if !open {
		c.stale = true
		return nil
	}
	return c.reloadDecrypted()
}

// reloadDecrypted reads the history again, newest first, until every message shown as
// undecryptable has been seen again.
func (c *Model) reloadDecrypted() tea.Cmd {
	c.stale = false
	want := c.tl().Undecrypted()
	if len(want) == 0 {
		return nil
	}
	key, room, svc := c.key, c.room, c.svc
	return c.call(func(ctx context.Context) tea.Msg {
		found, err := findEvents(ctx, svc, room, want)
		return redecryptedMsg{to: to{key}, room: room, msgs: found, err: err}
	})
}

// findEvents pages back through room until every event of want is found (or reloadPages).
func findEvents(ctx context.Context, svc History, room id.RoomID, want []id.EventID) ([]matrixsvc.Message, error) {
	missing := make(map[id.EventID]bool, len(want))
	for _, evt := range want {
		missing[evt] = true
	}
	var found []matrixsvc.Message
	from := ""
	for range reloadPages {
		msgs, next, err := svc.History(ctx, room, from, historyPage)
		if err != nil {
			return found, err
		}
		for _, msg := range msgs {
			if missing[msg.EventID] {
				delete(missing, msg.EventID)
				found = append(found, msg)
			}
		}
		if len(missing) == 0 || next == "" {
			break
		}
		from = next
	}
	return found, nil
}

type redecryptedMsg struct {
	to
	room id.RoomID
	msgs []matrixsvc.Message
	err  error
}

func (c *Model) redecryptedLoaded(msg redecryptedMsg) {
	if c.room != msg.room {
		return
	}
	c.tl().Redecrypted(msg.msgs)
	if msg.err != nil {
		c.host.Error("could not read the decrypted messages: " + textutil.Explain(msg.err))
	}
}

// dmOpened takes in the DM room OpenDM found or made.
func (c *Model) dmOpened(msg dmOpenedMsg) tea.Cmd {
	var notRecorded *matrixsvc.NotRecordedError
	switch {
	case msg.err != nil && (msg.room == "" || !errors.As(msg.err, &notRecorded)):
		c.host.Error(textutil.Explain(msg.err))
		return nil
	case msg.err != nil:
		c.host.Error("warning: " + textutil.Explain(msg.err))
	}
	if c.room != "" { // sync or the outbox brought it first
		return nil
	}
	c.room = msg.room
	cmds := []tea.Cmd{c.checkEncrypted(), c.host.RefreshList()}
	cmds = append(cmds, c.loadChainOf()) // older rooms of the conversation (R22)
	if !msg.created || c.pager == nil {
		cmds = append(cmds, c.startHistory())
	}
	return tea.Batch(cmds...)
}
