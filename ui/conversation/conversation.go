// Package conversation is the timeline of one conversation: history loaded page by page, live
// messages, and local echo of what we send. Each message's rendered lines are cached by width
// and only the visible window is composed, so drawing costs the same with ten messages or ten
// thousand.
package conversation

import (
	"image"
	"slices"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
	"duet/ui/internal/textutil"
	"duet/ui/styles"
)

// State is the delivery state of a message.
type State int

const (
	Remote  State = iota // from the server
	Queued               // local echo waiting for its room to exist (R11)
	Sending              // local echo, request under way
	Sent                 // local echo the server accepted
	Failed               // local echo that could not be sent: retry with the Retry key
)

// RetryMsg asks the root to send a failed message again, with the same transaction ID.
type RetryMsg struct{ Txn string }

type entry struct {
	msg      matrixsvc.Message
	txn      string
	state    State
	err      string
	day      bool   // a day separator goes above it
	moved    string // a line saying the conversation went on in another room goes above it (R22)
	marked   bool   // the message a search led to
	seen     bool   // our newest message the other person has read
	selected bool   // the message picked in the timeline (to reply, react, edit…)
	unread   bool   // the first message not read yet when the conversation was opened

	img      image.Image // an image message's picture, once fetched (small)
	kitty    *Kitty      // the picture for the kitty graphics protocol, when the terminal has it
	imgAsked bool        // its picture was asked for
	picFrom  int         // the index in lines of the picture's first row (0: none drawn)
	picRows  int         // how many rows the picture takes

	width    int      // the width lines were rendered at
	picLimit int      // the picture's height limit they were rendered with
	lines    []string // rendered lines; nil = render again
}

func (e *entry) invalidate() { e.lines = nil }

// Model is one conversation's timeline.
type Model struct {
	keys   KeyMap
	styles styles.Conversation
	now    func() time.Time
	me     id.UserID
	names  map[id.UserID]string

	entries []*entry
	byEvent map[id.EventID]*entry
	marked  *entry     // the message a search led to, if any
	picked  *entry     // the message selected in the timeline, if any
	unread  int        // messages from others not read when the conversation was opened
	newLine *entry     // the first of them, once loaded: a line above it says "new"
	seenAt  *entry     // our newest message the other person has read, if any is loaded
	readTo  id.EventID // how far the other person has read
	byTxn   map[string]*entry

	width, height int
	images        bool // draw pictures of image messages

	// The bottom of the window: follow the newest message, or the entry whose line
	// len(lines)-1-skip is the last one shown.
	follow bool
	anchor int
	skip   int
	unseen int // messages that arrived while scrolled up

	loaded     bool // the newest page has arrived
	loading    bool // a page is being fetched
	loadFailed bool // the last fetch failed: wait for the user to scroll before trying again
	atStart    bool // no older messages

	moveNotes map[id.RoomID]string // what the line above a room's first message says (R22)
	room      id.RoomID            // where our echoes without a room went (the current room)
	rank      map[id.RoomID]int    // the conversation's rooms, 0 = current, higher = older

	thread    id.EventID // the root of the thread this timeline shows (ForThread), "" for a conversation's
	threadKey string     // the key that opens a thread, named under a root
}

// New returns an empty timeline.
func New(km KeyMap, st styles.Conversation, me id.UserID, now func() time.Time) Model {
	return Model{
		keys: km, styles: st, me: me, now: now, names: map[id.UserID]string{},
		byEvent: map[id.EventID]*entry{}, byTxn: map[string]*entry{}, follow: true,
	}
}

// SetStyles draws the timeline with st from now on (the terminal's background turned out light
// or dark): every message is rendered again.
func (m *Model) SetStyles(st styles.Conversation) {
	m.styles = st
	for _, e := range m.entries {
		e.invalidate()
	}
}

// SetSize sets the size of the timeline. Cached lines of other widths are re-rendered lazily.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = max(w, 0), max(h, 0)
	if !m.follow {
		m.clamp()
	}
}

// SetName sets the name shown for a sender.
func (m *Model) SetName(user id.UserID, name string) {
	if m.names[user] == name {
		return
	}
	m.names[user] = name
	for _, e := range m.entries {
		if e.msg.Sender == user {
			e.invalidate()
		}
	}
}

// Len is the number of messages loaded.
func (m *Model) Len() int { return len(m.entries) }

// Loaded reports whether the newest page has arrived; Loading whether a page is on its way.
func (m *Model) Loaded() bool  { return m.loaded }
func (m *Model) Loading() bool { return m.loading }

