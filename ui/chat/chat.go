// Package chat is one conversation on screen: a contact (keyed by user) or a group DM (keyed by
// room). A Model owns the conversation's timeline and its paging across the conversation's rooms
// (R22), the picked message and what is done to it (reply, reaction, edit, deletion), the local
// echoes of what we send, read marks, typing, member names and the trust shown in its header.
//
// The root model keeps one Model per conversation opened, hands it the messages whose ChatKey
// is its Key, and asks it for the lines of the right pane. What the conversation needs from
// the screen around it (the status bar, the composer's text, the clipboard) it asks through
// Host.
package chat

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
	"duet/ui/contacts"
	"duet/ui/conversation"
	"duet/ui/internal/merge"
	"duet/ui/keys"
	"duet/ui/styles"
)

// Host is what a conversation asks of the screen around it. The root model implements it.
type Host interface {
	Error(text string)                           // an error in the status bar
	Info(text string)                            // a notice in the status bar
	Ask(question string, yes tea.Cmd, no string) // a y/n question: yes runs on y, no is said otherwise
	Draft() string                               // the composer's text
	SetDraft(text string)                        // replaces the composer's text
	Copy(text string) tea.Cmd                    // puts text on the clipboard (with the next frame)
	RefreshList() tea.Cmd                        // reads the contacts list again
	NewTxn() string                              // a transaction ID for one local message
	ImageID() uint32                             // a fresh kitty graphics image id
}

// Options are the settings every conversation shares.
type Options struct {
	Keys      keys.KeyMap
	Styles    styles.Styles
	Me        id.UserID
	Now       func() time.Time
	Context   context.Context // bounds every request
	Images    bool            // draw images in the timeline
	Kitty     bool            // with the kitty graphics protocol
	NoTyping  bool            // never tell others that we type
	Downloads string          // where saved files go
	OpenDir   string          // where files to open are fetched
}

// Model is one conversation. It outlives switching to another one, so loaded history and
// pending sends are kept. Create it with New.
type Model struct {
	svc  Service
	host Host
	opts Options

	key       string
	item      contacts.Item
	room      id.RoomID // "" until the DM room is known (R9-R11)
	encrypted bool
	encKnown  bool
	conv      conversation.Model // what is on screen: the conversation's timeline, or a thread's

	// A thread shown instead of the conversation (thread.go): main keeps the conversation's
	// timeline meanwhile.
	thread      id.EventID // its root, "" when the conversation is shown
	threadRoom  id.RoomID
	threadLimit int  // how many replies are asked for
	threadWait  bool // the conversation's history is paged back to find the root
	threadPages int  // pages asked for to find it
	main        conversation.Model

	trust        matrixsvc.PeerTrust // the contact's devices, for the header
	trustKnown   bool
	trustSeq     int  // the last trust fetch asked
	trustApplied int  // the fetch the trust shown comes from: older answers are dropped
	stale        bool // keys came for messages shown undecryptable while another chat was open

	resolving bool            // OpenDM is under way
	readUpTo  id.EventID      // the newest event we sent a read receipt for
	edits     map[string]bool // our edits, deletions and reactions in the outbox (txn IDs)

	// One person, one conversation (R22): pager interleaves the history of every room of the
	// conversation, one page of one room at a time; nil until the chat has a room.
	pager    *merge.Pager
	rooms    map[id.RoomID]bool // every room of the conversation (R22): live messages, reading
	chainFor id.RoomID          // the contact's room when its rooms were last asked for
	jumpTo   id.EventID         // the message a search led to, until it is loaded and shown

	editing matrixsvc.Message // our message being edited in the composer (EventID "" = none)
	draft   string            // what the composer held when the edit started, back after it
	replyTo matrixsvc.Message // the message the composer's text answers (EventID "" = none)
	replyOf string            // replyTo's text on one line, for the line above the composer
	react   *reacting         // a reaction being typed for the picked message
	link    lastLink          // the link o opened last

	typing     []id.UserID // who is typing in the conversation's rooms, as sync last said
	typingSent time.Time   // when we last told the room we are typing (zero: we are not)
}

