package matrixsvc

import (
	"fmt"
	"strings"
	"time"

	"duet/internal/sanitize"
	"duet/store"

	"maunium.net/go/mautrix/id"
)

// Event is something that happened in the background, published on Service.Events.
type Event interface{ isEvent() }

// SyncState is the health of the sync loop.
type SyncState int

const (
	SyncConnecting SyncState = iota // first request under way
	SyncLive                        // caught up, long-polling
	SyncOffline                     // the last request failed; retrying
)

func (s SyncState) String() string {
	switch s {
	case SyncLive:
		return "live"
	case SyncOffline:
		return "offline"
	default:
		return "connecting"
	}
}

// SyncStateChanged says the sync loop's health changed. Err and RetryIn are set when offline.
type SyncStateChanged struct {
	State   SyncState
	Err     error
	RetryIn time.Duration
}

// SyncApplied is one /sync response, coalesced: the UI refreshes once per sync, not per event.
type SyncApplied struct {
	DMListChanged bool                                   // m.direct, memberships, invites, names or activity changed
	Messages      []Message                              // new messages, in timeline order
	Changed       []Message                              // earlier messages as they are now after an edit or a redaction
	Typing        map[id.RoomID][]id.UserID              // rooms whose typing people changed: who types now (not us)
	Read          map[id.RoomID]map[id.UserID]id.EventID // read receipts of others that moved: how far they read
	Redecrypted   []id.RoomID                            // rooms whose stored messages were decrypted after their keys came
}

// LoggedOut says the server no longer accepts our access token.
type LoggedOut struct{ Err error }

// SyncFailed reports a panic or an unrecoverable error in the sync goroutine.
type SyncFailed struct{ Err error }

// news reports whether a sync brought anything the UI shows: a sync of only typing, read
// receipts or an edit is news too.
func (a SyncApplied) news() bool {
	return a.DMListChanged || len(a.Messages) > 0 || len(a.Redecrypted) > 0 || len(a.Changed) > 0 ||
		len(a.Typing) > 0 || len(a.Read) > 0
}

func (SyncStateChanged) isEvent() {}
func (SyncApplied) isEvent()      {}
func (LoggedOut) isEvent()        {}
func (SyncFailed) isEvent()       {}

// Message is one timeline message as the UI and the commands show it.
type Message struct {
	RoomID    id.RoomID
	EventID   id.EventID
	Sender    id.UserID
	Timestamp time.Time
	MsgType   string // m.text, m.emote, m.notice, ...; "" for undecryptable events
	Body      string // as sent, reply fallback removed: the UI sanitizes before display
	HTML      string // formatted_body when the message is formatted (org.matrix.custom.html), else ""
	Encrypted bool   // an m.room.encrypted event we cannot read (yet): DecryptError says why

	E2E          bool   // it came end-to-end encrypted and was decrypted
	DecryptError string // why it could not be decrypted: "waiting for the key", "key withheld: ..."
	Trust        string // a warning about the sending device ("from an unknown device"), "" if none
	// Unauthenticated: it was decrypted with a room key that did not come straight from the
	// sender's device (the server-side key backup, a key import, or a key another device
	// forwarded), so nothing proves the sender wrote it: "the authenticity of this message
	// cannot be guaranteed on this device". It goes when the sender's own key arrives.
	Unauthenticated bool

	Edited   bool // the text is the sender's latest edit of it
	Redacted bool // deleted: no text

	Media *Media // the file of an image, video, sound or file message; nil for text or malformed ones

	// The account's push rules on a message from someone else that arrived live (in a sync
	// after this process's first): whether to notify about it, and to highlight it (it
	// mentions us). Both are false for history, our own messages and anything else.
	Notify    bool
	Highlight bool

	// NotEncrypted: it came in plain text in a room that was end-to-end encrypted when duet
	// stored it (decided then). Anyone between the sender and us could have written or
	// changed it, the homeserver included.
	NotEncrypted bool
	// EncryptionChange is set on a line that is not a message but duet's own: Sender sent an
	// m.room.encryption event changing the room's encryption settings, which duet refused
	// (encryption stays as it was). Body and MsgType are empty.
	EncryptionChange *EncryptionChange

	ReplyTo   id.EventID // the message this one answers, "" when it answers none
	Reply     *Quote     // what ReplyTo says, when it is stored here
	Reactions []Reaction // the reactions to it, grouped by key in the order they first came

	// Kind is what it is when it is no m.room.message (a sticker, a poll, a call, ...; see
	// kinds.go), with what that kind carries: Poll, Location, Call; OtherType is the event type
	// of a KindOther line, shown by its fallback text (Body). MsgType is the event type then.
	Kind      EventKind
	Poll      *Poll
	Location  *Location
	Call      *Call
	OtherType string
	Rel       id.EventID // the poll a poll end ends

	// Thread is the root of the thread it is in (m.thread), "" in the main timeline;
	// ThreadRoot what the root says, when it is stored here. ThreadReplies, on a root, is how
	// many replies of its thread are stored.
	Thread        id.EventID
	ThreadRoot    *Quote
	ThreadReplies int

	// Member is set, and nothing else of the text, when this is no message but someone other
	// than the two people joining, invited to or knocking on a 1:1 room (membership.go).
	Member *MemberChange

	sessionID string        // the Megolm session of an undecrypted event
	raw       string        // the undecrypted event, kept to decrypt it when its key comes
	change    *store.Change // an edit or redaction of an earlier message (not shown itself)
}