// SetLoading marks a page request as under way (shown as a loading line).
func (m *Model) SetLoading() { m.loading = true; m.loadFailed = false }

// LoadFailed ends a page request that failed. It is tried again when the user scrolls.
func (m *Model) LoadFailed() { m.loading = false; m.loadFailed = true; m.loaded = true }

// SetRooms gives the rooms of the conversation (R22): current is where our messages go (echoes
// sent before it existed count as in it), order lists every room newest first, and notes says
// what the line above a room's first message reads where the conversation goes on in it from an
// older one ("room upgraded"; the default is "continued in a new room"). A message in an older
// room than the one before it gets a line saying so.
func (m *Model) SetRooms(current id.RoomID, order []id.RoomID, notes map[id.RoomID]string) {
	m.room, m.moveNotes = current, notes
	m.rank = make(map[id.RoomID]int, len(order))
	for i, r := range order {
		m.rank[r] = i
	}
	for i := range m.entries {
		m.markDay(i)
	}
}

// NeedsOlder reports whether the top of the history is in view and an older page can be loaded.
func (m *Model) NeedsOlder() bool {
	return m.loaded && !m.loading && !m.loadFailed && !m.atStart && m.atTop()
}

// AddPage adds a page of history (oldest first); more says whether anything older is left.
// The messages are usually older than what is loaded and go on top, but a page from another
// room of the conversation (R22) may hold messages from between those shown: each goes where
// its server time puts it.
func (m *Model) AddPage(msgs []matrixsvc.Message, more bool) {
	defer m.markSeen() // the read position may be in the page
	defer func() {
		if m.newLine == nil && m.unread > 0 {
			m.placeUnread() // the first unread message may be in the page
		}
	}()
	m.loading, m.loaded = false, true
	m.atStart = !more
	fresh := make([]*entry, 0, len(msgs))
	for _, msg := range msgs {
		if e := m.newEntry(msg); e != nil {
			fresh = append(fresh, e)
		}
	}
	if len(fresh) == 0 {
		return
	}
	if len(m.entries) == 0 || !fresh[len(fresh)-1].msg.Timestamp.After(m.entries[0].msg.Timestamp) {
		// All older than what is loaded: the common case, and only the seam needs new marks.
		m.entries = slices.Insert(m.entries, 0, fresh...)
		if !m.follow {
			m.anchor += len(fresh)
		}
		for i := 0; i <= len(fresh) && i < len(m.entries); i++ {
			m.markDay(i)
		}
		return
	}
	merged := make([]*entry, 0, len(m.entries)+len(fresh))
	before := 0 // fresh entries that went above the anchor
	i, j := 0, 0
	for i < len(fresh) || j < len(m.entries) {
		if j == len(m.entries) || (i < len(fresh) && fresh[i].msg.Timestamp.Before(m.entries[j].msg.Timestamp)) {
			if j <= m.anchor {
				before++
			}
			merged = append(merged, fresh[i])
			i++
			continue
		}
		merged = append(merged, m.entries[j])
		j++
	}
	m.entries = merged
	if !m.follow {
		m.anchor += before
	}
	for k := range m.entries {
		m.markDay(k)
	}
}

// NewestEventID is the event ID of the newest message the server has (our unsent echoes have
// none), or "".
func (m *Model) NewestEventID() id.EventID {
	for i := len(m.entries) - 1; i >= 0; i-- {
		if evt := m.entries[i].msg.EventID; evt != "" {
			return evt
		}
	}
	return ""
}

// newEntry makes the entry for a message, or nil when it is already shown (history and sync
// overlap; our own echo once confirmed).
func (m *Model) newEntry(msg matrixsvc.Message) *entry {
	if msg.EventID != "" && m.byEvent[msg.EventID] != nil {
		return nil
	}
	e := &entry{msg: msg}
	if msg.EventID != "" {
		m.byEvent[msg.EventID] = e
	}
	return e
}

// Append adds live messages at the end, skipping those already shown (our own local echo,
// once its event ID is known).
func (m *Model) Append(msgs []matrixsvc.Message) {
	defer m.markSeen() // the read position may be among them
	for _, msg := range msgs {
		e := m.newEntry(msg)
		if e == nil {
			continue
		}
		m.push(e)
		if !m.follow && msg.Sender != m.me {
			m.unseen++
		}
	}
}

