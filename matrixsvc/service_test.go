package matrixsvc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/homeserver"
	"duet/internal/testkit/hstest"
	"duet/store"
)

var hs *homeserver.Server

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		outboxChild()
		return
	}
	hstest.Main(m, &hs)
}

// newService logs p in through Login and opens a service on a fresh store; homeserverURL
// overrides the server address (a proxy in front of it).
func newService(t testing.TB, p *hstest.Person, homeserverURL string) *Service {
	t.Helper()
	ctx := hstest.Ctx(t)
	sess, err := Login(ctx, LoginParams{Homeserver: hs.URL, User: string(p.ID), Password: p.Password}, zerolog.Nop())
	if err != nil {
		t.Fatalf("login %s: %v", p.ID, err)
	}
	if homeserverURL != "" {
		sess.Homeserver = homeserverURL
	}
	return openService(t, sess, t.TempDir())
}

// openService opens a service for a session on the store and crypto store in dir, with
// end-to-end encryption as duet runs it.
func openService(t testing.TB, sess *store.Session, dir string) *Service {
	t.Helper()
	st, err := store.Open(hstest.Ctx(t), filepath.Join(dir, "duet.db"), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if sess.PickleKey == "" {
		sess.PickleKey = NewPickleKey()
	}
	cfg := DefaultConfig()
	cfg.CryptoStore = filepath.Join(dir, "crypto.db")
	log := zerolog.Nop()
	if os.Getenv("DUET_TEST_LOG") != "" {
		log = zerolog.New(zerolog.NewTestWriter(t)).With().Str("device", string(sess.DeviceID)).Logger()
	}
	svc, err := New(sess, st, log, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(); st.Close() })
	return svc
}

// runLoop starts the sync loop and returns a function that waits for an event matching want.
func runLoop(t *testing.T, svc *Service) func(what string, want func(Event) bool) Event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	events := svc.Events() // listening from the start: events to listeners only are not lost
	done := make(chan struct{})
	go func() { defer close(done); svc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return func(what string, want func(Event) bool) Event {
		t.Helper()
		// Longer than settle: a send whose connection broke (a pooled connection the server
		// closed, which a loaded machine may reuse before it notices) waits that long before
		// it goes again.
		timeout := time.After(settle + 30*time.Second)
		for {
			select {
			case evt := <-events:
				if want(evt) {
					return evt
				}
			case <-timeout:
				t.Fatalf("no event: %s", what)
				return nil
			}
		}
	}
}

