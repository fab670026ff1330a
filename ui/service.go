package ui

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
)

// Service is what the UI needs from the Matrix side. *matrixsvc.Service satisfies it; tests pass
// a fake.
type Service interface {
	Me() id.UserID
	Events() <-chan matrixsvc.Event
	Overview(ctx context.Context) (matrixsvc.Overview, error)
	CheckUser(ctx context.Context, raw string) (id.UserID, string, error)
	OpenDM(ctx context.Context, x id.UserID) (id.RoomID, bool, error)
	History(ctx context.Context, room id.RoomID, from string, limit int) ([]matrixsvc.Message, string, error)
	Enqueue(ctx context.Context, o matrixsvc.Outgoing) error
	Download(ctx context.Context, m *matrixsvc.Media, max int64) ([]byte, error)
	SaveMedia(ctx context.Context, m *matrixsvc.Media, dir string) (string, error)
	OpenMedia(ctx context.Context, m *matrixsvc.Media, dir string) (string, error)
	MemberNames(ctx context.Context, room id.RoomID) (map[id.UserID]string, error)
	SetTyping(ctx context.Context, room id.RoomID, typing bool, timeout time.Duration) error
	Receipts(ctx context.Context, room id.RoomID) (map[id.UserID]id.EventID, error)
	Outbox(ctx context.Context) ([]matrixsvc.Outgoing, error)
	RetryOutgoing(ctx context.Context, txnID string) error
	RetryNow()
	LastOpen(ctx context.Context) string
	SetLastOpen(ctx context.Context, key string) error
	Accept(ctx context.Context, room id.RoomID) error
	Decline(ctx context.Context, room id.RoomID) error
	Conversation(ctx context.Context, x id.UserID) ([]matrixsvc.ConversationRoom, error)
	MarkConversationRead(ctx context.Context, x id.UserID) error
	Block(ctx context.Context, user string) (id.UserID, bool, error)
	Unblock(ctx context.Context, user string) (id.UserID, bool, error)
	RoomEncrypted(ctx context.Context, room id.RoomID) bool
	MarkRead(ctx context.Context, room id.RoomID, eventID id.EventID) error
	Search(ctx context.Context, query string, with id.UserID, limit int) ([]matrixsvc.SearchResult, bool, error)
	SearchUsers(ctx context.Context, term string, limit int) ([]matrixsvc.DirectoryUser, error)

	// End-to-end encryption: emoji verification (progress comes as matrixsvc.Verification
	// events), device trust and the recovery key.
	StartVerification(ctx context.Context, user id.UserID) (string, error)
	AcceptVerification(ctx context.Context, txn string) error
	ConfirmVerification(ctx context.Context, txn string) error
	CancelVerification(ctx context.Context, txn string, mismatch bool) error
	PeerTrust(ctx context.Context, user id.UserID) (matrixsvc.PeerTrust, error)
	HasRecovery(ctx context.Context) (bool, error)
	VerifyWithRecoveryKey(ctx context.Context, keyOrPassphrase string) (matrixsvc.RecoveryResult, error)
	SetUpRecovery(ctx context.Context, password, passphrase string) (string, error)
}

var _ Service = (*matrixsvc.Service)(nil)

// historyPage is how many messages one History request asks for.
const historyPage = 50

// requestTimeout bounds every network request the UI makes.
const requestTimeout = 2 * time.Minute

// Messages from the Cmds below. Each carries the key of the chat it is about.
type (
	eventsMsg     struct{ events []matrixsvc.Event }
	markedReadMsg struct{ err error }
	overviewMsg   struct {
		seq      int
		ov       matrixsvc.Overview
		err      error
		lastOpen string // at start: the conversation open when duet last ran
	}
	historyMsg struct {
		chat string
		room id.RoomID
		msgs []matrixsvc.Message
		next string
		err  error
	}
	enqueuedMsg struct {
		txn string
		err error
	}
	outboxMsg struct {
		chat    string
		entries []matrixsvc.Outgoing
		err     error
	}
	dmOpenedMsg struct {
		chat    string
		room    id.RoomID
		created bool
		err     error
	}
	userCheckedMsg struct {
		raw  string
		user id.UserID
		name string
		err  error
	}
	encryptedMsg struct {
		room id.RoomID
		on   bool
	}
	inviteDoneMsg struct {
		accepted bool
		name     string
		err      error
		ov       *matrixsvc.Overview // the list after the answer, so it shows at once
	}
)

