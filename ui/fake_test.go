package ui

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
)

// fakeSvc is an in-memory Service.
type fakeSvc struct {
	mu        sync.Mutex
	me        id.UserID
	events    chan matrixsvc.Event
	ov        matrixsvc.Overview
	cached    *matrixsvc.Overview // the list an earlier run kept (CachedOverview)
	overviews int                 // Overview calls: the list derived
	history   map[id.RoomID][]matrixsvc.Message
	users     map[id.UserID]string // users that exist, with display names
	encrypted map[id.RoomID]bool
	members   map[id.RoomID]map[id.UserID]string // group DMs: what to call the senders

	sendErr   func(body string) error // nil: sends succeed
	sends     []sendCall              // messages handed to the outbox (and retries)
	outbox    []matrixsvc.Outgoing    // what Outbox returns (left over from an earlier run)
	outEvents []matrixsvc.Event       // the outbox's reports, delivered by the harness
	retryNow  int
	lastOpen  string
	opened    []id.UserID
	openRoom  id.RoomID
	checked   []string
	pages     []string // History calls: "room from"
	accepted  []id.RoomID
	read      []string // MarkRead calls: "room event"
	declined  []id.RoomID
	blocked   []id.UserID
	chains    map[id.UserID][]matrixsvc.ConversationRoom
	convReads []id.UserID
	nextEvt   int

	// End-to-end encryption.
	verifyCalls []string // "start @user", "accept TXN", "confirm TXN", "cancel TXN", "cancel TXN mismatch"
	startErr    error
	trust       map[id.UserID]matrixsvc.PeerTrust
	trustCalls  []id.UserID
	hasRecovery bool
	recoveryKey string // what VerifyWithRecoveryKey accepts
	recovered   matrixsvc.RecoveryResult
	keyTries    []string
	password    string // what SetUpRecovery accepts
	newKey      string // the recovery key SetUpRecovery makes
	setUpErr    error  // returned with the key (backing up failed)
	setUps      int

	// serverTokens: like a real server, the page that reaches the start still returns a
	// token, and only the (empty) page after it ends the history.
	serverTokens bool

	directory []matrixsvc.DirectoryUser // what SearchUsers finds
	edits     []sendCall                // edits enqueued (Target holds the edited event)
	redacts   []sendCall                // deletions enqueued (Target holds the deleted event)
	replies   []sendCall                // replies enqueued (Target holds the event answered)
	reacts    []sendCall                // reactions enqueued (Target holds the event, Body the key)
	polls     []matrixsvc.Outgoing      // votes, poll ends and new polls enqueued
	files     []sendCall                // files enqueued (Body holds the path)
	media     map[string][]byte         // files on the fake server by mxc URL
	typing    []string                  // SetTyping calls: "room true|false"
	receipts  map[id.RoomID]map[id.UserID]id.EventID
	searches  []string // the queries Search and SearchUsers were asked
}

type sendCall struct {
	Room   id.RoomID
	Target id.UserID
	Body   string
	Emote  bool
	Txn    string
}

func newFake() *fakeSvc {
	ch := make(chan matrixsvc.Event)
	close(ch) // tests deliver events through Update; the listener ends at once
	return &fakeSvc{
		me: "@me:example.org", events: ch,
		history:   map[id.RoomID][]matrixsvc.Message{},
		users:     map[id.UserID]string{},
		encrypted: map[id.RoomID]bool{},
		trust:     map[id.UserID]matrixsvc.PeerTrust{},
		openRoom:  "!new:example.org",
	}
}

func (f *fakeSvc) Me() id.UserID                  { return f.me }
func (f *fakeSvc) Homeserver() string             { return "https://example.org" }
func (f *fakeSvc) Events() <-chan matrixsvc.Event { return f.events }

func (f *fakeSvc) Overview(context.Context) (matrixsvc.Overview, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.overviews++
	return f.ov, nil
}

