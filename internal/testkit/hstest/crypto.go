package hstest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/crypto/cryptohelper"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// pickleKey encrypts the olm account and sessions in a CryptoPerson's database. It is the same
// on every run so that a restarted CryptoPerson can open the file again; the data is test data.
const pickleKey = "duet hstest pickle key"

// stateTimeout bounds the waits for the person's own /sync to catch up (an invite, a room's
// encryption state).
const stateTimeout = 30 * time.Second

// Message is an m.room.message a CryptoPerson's device received, or an m.room.encrypted event it
// has not decrypted (yet).
type Message struct {
	ID        id.EventID
	Sender    id.UserID
	Body      string     // empty while undecryptable
	Encrypted bool       // arrived as m.room.encrypted
	Decrypted bool       // Body comes from decrypting the event on this device
	ReplyTo   id.EventID // the message it answers (m.in_reply_to), if any
	// DecryptErr is the latest failure to decrypt the event. It stays after a later success, so
	// a test can tell "was undecryptable, then decrypted". While mautrix still waits for the room
	// key it is crypto.ErrNoSessionFound.
	DecryptErr error
}

// Undecryptable reports whether the event arrived encrypted and this device has no plaintext.
func (m Message) Undecryptable() bool { return m.Encrypted && !m.Decrypted }

// Event is any room event a CryptoPerson's device received in a sync timeline: message-class
// events of every type, decrypted ones included, and state events that came in the timeline.
// An encrypted event is recorded as m.room.encrypted when it arrives and replaced by its
// plaintext once the device decrypts it.
type Event struct {
	ID       id.EventID
	Sender   id.UserID
	Type     string  // after decryption; m.room.encrypted while undecrypted
	StateKey *string // nil for a message event
	// Content is the event's content JSON as the device has it: the plaintext once decrypted
	// (with the m.relates_to of the encrypted wrapper, as mautrix copies it in), else the
	// ciphertext.
	Content   json.RawMessage
	Encrypted bool // arrived as m.room.encrypted
	Decrypted bool // Type and Content come from decrypting it on this device
	// DecryptErr is the latest failure to decrypt it, kept after a later success, as in Message.
	DecryptErr error
	// ParseErr is set when mautrix could not parse the content of this (known) type; the sync
	// then hands the event to no handler, so only this record shows it arrived.
	ParseErr error
}

// Undecryptable reports whether the event arrived encrypted and this device has no plaintext.
func (e Event) Undecryptable() bool { return e.Encrypted && !e.Decrypted }

// ContentMap decodes Content into generic JSON values (numbers are float64); a content that is
// not a JSON object fails the test.
func (e Event) ContentMap(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(e.Content, &m); err != nil {
		t.Fatalf("content of %s (%s) is not a JSON object: %v: %s", e.ID, e.Type, err, e.Content)
	}
	return m
}

// CryptoPerson is a Person whose device does end-to-end encryption the way mautrix-go clients
// do: its own syncing client with a cryptohelper over a SQLite file (olm account, sessions,
// room state, sync token). It records what it receives per room: the text messages (Message)
// and every event of any type (Event).
type CryptoPerson struct {
	*Person
	// CryptoClient syncs and encrypts for the person's device. Person.Client shares its access
	// token and device ID but stays plain: it sends plaintext and reads raw events.
	CryptoClient *mautrix.Client

	helper *cryptohelper.CryptoHelper
	dbPath string
	logs   *LogBuffer

	stopSync  context.CancelFunc
	syncDone  chan struct{}
	syncErr   error // set before syncDone closes; nil when the sync ended after Close stopped it
	closeOnce sync.Once

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced whenever the fields below change
	rooms    map[id.RoomID][]Message
	events   map[id.RoomID][]Event
	invites  map[id.RoomID]bool // invites seen; true once this helper joined
	autoJoin bool
	problems []string // failures inside sync handlers, shown when a wait times out
}

// EnableCrypto starts an encrypting device for the person on a fresh database under t.TempDir().
// Its sync runs until the test ends or Close.
func (p *Person) EnableCrypto(t testing.TB) *CryptoPerson {
	t.Helper()
	return p.EnableCryptoAt(t, filepath.Join(t.TempDir(), "crypto.db"))
}