// listen receives one event and whatever else is already queued, so that a burst arrives as one
// message. It is re-armed after each one. A closed channel ends it.
func listen(ch <-chan matrixsvc.Event) tea.Cmd {
	return func() tea.Msg {
		evt, ok := <-ch
		if !ok {
			return nil
		}
		events := []matrixsvc.Event{evt}
		for len(events) < 256 {
			select {
			case evt, ok := <-ch:
				if !ok {
					return eventsMsg{events}
				}
				events = append(events, evt)
			default:
				return eventsMsg{events}
			}
		}
		return eventsMsg{events}
	}
}

// call runs fn in a Cmd with a bounded context. The caller copies what fn needs into locals.
func (m Model) call(fn func(ctx context.Context) tea.Msg) tea.Cmd {
	parent := m.ctx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, requestTimeout)
		defer cancel()
		return fn(ctx)
	}
}

func (m *Model) refreshOverview() tea.Cmd {
	m.overviewSeq++
	seq, svc := m.overviewSeq, m.svc
	return m.call(func(ctx context.Context) tea.Msg {
		ov, err := svc.Overview(ctx)
		return overviewMsg{seq: seq, ov: ov, err: err}
	})
}

// firstOverview is the list at start, with the conversation that was open last time: both
// from the store, so duet shows where you were before any network request.
func (m *Model) firstOverview() tea.Cmd {
	m.overviewSeq++
	seq, svc := m.overviewSeq, m.svc
	return m.call(func(ctx context.Context) tea.Msg {
		ov, err := svc.Overview(ctx)
		return overviewMsg{seq: seq, ov: ov, err: err, lastOpen: svc.LastOpen(ctx)}
	})
}

// rememberOpen stores which conversation is open, for the next start.
func (m Model) rememberOpen(key string) tea.Cmd {
	svc := m.svc
	return m.call(func(ctx context.Context) tea.Msg {
		_ = svc.SetLastOpen(ctx, key)
		return nil
	})
}

// markRead marks room read at evt (a read receipt and the read marker); with x, the other
// rooms of the conversation with x too (R22). The list is refreshed so the unread badge goes.
func (m Model) markRead(room id.RoomID, evt id.EventID, x id.UserID) tea.Cmd {
	svc := m.svc
	return m.call(func(ctx context.Context) tea.Msg {
		if err := svc.MarkRead(ctx, room, evt); err != nil {
			return markedReadMsg{err: err}
		}
		if x != "" {
			if err := svc.MarkConversationRead(ctx, x); err != nil {
				return markedReadMsg{err: err}
			}
		}
		return markedReadMsg{}
	})
}

func (m Model) loadHistory(chat string, room id.RoomID, from string) tea.Cmd {
	svc := m.svc
	return m.call(func(ctx context.Context) tea.Msg {
		msgs, next, err := svc.History(ctx, room, from, historyPage)
		return historyMsg{chat: chat, room: room, msgs: msgs, next: next, err: err}
	})
}

// typingTimeout is how long "typing" lasts at the server unless said again; typingEvery is
// how often it is said again while the composer changes.
const (
	typingTimeout = 10 * time.Second
	typingEvery   = 5 * time.Second
)

type typingSentMsg struct{ err error }

// receiptsMsg brings how far the others have read a chat's room.
type receiptsMsg struct {
	chat string
	room id.RoomID
	read map[id.UserID]id.EventID
}

func (m Model) loadReceipts(chat string, room id.RoomID) tea.Cmd {
	svc := m.svc
	return m.call(func(ctx context.Context) tea.Msg {
		read, _ := svc.Receipts(ctx, room) // a courtesy: without it, nothing is marked seen
		return receiptsMsg{chat: chat, room: room, read: read}
	})
}

func (m Model) setTyping(room id.RoomID, typing bool) tea.Cmd {
	svc := m.svc
	return m.call(func(ctx context.Context) tea.Msg {
		return typingSentMsg{err: svc.SetTyping(ctx, room, typing, typingTimeout)}
	})
}

