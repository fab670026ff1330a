package chat

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
	"duet/ui/contacts"
	"duet/ui/internal/request"
)

// History is what a conversation reads: its pages, its rooms, receipts, names, encryption.
type History interface {
	History(ctx context.Context, room id.RoomID, from string, limit int) ([]matrixsvc.Message, string, error)
	ThreadMessages(ctx context.Context, room id.RoomID, root id.EventID, limit int) (msgs []matrixsvc.Message, rootFound, more bool, err error)
	Conversation(ctx context.Context, x id.UserID) ([]matrixsvc.ConversationRoom, error)
	Receipts(ctx context.Context, room id.RoomID) (map[id.UserID]id.EventID, error)
	MemberNames(ctx context.Context, room id.RoomID) (map[id.UserID]string, error)
	RoomEncrypted(ctx context.Context, room id.RoomID) bool
	Download(ctx context.Context, m *matrixsvc.Media, max int64) ([]byte, error)
	SaveMedia(ctx context.Context, m *matrixsvc.Media, dir string) (string, error)
	OpenMedia(ctx context.Context, m *matrixsvc.Media, dir string) (string, error)
}

// Sending is what a conversation writes: messages through the outbox, the DM room, typing and
// read marks.
type Sending interface {
	Enqueue(ctx context.Context, o matrixsvc.Outgoing) error
	Outbox(ctx context.Context) ([]matrixsvc.Outgoing, error)
	RetryOutgoing(ctx context.Context, txnID string) error
	OpenDM(ctx context.Context, x id.UserID) (id.RoomID, bool, error)
	SetTyping(ctx context.Context, room id.RoomID, typing bool, timeout time.Duration) error
	MarkRead(ctx context.Context, room id.RoomID, eventID id.EventID) error
	MarkConversationRead(ctx context.Context, x id.UserID) error
}

// Trust is what the header shows of the contact's devices.
type Trust interface {
	PeerTrust(ctx context.Context, user id.UserID) (matrixsvc.PeerTrust, error)
}

// Service is everything a conversation asks the Matrix side.
type Service interface {
	History
	Sending
	Trust
}

// historyPage is how many messages one History request asks for.
const historyPage = 50

// typingTimeout is how long "typing" lasts at the server unless said again; typingEvery is
// how often it is said again while the composer changes.
const (
	typingTimeout = 10 * time.Second
	typingEvery   = 5 * time.Second
)

// Msg is a message for one conversation: the root hands it to the Model whose Key it names.
type Msg interface{ ChatKey() string }

// to addresses a message to the conversation of a key.
type to struct{ chat string }

func (t to) ChatKey() string { return t.chat }

// The messages of a conversation's Cmds.
type (
	historyMsg struct {
		to
		room id.RoomID
		msgs []matrixsvc.Message
		next string
		err  error
	}
	chainMsg struct {
		to
		rooms []matrixsvc.ConversationRoom
		err   error
	}
	receiptsMsg struct {
		to
		room id.RoomID
		read map[id.UserID]id.EventID
	}
	memberNamesMsg struct {
		to
		names map[id.UserID]string
	}
	encryptedMsg struct {
		to
		room id.RoomID
		on   bool
	}
	trustMsg struct {
		to
		seq   int
		trust matrixsvc.PeerTrust
		err   error
	}
	outboxMsg struct {
		to
		entries []matrixsvc.Outgoing
		err     error
	}
	enqueuedMsg struct {
		to
		txn string
		err error
	}
	dmOpenedMsg struct {
		to
		room    id.RoomID
		created bool
		err     error
	}
	deleteMsg struct {
		to
		msg matrixsvc.Message
	}
	// TypingSentMsg is the answer to saying we type: a courtesy, not worth a word when it fails.
	TypingSentMsg struct{ err error }
	// MarkedReadMsg is the answer to a read mark; the root reads the list again after it.
	MarkedReadMsg struct{ Err error }
)

// call runs fn in a Cmd with a bounded context. The caller copies what fn needs into locals.
func (c *Model) call(fn func(ctx context.Context) tea.Msg) tea.Cmd {
	return request.Cmd(c.opts.Context, fn)
}

func (c *Model) loadHistory(room id.RoomID, from string) tea.Cmd {
	svc, key := c.svc, c.key
	return c.call(func(ctx context.Context) tea.Msg {
		msgs, next, err := svc.History(ctx, room, from, historyPage)
		return historyMsg{to: to{key}, room: room, msgs: msgs, next: next, err: err}
	})
}