// EnableCryptoAt is EnableCrypto on a given database file; opening the file of a closed
// CryptoPerson of the same person restarts that device with its keys and sync position.
func (p *Person) EnableCryptoAt(t testing.TB, dbPath string) *CryptoPerson {
	t.Helper()
	cli, err := mautrix.NewClient(p.Client.HomeserverURL.String(), p.ID, p.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	cli.DeviceID = p.Client.DeviceID
	logs := &LogBuffer{}
	cli.Log = zerolog.New(zerolog.ConsoleWriter{Out: logs, NoColor: true, TimeFormat: time.TimeOnly}).
		Level(zerolog.DebugLevel).With().Timestamp().Logger()
	c := &CryptoPerson{
		Person:       p,
		CryptoClient: cli,
		dbPath:       dbPath,
		logs:         logs,
		changed:      make(chan struct{}),
		rooms:        map[id.RoomID][]Message{},
		events:       map[id.RoomID][]Event{},
		invites:      map[id.RoomID]bool{},
	}

	// The syncer's handler lists are not safe to change once the sync runs: register all first.
	syncer := mautrix.NewDefaultSyncer()
	cli.Syncer = syncer
	// A global listener runs before the typed ones for each event, so onEvent records an
	// m.room.encrypted before the helper's handler decrypts it and dispatches the plaintext,
	// which onEvent then records over it.
	syncer.OnEvent(c.onEvent)
	dropUnparsable := syncer.ParseErrorHandler
	syncer.ParseErrorHandler = func(evt *event.Event, err error) bool {
		keep := dropUnparsable(evt, err)
		if !keep {
			c.onUnparsable(evt, err)
		}
		return keep
	}
	syncer.OnEventType(event.EventMessage, c.onMessage)
	syncer.OnEventType(event.StateMember, c.onMember)
	// With cli.StateStore nil the helper keeps the room state in the same SQLite file.
	helper, err := cryptohelper.NewCryptoHelper(cli, []byte(pickleKey), dbPath)
	if err != nil {
		t.Fatalf("crypto helper for %s: %v", p.ID, err)
	}
	helper.DecryptErrorCallback = c.onDecryptError
	if err := helper.Init(Ctx(t)); err != nil {
		_ = helper.Close()
		t.Fatalf("init crypto for %s on device %s: %v", p.ID, cli.DeviceID, err)
	}
	// After Init, so this runs after the helper's own m.room.encrypted handler has tried.
	syncer.OnEventType(event.EventEncrypted, c.onEncrypted)
	cli.Crypto = helper
	c.helper = helper

	ctx, cancel := context.WithCancel(context.Background())
	c.stopSync, c.syncDone = cancel, make(chan struct{})
	go func() {
		defer close(c.syncDone)
		err := cli.SyncWithContext(ctx)
		// Whatever a sync says as it ends because Close stopped it is no failure of the test.
		// mautrix v0.32 can even panic then: HandleHistoryVisibility dereferences the nil
		// session that a store read cancelled with the sync's context gives
		// (crypto/machine.go:432). A sync that ends on its own, before Close, is reported.
		if ctx.Err() == nil {
			c.syncErr = err
		}
	}()
	t.Cleanup(func() { c.Close(t) })
	return c
}

// NewDevice logs the person in again with the password: the same account on a second device.
func (p *Person) NewDevice(t testing.TB) *Person {
	t.Helper()
	resp, err := p.Client.Login(Ctx(t), &mautrix.ReqLogin{
		Type:                     mautrix.AuthTypePassword,
		Identifier:               mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: string(p.ID)},
		Password:                 p.Password,
		InitialDeviceDisplayName: "duet-test another device",
	})
	if err != nil {
		t.Fatalf("%s logs in on another device: %v", p.ID, err)
	}
	cli, err := mautrix.NewClient(p.Client.HomeserverURL.String(), p.ID, resp.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	cli.DeviceID = resp.DeviceID
	acc := *p.Account
	acc.AccessToken, acc.DeviceID = resp.AccessToken, string(resp.DeviceID)
	return &Person{Account: &acc, ID: p.ID, Client: cli}
}

// Close stops the sync, waits for it and closes the database. The test's cleanup calls it too;
// calling it twice is harmless. When the test has failed it logs the tail of the device's log.
func (c *CryptoPerson) Close(t testing.TB) {
	t.Helper()
	c.closeOnce.Do(func() {
		c.stopSync()
		<-c.syncDone
		if c.syncErr != nil {
			t.Errorf("sync of %s stopped: %v", c.ID, c.syncErr)
		}
		// Goroutines the helper started to wait for room keys end with the sync's context; a
		// late one only meets a closed database, which our handlers record as a decrypt error.
		if err := c.helper.Close(); err != nil {
			t.Errorf("close crypto database of %s: %v", c.ID, err)
		}
		if t.Failed() {
			t.Logf("last log lines of %s (device %s):\n%s", c.ID, c.DeviceID(), c.logs.tail(80))
		}
	})
}

// DBPath is the SQLite file holding the device's keys, room state and sync position.
func (c *CryptoPerson) DBPath() string { return c.dbPath }

// DeviceID is the device this person encrypts as.
func (c *CryptoPerson) DeviceID() id.DeviceID { return c.CryptoClient.DeviceID }

// Machine is the device's olm machine, for cross-signing and verification.
func (c *CryptoPerson) Machine() *crypto.OlmMachine { return c.helper.Machine() }

// CreateEncryptedDM creates a DM with other the way Element does (trusted_private_chat preset,
// is_direct invite, megolm from the first event) and records it in the person's m.direct.
func (c *CryptoPerson) CreateEncryptedDM(t testing.TB, other id.UserID) id.RoomID {
	t.Helper()
	stateKey := ""
	resp, err := c.CryptoClient.CreateRoom(Ctx(t), &mautrix.ReqCreateRoom{
		Preset:   "trusted_private_chat",
		IsDirect: true,
		Invite:   []id.UserID{other},
		InitialState: []*event.Event{{
			Type:     event.StateEncryption,
			StateKey: &stateKey,
			Content:  event.Content{Parsed: &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}},
		}},
	})
	if err != nil {
		t.Fatalf("%s creates an encrypted DM with %s: %v", c.ID, other, err)
	}
	c.addDirect(t, other, resp.RoomID)
	return resp.RoomID
}