// enqueueOutgoing writes o to the outbox; enqueuedMsg says whether it got there.
func (m Model) enqueueOutgoing(o matrixsvc.Outgoing) tea.Cmd {
	svc := m.svc
	return m.call(func(ctx context.Context) tea.Msg {
		return enqueuedMsg{txn: o.TxnID, err: svc.Enqueue(ctx, o)}
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

func (m Model) enqueueEdit(room id.RoomID, evt id.EventID, body string, emote bool, txn string) tea.Cmd {
	return m.enqueueOutgoing(matrixsvc.Outgoing{Kind: matrixsvc.KindEdit, Room: room, Of: evt, Body: body, Emote: emote, TxnID: txn})
}

func (m Model) enqueueReply(room id.RoomID, target id.UserID, body string, emote bool, replyTo id.EventID, txn string) tea.Cmd {
	return m.enqueueOutgoing(matrixsvc.Outgoing{Kind: matrixsvc.KindReply, Room: room, Target: target, Body: body, Emote: emote, ReplyTo: replyTo, TxnID: txn})
}

func (m Model) enqueueReact(room id.RoomID, evt id.EventID, key, txn string) tea.Cmd {
	return m.enqueueOutgoing(matrixsvc.Outgoing{Kind: matrixsvc.KindReaction, Room: room, Of: evt, Key: key, TxnID: txn})
}

func (m Model) enqueueRedact(room id.RoomID, evt id.EventID, txn string) tea.Cmd {
	return m.enqueueOutgoing(matrixsvc.Outgoing{Kind: matrixsvc.KindRedaction, Room: room, Of: evt, TxnID: txn})
}

func (m Model) enqueue(chat string, room id.RoomID, target id.UserID, body string, emote bool, txn string) tea.Cmd {
	return m.enqueueOutgoing(textOutgoing(room, target, body, emote, txn))
}

// enqueueFile writes the file at path to the outbox, to room or the DM with target.
func (m Model) enqueueFile(room id.RoomID, target id.UserID, path, txn string) tea.Cmd {
	return m.enqueueOutgoing(matrixsvc.Outgoing{Kind: matrixsvc.KindFile, Room: room, Target: target, File: path, TxnID: txn})
}

// retryOutgoing requeues a failed message; one that never reached the outbox is written now.
func (m Model) retryOutgoing(chat string, room id.RoomID, target id.UserID, body string, emote bool, txn string) tea.Cmd {
	svc := m.svc
	return m.call(func(ctx context.Context) tea.Msg {
		queued, err := svc.Outbox(ctx)
		if err != nil {
			return enqueuedMsg{txn: txn, err: err}
		}
		for _, o := range queued {
			if o.TxnID == txn {
				return enqueuedMsg{txn: txn, err: svc.RetryOutgoing(ctx, txn)}
			}
		}
		return enqueuedMsg{txn: txn, err: svc.Enqueue(ctx, textOutgoing(room, target, body, emote, txn))}
	})
}

func (m Model) loadOutbox(chat string) tea.Cmd {
	svc := m.svc
	return m.call(func(ctx context.Context) tea.Msg {
		entries, err := svc.Outbox(ctx)
		return outboxMsg{chat: chat, entries: entries, err: err}
	})
}

func (m Model) openDM(chat string, user id.UserID) tea.Cmd {
	svc := m.svc
	return m.call(func(ctx context.Context) tea.Msg {
		room, created, err := svc.OpenDM(ctx, user)
		return dmOpenedMsg{chat: chat, room: room, created: created, err: err}
	})
}

func (m Model) checkUser(raw string) tea.Cmd {
	svc := m.svc
	return m.call(func(ctx context.Context) tea.Msg {
		user, name, err := svc.CheckUser(ctx, raw)
		return userCheckedMsg{raw: raw, user: user, name: name, err: err}
	})
}

// memberNamesMsg is what to call the senders of a group DM.
type memberNamesMsg struct {
	chat  string
	names map[id.UserID]string
}

// loadMemberNames asks for the names of a group DM's members: senders are shown by them.
func (m Model) loadMemberNames(c *chat) tea.Cmd {
	svc, key, room := m.svc, c.key, c.room
	return m.call(func(ctx context.Context) tea.Msg {
		names, err := svc.MemberNames(ctx, room)
		if err != nil {
			return nil // the user IDs stay
		}
		return memberNamesMsg{chat: key, names: names}
	})
}

func (m Model) checkEncrypted(room id.RoomID) tea.Cmd {
	svc := m.svc
	return m.call(func(ctx context.Context) tea.Msg {
		return encryptedMsg{room: room, on: svc.RoomEncrypted(ctx, room)}
	})
}

func (m Model) answerInvite(accept bool, name string, rooms []id.RoomID) tea.Cmd {
	svc := m.svc
	rooms = append([]id.RoomID(nil), rooms...)
	return m.call(func(ctx context.Context) tea.Msg {
		for _, room := range rooms {
			var err error
			if accept {
				err = svc.Accept(ctx, room)
			} else {
				err = svc.Decline(ctx, room)
			}
			if err != nil {
				return inviteDoneMsg{accepted: accept, name: name, err: err}
			}
		}
		done := inviteDoneMsg{accepted: accept, name: name}
		if ov, err := svc.Overview(ctx); err == nil {
			done.ov = &ov
		}
		return done
	})
}