func (m *Model) push(e *entry) {
	m.entries = append(m.entries, e)
	m.markDay(len(m.entries) - 1)
}

func (m *Model) markDay(i int) {
	e := m.entries[i]
	day := i == 0 || !textutil.SameDay(m.entries[i-1].msg.Timestamp, e.msg.Timestamp, m.now().Location())
	moved := ""
	if i > 0 {
		roomOf := func(e *entry) id.RoomID {
			if e.msg.RoomID == "" {
				return m.room
			}
			return e.msg.RoomID
		}
		if prev, cur := roomOf(m.entries[i-1]), roomOf(e); prev != "" && cur != "" && prev != cur {
			moved = "continued in a new room"
			if note := m.moveNotes[cur]; note != "" {
				moved = note
			}
			if pr, okP := m.rank[prev]; okP {
				if cr, okC := m.rank[cur]; okC && cr > pr {
					moved = "in an older room of this conversation"
				}
			}
		}
	}
	if day != e.day || moved != e.moved {
		e.day, e.moved = day, moved
		e.invalidate()
	}
}

// Undecrypted lists the event IDs of the messages shown as undecryptable, oldest first.
func (m *Model) Undecrypted() []id.EventID {
	var out []id.EventID
	for _, e := range m.entries {
		if e.msg.Encrypted && e.msg.EventID != "" {
			out = append(out, e.msg.EventID)
		}
	}
	return out
}

// Redecrypted puts messages that could be decrypted since (or failed for a new reason) in
// place of their placeholders, matched by event ID; the window stays where it is. It returns
// how many changed.
func (m *Model) Redecrypted(msgs []matrixsvc.Message) int {
	n := 0
	for _, msg := range msgs {
		e := m.byEvent[msg.EventID]
		if msg.EventID == "" || e == nil || !e.msg.Encrypted {
			continue
		}
		if msg.Encrypted && msg.DecryptError == e.msg.DecryptError {
			continue
		}
		e.msg = msg
		e.invalidate()
		n++
	}
	if n > 0 && !m.follow {
		// The anchor may have fewer lines now.
		m.skip = min(m.skip, max(len(m.lines(m.anchor))-1, 0))
		m.clamp()
	}
	return n
}

// LastOwn is our newest message that can be edited (Editable).
func (m *Model) LastOwn() (matrixsvc.Message, bool) {
	for i := len(m.entries) - 1; i >= 0; i-- {
		if msg := m.entries[i].msg; m.Editable(msg) {
			return msg, true
		}
	}
	return matrixsvc.Message{}, false
}

// Editable reports whether msg is a message of ours whose text can be edited: sent, text (an
// emote or a notice too, not a file), not deleted, not waiting for a key.
func (m *Model) Editable(msg matrixsvc.Message) bool {
	switch event.MessageType(msg.MsgType) {
	case event.MsgText, event.MsgEmote, event.MsgNotice:
	default:
		return false
	}
	return msg.Sender == m.me && msg.EventID != "" && !msg.Redacted && !msg.Encrypted && msg.Media == nil
}

// SetRead says how far the other person has read: our newest message at or before evt is
// marked seen. A read position not loaded yet (older history) marks nothing until it is.
func (m *Model) SetRead(evt id.EventID) {
	m.readTo = evt
	m.markSeen()
}

func (m *Model) markSeen() {
	e := m.byEvent[m.readTo]
	if m.readTo == "" || e == nil {
		return
	}
	i := slices.Index(m.entries, e)
	var seen *entry
	for ; i >= 0; i-- {
		if x := m.entries[i]; x.msg.Sender == m.me && x.msg.EventID != "" {
			seen = x
			break
		}
	}
	if seen == m.seenAt {
		return
	}
	if m.seenAt != nil {
		m.seenAt.seen = false
		m.seenAt.invalidate()
	}
	if seen != nil {
		seen.seen = true
		seen.invalidate()
	}
	m.seenAt = seen
}