// New makes the conversation of a list row. Start loads what it needs.
func New(svc Service, host Host, opts Options, it contacts.Item) *Model {
	c := &Model{svc: svc, host: host, opts: opts, key: it.Key(), item: it, edits: map[string]bool{},
		conv: conversation.New(opts.Keys.Conversation, opts.Styles.Conversation, opts.Me, opts.Now)}
	c.conv.ShowImages(opts.Images)
	c.conv.SetThreadKey(opts.Keys.Pick.Thread.Help().Key)
	if it.Kind == contacts.KindContact {
		c.conv.SetName(it.UserID, it.Name)
	}
	if it.Kind != contacts.KindRoomInvite && !it.Pending {
		c.room = it.RoomID
	}
	return c
}

// SetStyles draws the conversation with st from now on.
func (c *Model) SetStyles(st styles.Styles) {
	c.opts.Styles = st
	c.conv.SetStyles(st.Conversation)
}

// Start loads a new conversation: what a crash or quit left unsent, its history, whether it is
// encrypted, its other rooms and, in a group, its members' names.
func (c *Model) Start() tea.Cmd {
	var cmds []tea.Cmd
	if c.item.Kind != contacts.KindRoomInvite && !c.item.Pending {
		cmds = append(cmds, c.loadOutbox())
	}
	if c.room == "" {
		c.tl().AddPage(nil, false) // nothing to load until the room exists or the invite is accepted
		return tea.Batch(cmds...)
	}
	cmds = append(cmds, c.startHistory(), c.checkEncrypted(), c.loadChainOf())
	if c.item.Kind == contacts.KindGroup {
		cmds = append(cmds, c.loadMemberNames())
	}
	return tea.Batch(cmds...)
}

// Key is the conversation's key in the list (contacts.Item.Key).
func (c *Model) Key() string { return c.key }

// Item is the conversation's list row, as last given.
func (c *Model) Item() contacts.Item { return c.item }

// Room is the room messages go to ("" until it is known).
func (c *Model) Room() id.RoomID { return c.room }

// Shows reports whether a message of room belongs in this conversation (R22: its older rooms
// too).
func (c *Model) Shows(room id.RoomID) bool { return room != "" && (room == c.room || c.rooms[room]) }

// Timeline is the conversation's timeline.
func (c *Model) Timeline() *conversation.Model { return &c.conv }

// Editing reports whether one of our messages is being edited in the composer.
func (c *Model) Editing() bool { return c.editing.EventID != "" }

// Replying reports whether the composer's text answers a message.
func (c *Model) Replying() bool { return c.replyTo.EventID != "" }

// Jumping reports whether a message a search led to is still being looked for.
func (c *Model) Jumping() bool { return c.jumpTo != "" }

// Resolving reports whether the DM room is being found or made.
func (c *Model) Resolving() bool { return c.resolving }

// SetSize gives the timeline its size.
func (c *Model) SetSize(w, h int) { c.each(func(t *conversation.Model) { t.SetSize(w, h) }) }

// SetItem takes in a fresh list row: the name, an invite that was accepted, a room that
// arrived through sync.
func (c *Model) SetItem(it contacts.Item) tea.Cmd {
	wasPending := c.item.Pending
	c.item = it
	if it.Kind == contacts.KindContact {
		c.each(func(t *conversation.Model) { t.SetName(it.UserID, it.Name) })
	}
	if c.room != "" && it.Kind == contacts.KindContact && it.RoomID != c.room && it.RoomID != c.chainFor {
		// The list says the conversation goes on elsewhere now (an upgrade, R23), or nowhere
		// (they left, R9): the conversation's rooms say where messages go.
		c.chainFor = it.RoomID
		return c.loadChain()
	}
	if c.room != "" || it.Pending || it.RoomID == "" || it.Kind == contacts.KindRoomInvite {
		return nil
	}
	c.room = it.RoomID
	cmds := []tea.Cmd{c.checkEncrypted()}
	if c.pager == nil || wasPending || !c.tl().Loaded() || c.tl().Len() == 0 {
		cmds = append(cmds, c.startHistory())
	}
	cmds = append(cmds, c.loadChainOf()) // older rooms of the conversation (R22)
	return tea.Batch(cmds...)
}