// addDirect appends room to other's entry in m.direct, keeping everything else as it was.
func (c *CryptoPerson) addDirect(t testing.TB, other id.UserID, room id.RoomID) {
	t.Helper()
	entries := map[string]json.RawMessage{}
	if raw := c.DirectRaw(t); raw != nil {
		if err := json.Unmarshal(raw, &entries); err != nil {
			t.Fatalf("m.direct of %s is not an object: %s", c.ID, raw)
		}
	}
	var rooms []string
	if err := json.Unmarshal(entries[string(other)], &rooms); err != nil {
		rooms = nil // missing or malformed: Element replaces it too
	}
	list, err := json.Marshal(append(rooms, string(room)))
	if err != nil {
		t.Fatal(err)
	}
	entries[string(other)] = list
	raw, err := json.Marshal(entries)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDirectRaw(t, string(raw))
}

// SendText sends an encrypted text message. It first waits until the device can encrypt for
// the room (waitCanEncrypt), so it never falls back to plaintext.
func (c *CryptoPerson) SendText(t testing.TB, room id.RoomID, body string) id.EventID {
	t.Helper()
	ctx := Ctx(t)
	c.waitCanEncrypt(ctx, t, room)
	resp, err := c.CryptoClient.SendText(ctx, room, body)
	if err != nil {
		t.Fatalf("%s sends %q to %s: %v", c.ID, body, room, err)
	}
	return resp.EventID
}

// SendEvent sends a message event of any type, end-to-end encrypted, after the same waits as
// SendText. It encrypts the content itself and sends the m.room.encrypted, rather than leaving
// the choice to CryptoClient.SendMessageEvent: that sends m.reaction in plaintext, and so would
// anything else whenever its state store did not say the room is encrypted. It never sends
// plaintext. Person.SendEvent sends the same content in plaintext.
func (c *CryptoPerson) SendEvent(t testing.TB, room id.RoomID, typ string, content map[string]any) id.EventID {
	t.Helper()
	ctx := Ctx(t)
	c.waitCanEncrypt(ctx, t, room)
	evtType := event.Type{Type: typ, Class: event.MessageEventType}
	encrypted, err := c.CryptoClient.Crypto.Encrypt(ctx, room, evtType, content)
	if err != nil {
		t.Fatalf("%s encrypts a %s for %s: %v", c.ID, typ, room, err)
	}
	resp, err := c.CryptoClient.SendMessageEvent(ctx, room, event.EventEncrypted, encrypted)
	if err != nil {
		t.Fatalf("%s sends an encrypted %s to %s: %v", c.ID, typ, room, err)
	}
	return resp.EventID
}