// CachedOverview: the fake keeps no list from an earlier run unless a test sets cached.
func (f *fakeSvc) CachedOverview(context.Context) (matrixsvc.Overview, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cached == nil {
		return matrixsvc.Overview{}, false
	}
	return *f.cached, true
}

func (f *fakeSvc) CheckUser(_ context.Context, raw string) (id.UserID, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checked = append(f.checked, raw)
	x, err := matrixsvc.ValidateUserID(f.me, raw)
	if err != nil {
		return "", "", err
	}
	name, ok := f.users[x]
	if !ok {
		return "", "", fmt.Errorf("%w: %s does not exist (check the spelling and the server name)", matrixsvc.ErrUserNotFound, x)
	}
	return x, name, nil
}

func (f *fakeSvc) OpenDM(_ context.Context, x id.UserID) (id.RoomID, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opened = append(f.opened, x)
	return f.openRoom, true, nil
}

func (f *fakeSvc) ThreadMessages(_ context.Context, room id.RoomID, root id.EventID, _ int) ([]matrixsvc.Message, bool, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []matrixsvc.Message
	found := false
	for _, m := range f.history[room] {
		if m.EventID == root || m.Thread == root {
			found = found || m.EventID == root
			out = append(out, m)
		}
	}
	return out, found, false, nil
}

func (f *fakeSvc) History(_ context.Context, room id.RoomID, from string, limit int) ([]matrixsvc.Message, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pages = append(f.pages, string(room)+" "+from)
	all := f.history[room]
	end := len(all)
	if from != "" {
		end, _ = strconv.Atoi(from)
	}
	start := max(end-limit, 0)
	next := ""
	if start > 0 || (f.serverTokens && end > 0) {
		next = strconv.Itoa(start)
	}
	return append([]matrixsvc.Message(nil), all[start:end]...), next, nil
}

// Download returns the fake's file of an mxc URL.
func (f *fakeSvc) Download(_ context.Context, md *matrixsvc.Media, max int64) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, ok := f.media[string(md.URL)]
	if !ok {
		return nil, fmt.Errorf("no such file on the server")
	}
	return data, nil
}

// SaveMedia writes the fake's file into dir.
func (f *fakeSvc) SaveMedia(ctx context.Context, md *matrixsvc.Media, dir string) (string, error) {
	data, err := f.Download(ctx, md, 0)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, md.Name)
	return path, os.WriteFile(path, data, 0o600)
}

// MemberNames returns the fake's names of a room's members.
func (f *fakeSvc) MemberNames(_ context.Context, room id.RoomID) (map[id.UserID]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.members[room]), nil
}

// OpenMedia writes the fake's file into dir, as SaveMedia does.
func (f *fakeSvc) OpenMedia(ctx context.Context, md *matrixsvc.Media, dir string) (string, error) {
	return f.SaveMedia(ctx, md, dir)
}

// Receipts returns the fake's read receipts of a room.
func (f *fakeSvc) Receipts(_ context.Context, room id.RoomID) (map[id.UserID]id.EventID, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.receipts[room], nil
}

// SetTyping records what we said about typing.
func (f *fakeSvc) SetTyping(_ context.Context, room id.RoomID, typing bool, _ time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.typing = append(f.typing, fmt.Sprintf("%s %v", room, typing))
	return nil
}