// loadChainOf asks for the rooms of a contact's conversation once it knows its room (opened,
// made by the outbox, brought by sync); other conversations have none.
func (c *Model) loadChainOf() tea.Cmd {
	if c.item.Kind != contacts.KindContact || c.room == "" {
		return nil
	}
	c.chainFor = c.room
	return c.loadChain()
}

func (c *Model) loadChain() tea.Cmd {
	svc, key, x := c.svc, c.key, c.item.UserID
	return c.call(func(ctx context.Context) tea.Msg {
		rooms, err := svc.Conversation(ctx, x)
		return chainMsg{to: to{key}, rooms: rooms, err: err}
	})
}

func (c *Model) loadReceipts() tea.Cmd {
	svc, key, room := c.svc, c.key, c.room
	return c.call(func(ctx context.Context) tea.Msg {
		read, _ := svc.Receipts(ctx, room) // a courtesy: without it, nothing is marked seen
		return receiptsMsg{to: to{key}, room: room, read: read}
	})
}

// loadMemberNames asks for the names of a group DM's members: senders are shown by them.
func (c *Model) loadMemberNames() tea.Cmd {
	svc, key, room := c.svc, c.key, c.room
	return c.call(func(ctx context.Context) tea.Msg {
		names, err := svc.MemberNames(ctx, room)
		if err != nil {
			return nil // the user IDs stay
		}
		return memberNamesMsg{to: to{key}, names: names}
	})
}

func (c *Model) checkEncrypted() tea.Cmd {
	svc, key, room := c.svc, c.key, c.room
	return c.call(func(ctx context.Context) tea.Msg {
		return encryptedMsg{to: to{key}, room: room, on: svc.RoomEncrypted(ctx, room)}
	})
}

func (c *Model) loadOutbox() tea.Cmd {
	svc, key := c.svc, c.key
	return c.call(func(ctx context.Context) tea.Msg {
		entries, err := svc.Outbox(ctx)
		return outboxMsg{to: to{key}, entries: entries, err: err}
	})
}

// OpenDM finds or makes the contact's DM room (R11, R12, R21) in the background.
func (c *Model) OpenDM() tea.Cmd {
	if c.room != "" || c.resolving || c.item.Pending {
		return nil
	}
	c.resolving = true
	svc, key, user := c.svc, c.key, c.item.UserID
	return c.call(func(ctx context.Context) tea.Msg {
		room, created, err := svc.OpenDM(ctx, user)
		return dmOpenedMsg{to: to{key}, room: room, created: created, err: err}
	})
}

func (c *Model) setTyping(typing bool) tea.Cmd {
	svc, room := c.svc, c.room
	return c.call(func(ctx context.Context) tea.Msg {
		return TypingSentMsg{err: svc.SetTyping(ctx, room, typing, typingTimeout)}
	})
}

// markRead marks room read at evt (a read receipt and the read marker); with x, the other
// rooms of the conversation with x too (R22).
func (c *Model) markRead(room id.RoomID, evt id.EventID, x id.UserID) tea.Cmd {
	svc := c.svc
	return c.call(func(ctx context.Context) tea.Msg {
		if err := svc.MarkRead(ctx, room, evt); err != nil {
			return MarkedReadMsg{Err: err}
		}
		if x != "" {
			if err := svc.MarkConversationRead(ctx, x); err != nil {
				return MarkedReadMsg{Err: err}
			}
		}
		return MarkedReadMsg{}
	})
}

// enqueue writes o to the outbox in a Cmd; the answer matters only when it could not be
// saved.
func (c *Model) enqueue(o matrixsvc.Outgoing) tea.Cmd {
	svc, key := c.svc, c.key
	return c.call(func(ctx context.Context) tea.Msg {
		return enqueuedMsg{to: to{key}, txn: o.TxnID, err: svc.Enqueue(ctx, o)}
	})
}

// textOutgoing is a message (an emote when emote) to room, or to the DM with target.
func textOutgoing(room id.RoomID, target id.UserID, body string, emote bool, txn string) matrixsvc.Outgoing {
	o := matrixsvc.Outgoing{Kind: matrixsvc.KindText, Room: room, Target: target, Body: body, TxnID: txn}
	if emote {
		o.Kind = matrixsvc.KindEmote
	}
	return o
}