// waitCanEncrypt waits until the device's own sync has shown room as encrypted and it has
// loaded the member list, so mautrix shares the room key with every joined and invited member.
func (c *CryptoPerson) waitCanEncrypt(ctx context.Context, t testing.TB, room id.RoomID) {
	t.Helper()
	Eventually(t, stateTimeout, func() string {
		encrypted, err := c.CryptoClient.StateStore.IsEncrypted(ctx, room)
		if err != nil {
			return fmt.Sprintf("state store of %s: %v", c.ID, err)
		} else if !encrypted {
			return fmt.Sprintf("%s's sync has not shown %s as encrypted", c.ID, room)
		}
		return ""
	})
	// The room key goes to the members the state store knows. Dendrite's member list catches
	// up with a new room's invites a moment later (its sync API is eventually consistent), so
	// wait until someone besides us is there, or the key would be shared with nobody.
	Eventually(t, stateTimeout, func() string {
		if _, err := c.CryptoClient.Members(ctx, room); err != nil {
			return fmt.Sprintf("%s loads the members of %s: %v", c.ID, room, err)
		}
		members, err := c.CryptoClient.StateStore.GetRoomJoinedOrInvitedMembers(ctx, room)
		if err != nil {
			return err.Error()
		}
		for _, m := range members {
			if m != c.ID {
				return ""
			}
		}
		return fmt.Sprintf("%s knows no other member of %s yet", c.ID, room)
	})
}

// WaitMessage waits until the device has the plaintext of a message with this body in room and
// returns it. On timeout it fails the test with what the device did receive.
func (c *CryptoPerson) WaitMessage(t testing.TB, room id.RoomID, body string, timeout time.Duration) Message {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		changed := c.changed
		for _, m := range c.rooms[room] {
			if m.Body == body && !m.Undecryptable() {
				c.mu.Unlock()
				return m
			}
		}
		c.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("%s did not receive %q in %s within %s; %s", c.ID, body, room, timeout, c.describe(room))
		}
	}
}

// describe summarises what the device received in room, for failure messages.
func (c *CryptoPerson) describe(room id.RoomID) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var bodies, errs []string
	for _, m := range c.rooms[room] {
		if m.Undecryptable() {
			errs = append(errs, fmt.Sprintf("%s from %s: %v", m.ID, m.Sender, m.DecryptErr))
		} else {
			bodies = append(bodies, m.Body)
		}
	}
	s := fmt.Sprintf("bodies received: %q; %d undecryptable", bodies, len(errs))
	if len(errs) > 0 {
		s += " (" + strings.Join(errs, "; ") + ")"
	}
	if len(c.problems) > 0 {
		s += "; sync handler problems: " + strings.Join(c.problems, "; ")
	}
	return s
}

// Messages returns what the device received in room so far, in arrival order, undecryptable
// events included.
func (c *CryptoPerson) Messages(room id.RoomID) []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Message(nil), c.rooms[room]...)
}

// WaitEvent waits until the device has received an event in room that match accepts and
// returns it; match sees the events in arrival order, undecryptable ones included (check
// Decrypted when the plaintext matters). On timeout it fails the test with what the device did
// receive.
func (c *CryptoPerson) WaitEvent(t testing.TB, room id.RoomID, timeout time.Duration, match func(Event) bool) Event {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		changed := c.changed
		events := append([]Event(nil), c.events[room]...)
		c.mu.Unlock()
		// match runs outside the lock: it may call t or the CryptoPerson.
		for _, e := range events {
			if match(e) {
				return e
			}
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("%s received no matching event in %s within %s; %s", c.ID, room, timeout, c.describeEvents(room))
		}
	}
}