// Enqueue emulates the outbox, recording each kind where the tests look for it. A message, a
// reply or a file is "sent" at once (opening the DM first when only the contact is known) and
// the report is kept for the harness to deliver; edits, reactions and deletions are only
// recorded.
func (f *fakeSvc) Enqueue(_ context.Context, o matrixsvc.Outgoing) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch o.Kind {
	case matrixsvc.KindText, matrixsvc.KindEmote:
		f.sends = append(f.sends, sendCall{o.Room, o.Target, o.Body, o.Kind == matrixsvc.KindEmote, o.TxnID})
		f.deliver(o.TxnID, o.Room, o.Body)
	case matrixsvc.KindEdit:
		f.edits = append(f.edits, sendCall{Room: o.Room, Body: o.Body, Emote: o.Emote, Txn: o.TxnID, Target: id.UserID(o.Of)})
	case matrixsvc.KindRedaction:
		f.redacts = append(f.redacts, sendCall{Room: o.Room, Txn: o.TxnID, Target: id.UserID(o.Of)})
	case matrixsvc.KindReply:
		f.replies = append(f.replies, sendCall{Room: o.Room, Body: o.Body, Emote: o.Emote, Txn: o.TxnID, Target: id.UserID(o.ReplyTo)})
		f.deliver(o.TxnID, o.Room, o.Body)
	case matrixsvc.KindReaction:
		f.reacts = append(f.reacts, sendCall{Room: o.Room, Body: o.Key, Txn: o.TxnID, Target: id.UserID(o.Of)})
	case matrixsvc.KindVote, matrixsvc.KindEndPoll, matrixsvc.KindNewPoll:
		f.polls = append(f.polls, o)
	case matrixsvc.KindFile:
		if _, err := os.Stat(o.File); err != nil {
			return fmt.Errorf("no such file: %s", o.File)
		}
		f.files = append(f.files, sendCall{Room: o.Room, Target: o.Target, Body: o.File, Txn: o.TxnID})
		f.deliver(o.TxnID, o.Room, filepath.Base(o.File))
	default:
		return fmt.Errorf("the fake cannot enqueue a %s", o.Kind)
	}
	return nil
}

func (f *fakeSvc) deliver(txn string, room id.RoomID, body string) {
	if room == "" {
		room = f.openRoom
	}
	if f.sendErr != nil {
		if err := f.sendErr(body); err != nil {
			f.outEvents = append(f.outEvents, matrixsvc.OutgoingChanged{TxnID: txn, Room: room, State: matrixsvc.OutgoingFailed, Err: err})
			return
		}
	}
	f.nextEvt++
	f.outEvents = append(f.outEvents, matrixsvc.OutgoingChanged{TxnID: txn, Room: room, State: matrixsvc.OutgoingSent, EventID: id.EventID(fmt.Sprintf("$sent%d", f.nextEvt))})
}

func (f *fakeSvc) Outbox(context.Context) ([]matrixsvc.Outgoing, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]matrixsvc.Outgoing(nil), f.outbox...), nil
}

func (f *fakeSvc) RetryOutgoing(_ context.Context, txn string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.sends) - 1; i >= 0; i-- {
		if s := f.sends[i]; s.Txn == txn {
			f.sends = append(f.sends, s)
			f.deliver(txn, s.Room, s.Body)
			return nil
		}
	}
	return fmt.Errorf("no message %s", txn)
}

func (f *fakeSvc) LastOpen(context.Context) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastOpen
}

func (f *fakeSvc) SetLastOpen(_ context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastOpen = key
	return nil
}

func (f *fakeSvc) RetryNow() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.retryNow++
}

func (f *fakeSvc) takeEvents() []matrixsvc.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	evts := f.outEvents
	f.outEvents = nil
	return evts
}

func (f *fakeSvc) Accept(_ context.Context, room id.RoomID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accepted = append(f.accepted, room)
	return nil
}

func (f *fakeSvc) MarkRead(_ context.Context, room id.RoomID, evt id.EventID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.read = append(f.read, string(room)+" "+string(evt))
	return nil
}

// Search finds messages of the fake history whose text contains the query, newest first.
func (f *fakeSvc) Search(_ context.Context, query string, with id.UserID, limit int) ([]matrixsvc.SearchResult, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.searches = append(f.searches, query)
	if strings.Count(query, `"`)%2 == 1 {
		return nil, false, fmt.Errorf("%w: a quote is not closed", matrixsvc.ErrBadSearch)
	}
	person := map[id.RoomID]matrixsvc.ContactView{}
	for _, c := range f.ov.Contacts {
		person[c.Room] = c
	}
	var out []matrixsvc.SearchResult
	for room, msgs := range f.history {
		c, ok := person[room]
		if with != "" && (!ok || c.UserID != with) {
			continue
		}
		for _, m := range msgs {
			i := strings.Index(strings.ToLower(m.Body), strings.ToLower(query))
			if i < 0 {
				continue
			}
			snippet := m.Body[:i] + "\x01" + m.Body[i:i+len(query)] + "\x02" + m.Body[i+len(query):]
			out = append(out, matrixsvc.SearchResult{Message: m, Person: c.UserID, Name: c.DisplayName, Snippet: snippet})
		}
	}
	slices.SortFunc(out, func(a, b matrixsvc.SearchResult) int { return b.Timestamp.Compare(a.Timestamp) })
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}