// Enter is the conversation being shown: a line above the first of unread messages; when it
// was shown before, its trust again (a device may have come or been verified meanwhile) and
// the messages that became readable while it was not.
func (c *Model) Enter(unread int, shownBefore bool) tea.Cmd {
	c.tl().MarkUnread(unread)
	var cmds []tea.Cmd
	if shownBefore {
		cmds = append(cmds, c.FetchTrust())
	}
	if c.stale {
		cmds = append(cmds, c.reloadDecrypted())
	}
	return tea.Batch(cmds...)
}

// Leave is another conversation being shown instead: read now, no longer typing, and the text
// being edited goes back to what it was.
func (c *Model) Leave() tea.Cmd {
	c.tl().MarkUnread(0)
	cmd := c.StopTyping()
	c.CancelEdit()
	return cmd
}

// Scroll moves the timeline by n lines (up when negative).
func (c *Model) Scroll(n int) {
	if n < 0 {
		c.conv.ScrollUp(-n)
	} else {
		c.conv.ScrollDown(n)
	}
}

// HandleKey handles a key of the timeline (paging, bottom, retry).
func (c *Model) HandleKey(k tea.KeyPressMsg) tea.Cmd {
	var cmd tea.Cmd
	cmd = c.conv.Update(k)
	return cmd
}

// Update handles a message for this conversation (see Msg).
func (c *Model) Update(msg Msg) tea.Cmd {
	switch msg := msg.(type) {
	case historyMsg:
		return c.historyLoaded(msg)
	case chainMsg:
		return c.chainLoaded(msg)
	case receiptsMsg:
		c.receiptsLoaded(msg)
	case memberNamesMsg:
		c.memberNamesLoaded(msg)
	case encryptedMsg:
		return c.encryptionKnown(msg)
	case trustMsg:
		c.trustLoaded(msg)
	case redecryptedMsg:
		c.redecryptedLoaded(msg)
	case outboxMsg:
		c.showOutbox(msg)
	case enqueuedMsg:
		c.enqueued(msg)
	case dmOpenedMsg:
		return c.dmOpened(msg)
	case deleteMsg:
		return c.deleteConfirmed(msg)
	case endPollMsg:
		return c.endPollConfirmed(msg)
	case imageMsg:
		c.pictureCame(msg)
	case mediaDoneMsg:
		c.mediaDone(msg)
	case linkOpenedMsg:
		c.linkOpened(msg)
	case threadMsg:
		return c.threadLoaded(msg)
	}
	return nil
}

// Synced takes in what a sync brought for this conversation: messages, edits and deletions,
// who types, how far the contact read; open says whether it is on screen (the messages that
// became readable are read again now, else when it is next shown).
func (c *Model) Synced(evt matrixsvc.SyncApplied, open bool) tea.Cmd {
	c.appendLive(evt.Messages)
	if len(evt.Changed) > 0 {
		c.each(func(t *conversation.Model) { t.Changed(evt.Changed) })
	}
	for room, users := range evt.Typing {
		if c.Shows(room) {
			c.typing = users
		}
	}
	if c.item.Kind == contacts.KindContact && c.room != "" {
		if evt, ok := evt.Read[c.room][c.item.UserID]; ok {
			c.tl().SetRead(evt)
		}
	}
	return c.redecrypted(evt.Redecrypted, open)
}

// appendLive adds the messages of the conversation's rooms (R22: its older rooms too, where
// someone may still write).
func (c *Model) appendLive(msgs []matrixsvc.Message) {
	if c.room == "" || len(msgs) == 0 {
		return
	}
	var mine []matrixsvc.Message
	for _, msg := range msgs {
		if c.Shows(msg.RoomID) {
			mine = append(mine, msg)
		}
	}
	if len(mine) > 0 {
		c.tl().Append(mine)
		c.appendThread(mine)
	}
}

// SetBlocked shows the contact as blocked or not, before the list says so.
func (c *Model) SetBlocked(on bool) { c.item.Blocked = on }

// SetResolving says the DM room is being found or made for this conversation.
func (c *Model) SetResolving() { c.resolving = true }