// Events returns the events the device received in room so far, in arrival order.
func (c *CryptoPerson) Events(room id.RoomID) []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Event(nil), c.events[room]...)
}

// describeEvents summarises the events the device received in room, for failure messages.
func (c *CryptoPerson) describeEvents(room id.RoomID) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var lines []string
	for _, e := range c.events[room] {
		line := fmt.Sprintf("%s %s from %s", e.ID, e.Type, e.Sender)
		switch {
		case e.Decrypted:
			line += " (decrypted)"
		case e.Encrypted:
			line += fmt.Sprintf(" (undecryptable: %v)", e.DecryptErr)
		}
		if e.ParseErr != nil {
			line += fmt.Sprintf(" (unparsable: %v)", e.ParseErr)
		}
		if len(e.Content) > 200 {
			line += fmt.Sprintf(": %s…", e.Content[:200])
		} else {
			line += fmt.Sprintf(": %s", e.Content)
		}
		lines = append(lines, line)
	}
	s := fmt.Sprintf("%d events received", len(lines))
	if len(lines) > 0 {
		s += ":\n  " + strings.Join(lines, "\n  ")
	}
	if len(c.problems) > 0 {
		s += "\nsync handler problems: " + strings.Join(c.problems, "; ")
	}
	return s
}

// JoinWhenInvited waits for the device's sync to show an invite to room, then joins it.
func (c *CryptoPerson) JoinWhenInvited(t testing.TB, room id.RoomID) {
	t.Helper()
	deadline := time.NewTimer(stateTimeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		_, invited := c.invites[room]
		changed := c.changed
		c.mu.Unlock()
		if invited {
			break
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("%s saw no invite to %s within %s", c.ID, room, stateTimeout)
		}
	}
	if err := c.join(Ctx(t), room); err != nil {
		t.Fatalf("%s joins %s: %v", c.ID, room, err)
	}
}

// AcceptInvitesAutomatically joins the rooms the device was already invited to and, from now
// on, every room it is invited to as soon as its sync shows the invite. Failures of those later
// joins show up in WaitMessage's failure message.
func (c *CryptoPerson) AcceptInvitesAutomatically(t testing.TB) {
	t.Helper()
	c.mu.Lock()
	c.autoJoin = true
	var pending []id.RoomID
	for room, joined := range c.invites {
		if !joined {
			pending = append(pending, room)
		}
	}
	c.mu.Unlock()
	for _, room := range pending {
		if err := c.join(Ctx(t), room); err != nil {
			t.Fatalf("%s joins %s: %v", c.ID, room, err)
		}
	}
}

func (c *CryptoPerson) join(ctx context.Context, room id.RoomID) error {
	if _, err := c.CryptoClient.JoinRoomByID(ctx, room); err != nil {
		return err
	}
	c.update(func() { c.invites[room] = true })
	return nil
}

// update changes the recorded state under the lock and wakes the waiters.
func (c *CryptoPerson) update(change func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	change()
	close(c.changed)
	c.changed = make(chan struct{})
}

// message returns a pointer to the recorded event evt in its room, adding it if new. Call it
// inside update.
func (c *CryptoPerson) message(evt *event.Event) *Message {
	list := c.rooms[evt.RoomID]
	for i := range list {
		if list[i].ID == evt.ID {
			return &list[i]
		}
	}
	c.rooms[evt.RoomID] = append(list, Message{ID: evt.ID, Sender: evt.Sender})
	return &c.rooms[evt.RoomID][len(list)]
}

// recorded returns a pointer to the recorded event with this ID in room, adding it if new. Call
// it inside update.
func (c *CryptoPerson) recorded(room id.RoomID, evtID id.EventID, sender id.UserID) *Event {
	list := c.events[room]
	for i := range list {
		if list[i].ID == evtID {
			return &list[i]
		}
	}
	c.events[room] = append(list, Event{ID: evtID, Sender: sender})
	return &c.events[room][len(list)]
}

// The handlers below run on the sync goroutine, and the decrypting ones also on goroutines the
// crypto helper starts while it waits for room keys; they must not call t.