func (f *fakeSvc) SearchUsers(_ context.Context, term string, _ int) ([]matrixsvc.DirectoryUser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.searches = append(f.searches, "directory:"+term)
	var out []matrixsvc.DirectoryUser
	for _, u := range f.directory {
		if strings.Contains(strings.ToLower(string(u.UserID)+" "+u.DisplayName), strings.ToLower(term)) {
			out = append(out, u)
		}
	}
	return out, nil
}

func (f *fakeSvc) Decline(_ context.Context, room id.RoomID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.declined = append(f.declined, room)
	return nil
}

func (f *fakeSvc) RoomEncrypted(_ context.Context, room id.RoomID) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.encrypted[room]
}

func (f *fakeSvc) DisplayName(_ context.Context, user id.UserID, _ bool) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.users[user]
}

func (f *fakeSvc) StartVerification(_ context.Context, user id.UserID) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.verifyCalls = append(f.verifyCalls, "start "+string(user))
	if f.startErr != nil {
		return "", f.startErr
	}
	return fmt.Sprintf("txn%d", len(f.verifyCalls)), nil
}

func (f *fakeSvc) AcceptVerification(_ context.Context, txn string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.verifyCalls = append(f.verifyCalls, "accept "+txn)
	return nil
}

func (f *fakeSvc) ConfirmVerification(_ context.Context, txn string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.verifyCalls = append(f.verifyCalls, "confirm "+txn)
	return nil
}

func (f *fakeSvc) CancelVerification(_ context.Context, txn string, mismatch bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	call := "cancel " + txn
	if mismatch {
		call += " mismatch"
	}
	f.verifyCalls = append(f.verifyCalls, call)
	return nil
}

func (f *fakeSvc) PeerTrust(_ context.Context, user id.UserID) (matrixsvc.PeerTrust, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.trustCalls = append(f.trustCalls, user)
	return f.trust[user], nil
}

func (f *fakeSvc) HasRecovery(context.Context) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hasRecovery, nil
}

func (f *fakeSvc) VerifyWithRecoveryKey(_ context.Context, k string) (matrixsvc.RecoveryResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keyTries = append(f.keyTries, k)
	switch {
	case !f.hasRecovery:
		return matrixsvc.RecoveryResult{}, matrixsvc.ErrNoRecovery
	case k != f.recoveryKey:
		return matrixsvc.RecoveryResult{}, matrixsvc.ErrWrongRecoveryKey
	}
	return f.recovered, nil
}

func (f *fakeSvc) SetUpRecovery(_ context.Context, password, passphrase string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.setUps++
	if password != f.password {
		return "", errors.New("the homeserver refused: wrong password")
	}
	f.hasRecovery, f.recoveryKey = true, f.newKey
	return f.newKey, f.setUpErr
}

// The fixed clock of every test: Monday 2 March 2026, 15:30 UTC.
var testNow = time.Date(2026, 3, 2, 15, 30, 0, 0, time.UTC)

func ms(t time.Time) int64 { return t.UnixMilli() }

const (
	alice = id.UserID("@alice:example.org")
	bob   = id.UserID("@bob:example.org")
	carol = id.UserID("@carol:example.org")
	dave  = id.UserID("@dave:example.org")
	erin  = id.UserID("@erin:example.org")

	aliceRoom = id.RoomID("!alice:example.org")
	bobRoom   = id.RoomID("!bob:example.org")
)