func contactOf(t *testing.T, svc *Service, user id.UserID) *ContactView {
	t.Helper()
	ov, err := svc.Overview(hstest.Ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for i := range ov.Contacts {
		if ov.Contacts[i].UserID == user {
			return &ov.Contacts[i]
		}
	}
	// A stranger's direct invite is a request (R24): the same entry, listed apart.
	for i := range ov.Requests {
		if ov.Requests[i].UserID == user {
			return &ov.Requests[i]
		}
	}
	return nil
}

// The sync loop brings a new DM invite and then its messages to the UI without any request
// from it, one coalesced event per sync.
func TestRunPublishesNewDMAndMessages(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	svc := newService(t, alice, "")
	next := runLoop(t, svc)
	next("sync goes live", func(e Event) bool { s, ok := e.(SyncStateChanged); return ok && s.State == SyncLive })

	room := bob.CreateRoom(t, true, alice.ID)
	next("the invite arrives", func(e Event) bool {
		s, ok := e.(SyncApplied)
		if !ok || !s.DMListChanged {
			return false
		}
		c := contactOf(t, svc, bob.ID)
		return c != nil && c.Pending && slices.Equal(c.InviteRooms, []id.RoomID{room})
	})
	if err := svc.Accept(hstest.Ctx(t), room); err != nil {
		t.Fatal(err)
	}
	bob.Say(t, room, "hi alice")
	evt := next("bob's message arrives", func(e Event) bool {
		s, ok := e.(SyncApplied)
		return ok && slices.ContainsFunc(s.Messages, func(m Message) bool { return m.Body == "hi alice" })
	})
	for _, m := range evt.(SyncApplied).Messages {
		if m.Body == "hi alice" && (m.Sender != bob.ID || m.RoomID != room || m.EventID == "") {
			t.Fatalf("message fields: %+v", m)
		}
	}
	c := contactOf(t, svc, bob.ID)
	if c == nil || c.Pending || c.Room != room || c.Preview.Body != "hi alice" || c.DisplayName != "Bob" {
		t.Fatalf("contact after the message: %+v", c)
	}
	// History pages run backwards from the newest message.
	msgs, _, err := svc.History(hstest.Ctx(t), room, "", 10)
	if err != nil || len(msgs) == 0 || msgs[len(msgs)-1].Body != "hi alice" {
		t.Fatalf("history: %+v, %v", msgs, err)
	}
}

// R10 "at most one creation per contact in flight": two concurrent opens make one room.
func TestConcurrentOpenDMCreatesOneRoom(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	svc := newService(t, alice, "")
	if _, err := svc.CatchUp(hstest.Ctx(t)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	rooms := make([]id.RoomID, 12)
	for i := range rooms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Staggered, as the UI opening the conversation and the outbox sending the first
			// message are: a later caller may look before the first creation is recorded.
			time.Sleep(time.Duration(i) * 10 * time.Millisecond)
			room, _, err := svc.OpenDM(hstest.Ctx(t), bob.ID)
			if err != nil {
				t.Error(err)
			}
			rooms[i] = room
		}()
	}
	wg.Wait()
	for _, r := range rooms {
		if r == "" || r != rooms[0] {
			t.Fatalf("concurrent opens gave %v", rooms)
		}
	}
	if joined := alice.JoinedRooms(t); len(joined) != 1 {
		t.Fatalf("alice is in %d rooms, want 1", len(joined))
	}
	// The new contact is named at once, from the profile lookup.
	if c := contactOf(t, svc, bob.ID); c == nil || c.DisplayName != "Bob" || c.Room != rooms[0] {
		t.Fatalf("new contact: %+v", c)
	}
	// And stays named once sync brings the invite, which on Dendrite carries no name.
	if _, err := svc.CatchUp(hstest.Ctx(t)); err != nil {
		t.Fatal(err)
	}
	if c := contactOf(t, svc, bob.ID); c == nil || c.DisplayName != "Bob" {
		t.Fatalf("contact after sync brought the invite: %+v", c)
	}
}

// A revoked token stops the loop with LoggedOut.
func TestRunReportsLoggedOut(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	svc := newService(t, alice, "")
	next := runLoop(t, svc)
	next("sync goes live", func(e Event) bool { s, ok := e.(SyncStateChanged); return ok && s.State == SyncLive })
	if _, err := svc.cli.Logout(hstest.Ctx(t)); err != nil {
		t.Fatal(err)
	}
	evt := next("logged out", func(e Event) bool { _, ok := e.(LoggedOut); return ok })
	if !IsLoggedOut(evt.(LoggedOut).Err) {
		t.Fatalf("LoggedOut carries %v", evt.(LoggedOut).Err)
	}
}

// proxy forwards a loopback port to the homeserver and can drop every connection.
type proxy struct {
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
	target string
}

func (p *proxy) start(t *testing.T) {
	t.Helper()
	addr := p.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(u, c); u.Close() }()
			go func() { _, _ = io.Copy(c, u); c.Close() }()
		}
	}()
}

func (p *proxy) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// behindProxy is a service for person that reaches the homeserver through a proxy the test
// can cut and restore.
func behindProxy(t *testing.T, person *hstest.Person) (*Service, *proxy) {
	t.Helper()
	p := &proxy{target: hs.URL[len("http://"):]}
	p.start(t)
	t.Cleanup(p.drop)
	return newService(t, person, "http://"+p.addr), p
}

// When the connection drops the loop reports offline, and it resumes by itself.
func TestRunSurvivesConnectionDrop(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	svc, p := behindProxy(t, alice)
	next := runLoop(t, svc)
	next("sync goes live", func(e Event) bool { s, ok := e.(SyncStateChanged); return ok && s.State == SyncLive })
	p.drop()
	evt := next("offline", func(e Event) bool { s, ok := e.(SyncStateChanged); return ok && s.State == SyncOffline })
	if s := evt.(SyncStateChanged); s.Err == nil || s.RetryIn <= 0 {
		t.Fatalf("offline state without reason or retry: %+v", s)
	}
	room := bob.CreateRoom(t, true, alice.ID)
	p.start(t)
	next("live again", func(e Event) bool { s, ok := e.(SyncStateChanged); return ok && s.State == SyncLive })
	next("the invite sent while offline arrives", func(e Event) bool {
		c := contactOf(t, svc, bob.ID)
		return c != nil && slices.Contains(c.InviteRooms, room)
	})
}