// Changed shows messages as they are now after an edit or a deletion, in place, matched by
// event ID; the window stays where it is. It returns how many are shown here.
func (m *Model) Changed(msgs []matrixsvc.Message) int {
	n := 0
	for _, msg := range msgs {
		e := m.byEvent[msg.EventID]
		if msg.EventID == "" || e == nil {
			continue
		}
		e.msg.Body, e.msg.HTML, e.msg.MsgType, e.msg.Edited, e.msg.Redacted = msg.Body, msg.HTML, msg.MsgType, msg.Edited, msg.Redacted
		e.msg.Reactions = msg.Reactions
		// What its votes, its thread or its live location's points changed.
		e.msg.Poll, e.msg.Location, e.msg.ThreadReplies = msg.Poll, msg.Location, msg.ThreadReplies
		if msg.Redacted {
			e.msg.Media, e.img, e.kitty = nil, nil, nil
		}
		e.invalidate()
		n++
	}
	if n > 0 {
		// Replies quoting a changed message show it as it is now.
		for _, e := range m.entries {
			if slices.ContainsFunc(msgs, func(c matrixsvc.Message) bool {
				return c.EventID != "" && (c.EventID == e.msg.ReplyTo || c.EventID == e.msg.Thread)
			}) {
				e.invalidate()
			}
		}
	}
	if n > 0 && !m.follow {
		m.skip = min(m.skip, max(len(m.lines(m.anchor))-1, 0))
		m.clamp()
	}
	return n
}

// AddEcho shows a message we are sending, before the server has it, and scrolls to it.
func (m *Model) AddEcho(txn, body string, emote bool, state State) {
	m.AddReplyEcho(txn, body, emote, "", state)
}

// AddReplyEcho is AddEcho of a reply to the message replyTo ("" for none).
func (m *Model) AddReplyEcho(txn, body string, emote bool, replyTo id.EventID, state State) {
	typ := event.MsgText
	if emote {
		typ = event.MsgEmote
	}
	e := &entry{
		msg: matrixsvc.Message{Sender: m.me, Timestamp: m.now(), MsgType: string(typ), Body: body, HTML: matrixsvc.MarkdownHTML(body),
			ReplyTo: replyTo},
		txn: txn, state: state,
	}
	m.byTxn[txn] = e
	m.push(e)
	m.ScrollToBottom()
}

// SetState changes the delivery state of a local echo; err is shown when it failed.
func (m *Model) SetState(txn string, state State, err string) {
	if e := m.byTxn[txn]; e != nil {
		e.state, e.err = state, err
		e.invalidate()
	}
}

// Confirm marks a local echo as sent as event evt in room ("" when unknown). If sync already
// brought that event, the copy from sync is dropped so the message shows once.
func (m *Model) Confirm(txn string, evt id.EventID, room id.RoomID) {
	e := m.byTxn[txn]
	if e == nil {
		return
	}
	if room != "" {
		e.msg.RoomID = room // where it went: an edit or a deletion of it goes there too
	}
	if dup := m.byEvent[evt]; dup != nil && dup != e {
		if i := slices.Index(m.entries, dup); i >= 0 {
			m.remove(i)
		}
	}
	e.state, e.err, e.msg.EventID = Sent, "", evt
	m.byEvent[evt] = e
	e.invalidate()
}

// Echo returns the body and kind of a local echo.
func (m *Model) Echo(txn string) (body string, emote bool, state State, ok bool) {
	e := m.byTxn[txn]
	if e == nil {
		return "", false, 0, false
	}
	return e.msg.Body, e.msg.MsgType == string(event.MsgEmote), e.state, true
}

func (m *Model) remove(i int) {
	if m.entries[i] == m.picked {
		m.picked = nil
	}
	m.entries = slices.Delete(m.entries, i, i+1)
	if !m.follow && i <= m.anchor {
		if i == m.anchor {
			m.skip = 0
		}
		m.anchor = max(m.anchor-1, 0)
	}
	if i < len(m.entries) {
		m.markDay(i)
	}
	if !m.follow && len(m.entries) == 0 {
		m.follow = true
	}
}

// lastFailed is the newest failed local echo.
func (m *Model) lastFailed() string {
	for i := len(m.entries) - 1; i >= 0; i-- {
		if e := m.entries[i]; e.state == Failed {
			return e.txn
		}
	}
	return ""
}

// Update handles the timeline's keys.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	switch {
	case key.Matches(k, m.keys.PageUp):
		m.ScrollUp(max(m.height-2, 1))
	case key.Matches(k, m.keys.PageDown):
		m.ScrollDown(max(m.height-2, 1))
	case key.Matches(k, m.keys.Bottom):
		m.ScrollToBottom()
	case key.Matches(k, m.keys.Retry):
		if txn := m.lastFailed(); txn != "" {
			return func() tea.Msg { return RetryMsg{Txn: txn} }
		}
	}
	return nil
}

// KeyMap returns the timeline's keys, for help.
func (m *Model) KeyMap() KeyMap { return m.keys }