// EncryptionChange is a refused change of a room's encryption settings.
type EncryptionChange struct {
	Algorithm string // what the event asked for, not sanitized; "" when it named none (encryption off)
}

// Text is the line duet shows for a refused change sent by by, sanitized: "⚠ Bob
// (@bob:example.org) tried to turn encryption off; duet keeps encrypting". nameOf gives display
// names; me is called "you".
func (c *EncryptionChange) Text(by, me id.UserID, nameOf func(id.UserID) string) string {
	who := sanitize.Line(string(by))
	if name := strings.TrimSpace(sanitize.Line(nameOf(by))); by == me {
		who = "you"
	} else if name != "" && name != string(by) {
		who = name + " (" + who + ")"
	}
	if c.Algorithm == "" {
		return "⚠ " + who + " tried to turn encryption off; duet keeps encrypting"
	}
	return fmt.Sprintf("⚠ %s tried to change encryption to %q; duet keeps encrypting as before", who, sanitize.Line(c.Algorithm))
}

// Note reports whether m is not a message but one of duet's own lines in the timeline: someone
// else came into a 1:1, a new device, a refused change of the encryption settings. Nothing a
// remote sender writes can make one; there is nothing to answer or react to.
func (m Message) Note() bool { return m.Member != nil || m.EncryptionChange != nil }

// NoteText is the text of duet's own line m (see Note), sanitized; "" for a message. me is
// called "you"; nameOf gives display names.
func (m Message) NoteText(me id.UserID, nameOf func(id.UserID) string) string {
	switch {
	case m.EncryptionChange != nil:
		return m.EncryptionChange.Text(m.Sender, me, nameOf)
	case m.Member != nil:
		return m.Member.Text(nameOf)
	}
	return ""
}

// Quote is the message a reply answers, as it is now.
type Quote struct {
	Sender   id.UserID
	Body     string // its text without formatting (PlainText), not sanitized
	Redacted bool
	// NotEncrypted: the message came in plain text in an encrypted room (Message.NotEncrypted).
	NotEncrypted bool
}

// Reaction is one key (an emoji, usually) people reacted with to a message.
type Reaction struct {
	Key     string
	Senders []id.UserID // who, in the order they reacted
	Mine    id.EventID  // our reaction event, to take it back; "" when we did not react so
	// NotEncrypted: these came in plain text in an encrypted room (kept apart from the same
	// key sent encrypted, so that the mark says whose).
	NotEncrypted bool
}