// R17: leaving and forgetting a DM removes it from m.direct; the other person leaving keeps it.
func TestLeaveRemovesFromDirectButTheirLeaveKeepsIt(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	carol := hstest.NewPerson(t, hs, "carol", "Carol")
	svc := newService(t, alice, "")
	ctx := hstest.Ctx(t)
	if _, err := svc.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	withBob, err := svc.CreateDM(ctx, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	withCarol, err := svc.CreateDM(ctx, carol.ID)
	if err != nil {
		t.Fatal(err)
	}
	carol.Join(t, withCarol)
	carol.Leave(t, withCarol)
	if err := svc.Leave(ctx, withBob); err != nil {
		t.Fatal(err)
	}
	d := alice.Direct(t)
	if _, ok := d[string(bob.ID)]; ok {
		t.Fatalf("m.direct still lists the room alice left: %v", d)
	}
	if !slices.Equal(d[string(carol.ID)], []string{string(withCarol)}) {
		t.Fatalf("carol leaving must keep alice's entry: %v", d)
	}
	if slices.Contains(alice.JoinedRooms(t), withBob) {
		t.Fatal("alice is still in the room she left")
	}
}

// Right after Accept returns, the contact's room is chosen and its history shows what was said
// before we joined: the UI can open it at once, whatever sync has or has not brought yet.
func TestAcceptedDMIsReadyAtOnce(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	svc := newService(t, alice, "")
	ctx := hstest.Ctx(t)
	room := bob.CreateRoom(t, true, alice.ID)
	bob.Say(t, room, "said before you joined")
	hstest.Eventually(t, 15*time.Second, func() string {
		if _, err := svc.CatchUp(ctx); err != nil {
			return err.Error()
		}
		if c := contactOf(t, svc, bob.ID); c == nil || !c.Pending {
			return "invite not seen yet"
		}
		return ""
	})
	if err := svc.Accept(ctx, room); err != nil {
		t.Fatal(err)
	}
	if c := contactOf(t, svc, bob.ID); c == nil || c.Pending || c.Room != room {
		t.Fatalf("contact right after accepting: %+v", c)
	}
	msgs, _, err := svc.History(ctx, room, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(msgs, func(m Message) bool { return m.Body == "said before you joined" }) {
		t.Fatalf("history right after accepting: %+v", msgs)
	}
	// A sync afterwards keeps it.
	if _, err := svc.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if c := contactOf(t, svc, bob.ID); c == nil || c.Room != room {
		t.Fatalf("contact after the next sync: %+v", c)
	}
}

// Events with missing or wrongly typed fields, as a hostile or buggy client sends them, are
// skipped with a log line; sync goes on and the next good message arrives.
func TestMalformedEventsAreSkippedWithALogLine(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	svc := newService(t, alice, "")
	var logs hstest.LogBuffer
	svc.log = zerolog.New(&logs)
	ctx := hstest.Ctx(t)
	room := bob.CreateRoom(t, true, alice.ID)
	acceptInvite(t, svc, room)
	junk := []map[string]any{
		{"msgtype": 5, "body": "a number for a msgtype"},
		{"msgtype": "m.text", "body": []string{"a", "list"}},
		{"msgtype": "m.text"},
		{"body": map[string]any{"nested": true}},
		{},
	}
	var junkIDs []id.EventID
	for _, content := range junk {
		resp, err := bob.Client.SendMessageEvent(ctx, room, event.EventMessage, content)
		if err != nil {
			t.Fatalf("send %v: %v", content, err)
		}
		junkIDs = append(junkIDs, resp.EventID)
	}
	// Wrongly typed state: the server takes these as they are.
	for _, st := range []struct {
		typ     event.Type
		key     string
		content map[string]any
	}{
		{event.StateRoomName, "", map[string]any{"name": 42}},
		{event.StateTopic, "", map[string]any{"topic": map[string]any{"x": 1}}},
		{event.StateMember, string(bob.ID), map[string]any{"membership": "join", "displayname": 42}},
	} {
		if _, err := bob.Client.SendStateEvent(ctx, room, st.typ, st.key, st.content); err != nil {
			t.Logf("the server refused %s %v: %v", st.typ.Type, st.content, err)
		}
	}
	bob.Say(t, room, "after the junk")
	hstest.Eventually(t, 20*time.Second, func() string {
		if _, err := svc.CatchUp(ctx); err != nil {
			return err.Error()
		}
		msgs, err := svc.Messages(ctx, room, 20)
		if err != nil {
			return err.Error()
		}
		var bodies []string
		for _, m := range msgs {
			bodies = append(bodies, m.Body)
		}
		if strings.Join(bodies, "|") != "after the junk" {
			return fmt.Sprintf("alice's conversation holds %q, want only the good message", bodies)
		}
		return ""
	})
	// Each one logged (once per time it is read: from sync, and again from history).
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "skipped a message whose msgtype or body is missing or not text") {
			junkIDs = slices.DeleteFunc(junkIDs, func(e id.EventID) bool { return strings.Contains(line, string(e)) })
		}
	}
	if len(junkIDs) != 0 {
		t.Fatalf("no log line for %v:\n%s", junkIDs, logs.String())
	}
	list, err := svc.Contacts(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Contacts) != 1 || list.Contacts[0].UserID != bob.ID {
		t.Fatalf("contacts after the junk: %+v", list.Contacts)
	}
}