func (c *CryptoPerson) onMessage(_ context.Context, evt *event.Event) {
	if evt.Content.Parsed == nil {
		_ = evt.Content.ParseRaw(evt.Type)
	}
	content := evt.Content.AsMessage()
	body, replyTo := content.Body, content.RelatesTo.GetReplyTo()
	decrypted := evt.Mautrix.EventSource&event.SourceDecrypted != 0
	c.update(func() {
		m := c.message(evt)
		m.Body, m.Encrypted, m.Decrypted, m.ReplyTo = body, decrypted, decrypted, replyTo
	})
}

func (c *CryptoPerson) onEvent(_ context.Context, evt *event.Event) {
	if evt.RoomID == "" || evt.ID == "" {
		return
	}
	source := evt.Mautrix.EventSource
	switch {
	case evt.Type.Class == event.MessageEventType:
	case evt.Type.Class == event.StateEventType && source&event.SourceTimeline != 0:
	default:
		return // room state outside the timeline, ephemeral events, account data, to-device
	}
	decrypted := source&event.SourceDecrypted != 0
	encrypted := decrypted || evt.Type == event.EventEncrypted
	raw := append(json.RawMessage(nil), evt.Content.VeryRaw...)
	var stateKey *string
	if evt.StateKey != nil {
		key := *evt.StateKey
		stateKey = &key
	}
	c.update(func() {
		e := c.recorded(evt.RoomID, evt.ID, evt.Sender)
		if e.Decrypted && !decrypted {
			return // the plaintext is already here; a repeat of the ciphertext changes nothing
		}
		e.Type, e.StateKey, e.Content = evt.Type.Type, stateKey, raw
		e.Encrypted = e.Encrypted || encrypted
		e.Decrypted = decrypted
	})
}

// onUnparsable records a message event whose content mautrix could not parse and so dropped.
func (c *CryptoPerson) onUnparsable(evt *event.Event, err error) {
	if evt.RoomID == "" || evt.ID == "" || evt.Type.Class != event.MessageEventType {
		return
	}
	raw := append(json.RawMessage(nil), evt.Content.VeryRaw...)
	c.update(func() {
		e := c.recorded(evt.RoomID, evt.ID, evt.Sender)
		e.Type, e.Content, e.ParseErr = evt.Type.Type, raw, err
		e.Encrypted = e.Encrypted || evt.Type == event.EventEncrypted
	})
}

func (c *CryptoPerson) onEncrypted(_ context.Context, evt *event.Event) {
	waiting := fmt.Errorf("%w (waiting for the room key)", crypto.ErrNoSessionFound)
	c.update(func() {
		m := c.message(evt)
		m.Encrypted = true
		if !m.Decrypted && m.DecryptErr == nil {
			// The helper neither decrypted it nor reported an error: it is waiting for the key.
			m.DecryptErr = waiting
		}
		e := c.recorded(evt.RoomID, evt.ID, evt.Sender)
		if !e.Decrypted && e.DecryptErr == nil {
			e.DecryptErr = waiting
		}
	})
}

func (c *CryptoPerson) onDecryptError(evt *event.Event, err error) {
	c.update(func() {
		m := c.message(evt)
		m.Encrypted, m.DecryptErr = true, err
		e := c.recorded(evt.RoomID, evt.ID, evt.Sender)
		e.Encrypted, e.DecryptErr = true, err
		if e.Type == "" {
			e.Type, e.Content = evt.Type.Type, append(json.RawMessage(nil), evt.Content.VeryRaw...)
		}
	})
}

func (c *CryptoPerson) onMember(ctx context.Context, evt *event.Event) {
	if evt.GetStateKey() != string(c.ID) || evt.Content.AsMember().Membership != event.MembershipInvite ||
		evt.Mautrix.EventSource&event.SourceInvite == 0 {
		return
	}
	room := evt.RoomID
	var join bool
	c.update(func() {
		if _, seen := c.invites[room]; !seen {
			c.invites[room] = false
		}
		join = c.autoJoin && !c.invites[room]
	})
	if !join {
		return
	}
	if err := c.join(ctx, room); err != nil && ctx.Err() == nil {
		c.update(func() { c.problems = append(c.problems, fmt.Sprintf("auto-join %s: %v", room, err)) })
	}
}

// LogBuffer keeps a log in memory, safe for concurrent writers, for tests to read and for
// failure reports.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tail returns the last n lines.
func (b *LogBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	lines := strings.Split(strings.TrimRight(b.buf.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