// fixture is a fake with a realistic contacts list and a conversation with Alice.
func fixture() *fakeSvc {
	f := newFake()
	f.users = map[id.UserID]string{alice: "Alice", bob: "Bob", carol: "Carol", erin: "Erin"}
	f.encrypted[aliceRoom] = true
	f.ov = matrixsvc.Overview{
		DirectWellFormed: true,
		Contacts: []matrixsvc.ContactView{
			{Contact: matrixsvc.Contact{UserID: alice, Rooms: []id.RoomID{aliceRoom}, Room: aliceRoom, LastActivity: ms(testNow.Add(-5 * time.Minute)), Unread: 2},
				DisplayName: "Alice", Preview: matrixsvc.Preview{Body: "see you tomorrow", Sender: alice, TS: ms(testNow.Add(-5 * time.Minute))}},
			{Contact: matrixsvc.Contact{UserID: carol, LastActivity: ms(testNow.Add(-10 * time.Minute)), Pending: true, InviteRooms: []id.RoomID{"!inv:example.org"}},
				DisplayName: "Carol"},
			{Contact: matrixsvc.Contact{UserID: bob, Rooms: []id.RoomID{bobRoom}, Room: bobRoom, LastActivity: ms(testNow.Add(-26 * time.Hour))},
				DisplayName: "Bob", Preview: matrixsvc.Preview{Body: "ok", Sender: "@me:example.org", TS: ms(testNow.Add(-26 * time.Hour))}},
			{Contact: matrixsvc.Contact{UserID: dave}},
		},
		Groups: []matrixsvc.GroupView{
			{GroupDM: matrixsvc.GroupDM{RoomID: "!grp:example.org", Users: []id.UserID{alice, bob}, MemberCount: 3, LastActivity: ms(testNow.Add(-3 * time.Hour)), Unread: 5, Name: "Weekend trip"},
				Preview: matrixsvc.Preview{Body: "who brings the tent?", Sender: bob}},
		},
		Invites: []matrixsvc.Invite{{RoomID: "!club:example.org", Inviter: erin, Name: "Book club", Timestamp: ms(testNow.Add(-48 * time.Hour))}},
	}
	day1 := testNow.Add(-24 * time.Hour).Truncate(24 * time.Hour).Add(20 * time.Hour)
	f.history[aliceRoom] = []matrixsvc.Message{
		msg(aliceRoom, "$a1", alice, day1, "Hi! Are we still on for tomorrow?"),
		msg(aliceRoom, "$a2", f.me, day1.Add(2*time.Minute), "Yes, 10 o'clock at the station."),
		msg(aliceRoom, "$a3", alice, testNow.Add(-20*time.Minute), "This is a rather long message that will certainly not fit on one line of the conversation pane, so it wraps."),
		msg(aliceRoom, "$a4", alice, testNow.Add(-6*time.Minute), "Two lines:\nthe second one"),
		msg(aliceRoom, "$a5", alice, testNow.Add(-5*time.Minute), "see you tomorrow"),
	}
	return f
}

func msg(room id.RoomID, evt id.EventID, sender id.UserID, ts time.Time, body string) matrixsvc.Message {
	return matrixsvc.Message{RoomID: room, EventID: evt, Sender: sender, Timestamp: ts, MsgType: "m.text", Body: body}
}

func fixedNow() time.Time { return testNow }

func (f *fakeSvc) Block(_ context.Context, user string) (id.UserID, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.blocked = append(f.blocked, id.UserID(user))
	return id.UserID(user), true, nil
}

func (f *fakeSvc) Unblock(_ context.Context, user string) (id.UserID, bool, error) {
	return id.UserID(user), true, nil
}

func (f *fakeSvc) Conversation(_ context.Context, x id.UserID) ([]matrixsvc.ConversationRoom, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]matrixsvc.ConversationRoom(nil), f.chains[x]...), nil
}

func (f *fakeSvc) MarkConversationRead(_ context.Context, x id.UserID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.convReads = append(f.convReads, x)
	return nil
}