// R12 from the start of a conversation: a user who exists gives their name; one who does
// not is ErrUserNotFound; a user on a server that cannot be reached is neither, and the error
// says whose server did not answer.
func TestCheckUser(t *testing.T) {
	t.Parallel()
	ctx := hstest.Ctx(t)
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob Checked")
	svc := newService(t, alice, "")
	if x, name, err := svc.CheckUser(ctx, " "+string(bob.ID)+" "); err != nil || x != bob.ID || name != "Bob Checked" {
		t.Fatalf("bob: %s %q %v", x, name, err)
	}
	nobody := id.NewUserID("nobody-"+strings.ToLower(t.Name()), bob.ID.Homeserver())
	if _, _, err := svc.CheckUser(ctx, string(nobody)); !errors.Is(err, ErrUserNotFound) {
		t.Fatalf("a user who does not exist: %v", err)
	}
	far := id.UserID("@someone:127.0.0.1:9") // the discard port: nothing answers there
	_, _, err := svc.CheckUser(ctx, string(far))
	if err == nil || errors.Is(err, ErrUserNotFound) || !Temporary(err) {
		t.Fatalf("a user on a server that cannot be reached: %v", err)
	}
	if want := "your homeserver got no answer from 127.0.0.1:9"; !strings.Contains(err.Error(), want) {
		t.Fatalf("the error %q does not say %q", err, want)
	}
}

// A group DM's senders are called by their names in the room; two who share a name, or one
// whose name looks like a user ID, get their user IDs after it, so nobody passes for another.
func TestMemberNames(t *testing.T) {
	t.Parallel()
	ctx := hstest.Ctx(t)
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	carol := hstest.NewPerson(t, hs, "carol", "bob ") // the same name to the eye
	dave := hstest.NewPerson(t, hs, "dave", "Dave")
	erin := hstest.NewPerson(t, hs, "erin", string(dave.ID))
	svc := newService(t, alice, "")
	room := bob.CreateRoom(t, true, alice.ID, carol.ID, dave.ID, erin.ID)
	for _, p := range []*hstest.Person{carol, dave, erin} {
		p.Join(t, room)
	}
	acceptInvite(t, svc, room)
	want := map[id.UserID]string{
		alice.ID: "Alice",
		bob.ID:   "Bob (" + string(bob.ID) + ")",
		carol.ID: "bob  (" + string(carol.ID) + ")",
		dave.ID:  "Dave",
		erin.ID:  string(dave.ID) + " (" + string(erin.ID) + ")",
	}
	hstest.Eventually(t, 20*time.Second, func() string {
		catchUp(t, svc)
		got, err := svc.MemberNames(ctx, room)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got, want) {
			return fmt.Sprintf("names %q, want %q", got, want)
		}
		return ""
	})
}
