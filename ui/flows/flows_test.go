// Package flows drives the real root model with the real service against the real homeserver,
// as a person at the keyboard would (teatest), while other people act through plain mautrix.
package flows

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"duet/internal/homeserver"
	"duet/internal/testkit/dendrite"
	"duet/internal/testkit/hstest"
	"duet/internal/testkit/termtest"
	"duet/matrixsvc"
	"duet/store"
	"duet/ui"
)

var hs *homeserver.Server

func TestMain(m *testing.M) {
	termtest.Plain()
	hstest.Main(m, &hs)
}

// screen runs duet's UI for a new device of p with its real service, sync loop and
// end-to-end encryption.
type screen struct {
	t     *testing.T
	svc   *matrixsvc.Service
	tm    *teatest.TestModel
	rec   *termtest.Frames
	out   bytes.Buffer // the text of every frame drawn so far, one after the other
	raw   bytes.Buffer // everything written to the terminal so far
	floor int          // waitFor looks at what was drawn from here on
}

// newScreen runs the UI model m in a test program 100×30, recording its frames.
func newScreen(t *testing.T, svc *matrixsvc.Service, m tea.Model) *screen {
	rm, rec := termtest.Record(m)
	tm := teatest.NewTestModel(t, rm, teatest.WithInitialTermSize(100, 30))
	return &screen{t: t, svc: svc, tm: tm, rec: rec}
}

func start(t *testing.T, p *hstest.Person) *screen {
	t.Helper()
	return startVia(t, p, "")
}

// startVia is start with duet talking to p's homeserver through the address via (a proxy)
// when it is not "".
func startVia(t *testing.T, p *hstest.Person, via string) *screen {
	t.Helper()
	svc, ctx := runService(t, p, via)
	s := newScreen(t, svc, ui.New(svc, ui.Options{Context: ctx}))
	t.Cleanup(func() { _ = s.tm.Quit() })
	return s
}

// runService logs p in (through via when it is not "") on a fresh store and runs the sync
// loop until the test ends; ctx ends then too.
func runService(t *testing.T, p *hstest.Person, via string) (*matrixsvc.Service, context.Context) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sess, err := matrixsvc.Login(ctx, matrixsvc.LoginParams{Homeserver: p.Client.HomeserverURL.String(), User: string(p.ID), Password: p.Password}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if via != "" {
		sess.Homeserver = via
	}
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "duet.db"), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := matrixsvc.New(sess, st, testLog(t).With().Str("who", string(p.ID)[:6]).Logger(), withCrypto(sess, dir))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		svc.Close()
		st.Close()
	})
	return svc, ctx
}

// waitFor waits until everything drawn so far contains all of want: the text of the frames, one
// after the other (what was drawn once is not drawn again).
func (s *screen) waitFor(what string, want ...string) {
	s.t.Helper()
	s.waitWithin(20*time.Second, what, want...)
}

// waitWithin is waitFor with its own time limit.
func (s *screen) waitWithin(limit time.Duration, what string, want ...string) {
	s.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		_, _ = s.raw.ReadFrom(s.tm.Output())
		s.out.Write(s.rec.Take())
		if containsAll(s.out.Bytes()[s.floor:], want) {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("waiting for %s: not drawn after %s: %q. Drawn:\n%s", what, limit, want, s.out.Bytes()[s.floor:])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func containsAll(b []byte, want []string) bool {
	for _, w := range want {
		if !bytes.Contains(b, []byte(w)) {
			return false
		}
	}
	return true
}

// forget makes later waitFor calls look only at what is drawn from now on.
func (s *screen) forget() {
	s.t.Helper()
	s.waitFor("the screen so far") // take in what was drawn up to now
	s.floor = s.out.Len()
}

func (s *screen) key(code rune) { s.tm.Send(tea.KeyPressMsg{Code: code}) }
func (s *screen) typeText(text string) {
	for _, r := range text {
		s.tm.Send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// requestRow is what a request's row shows of its user: the ID up to the server, then the
// server on the second line.
func requestRow(u id.UserID) []string {
	local, server, _ := strings.Cut(string(u), ":")
	return []string{local, ":" + server}
}

// acceptedDM is the DM of every day: from makes a direct room with to, to joins it and lists it
// under from in m.direct (next to extra entries of to's, which must stay), and from says first.
func acceptedDM(t *testing.T, from, to *hstest.Person, first string, extra map[string][]id.RoomID) id.RoomID {
	t.Helper()
	room := from.CreateRoom(t, true, to.ID)
	to.Join(t, room)
	direct := map[string][]id.RoomID{string(from.ID): {room}}
	for user, rooms := range extra {
		direct[user] = rooms
	}
	raw, _ := json.Marshal(direct)
	to.SetDirectRaw(t, string(raw))
	from.Say(t, room, first)
	return room
}

func waitForBody(t *testing.T, p *hstest.Person, room id.RoomID, body string) {
	t.Helper()
	hstest.Eventually(t, 20*time.Second, func() string {
		if !slices.Contains(p.Bodies(t, room), body) {
			return "no " + body + " in " + string(room)
		}
		return ""
	})
}

// Bob's new DM appears in alice's list with no key pressed; alice accepts it, reads what bob
// said before she joined, answers, and bob receives the answer.
func TestNewDMAppearsAndIsAnswered(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob Builder")
	s := start(t, alice)
	s.waitFor("the empty list", "live")

	room := bob.CreateRoom(t, true, alice.ID)
	bob.Say(t, room, "are you around?")
	// They share no room: a request, shown by bob's user ID, not by the name he chose (R24).
	s.waitFor("bob's request in the list", append(requestRow(bob.ID), "Requests (1)", "request", "a accept")...)
	s.typeText("a")
	s.waitFor("joined", "joined the conversation")
	// Typed straight after Enter: the keys reach the composer, not the list (where q quits).
	s.key(tea.KeyEnter)
	s.typeText("quite, yes, here")
	s.waitFor("bob's message", "are you around?")
	s.key(tea.KeyEnter)
	s.waitFor("sent", "sent")
	waitForBody(t, bob, room, "quite, yes, here")
	bob.Say(t, room, "great")
	s.waitFor("bob's answer, live", "great")
	// Read while shown: the server's count for the room goes to zero, and so does the badge.
	hstest.Eventually(t, 20*time.Second, func() string {
		ov, err := s.svc.Overview(context.Background())
		if err != nil {
			return err.Error()
		}
		for _, c := range ov.Contacts {
			if c.UserID == bob.ID && c.Unread == 0 && c.Preview.Body == "great" {
				return ""
			}
		}
		return fmt.Sprintf("bob's contact is not read: %+v", ov.Contacts)
	})
}

// n + a new user ID creates the DM, and the first message arrives.
func TestNewDMByUserID(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	carol := hstest.NewPerson(t, hs, "carol", "Carol Danvers")
	s := start(t, alice)
	s.waitFor("live", "live")
	s.typeText("n")
	s.waitFor("the prompt", "User ID")
	s.typeText(string(carol.ID))
	s.key(tea.KeyEnter)
	s.waitFor("carol's name", "Carol Danvers")
	s.typeText("hello carol")
	s.key(tea.KeyEnter)
	s.waitFor("sent", "sent")
	var room id.RoomID
	hstest.Eventually(t, 20*time.Second, func() string {
		d := alice.Direct(t)[string(carol.ID)]
		if len(d) != 1 {
			return fmt.Sprintf("m.direct has %v under carol, want one room", d)
		}
		room = id.RoomID(d[0])
		return ""
	})
	carol.Join(t, room)
	waitForBody(t, carol, room, "hello carol")
}

// A malformed ID shows an error and creates nothing.
func TestMalformedUserIDCreatesNothing(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	s := start(t, alice)
	s.waitFor("live", "live")
	s.typeText("n")
	s.waitFor("the prompt", "User ID")
	s.typeText("@bob")
	s.key(tea.KeyEnter)
	s.waitFor("the error", "is not a Matrix user ID")
	s.key(tea.KeyEscape)
	s.typeText("n")
	s.typeText("@nobody-" + strings.ToLower(dendrite.RandomLocalpart("x")) + ":" + hs.ServerName)
	s.key(tea.KeyEnter)
	s.waitFor("the error", "does not exist")
	if rooms := alice.JoinedRooms(t); len(rooms) != 0 {
		t.Fatalf("rooms were created: %v", rooms)
	}
	if d := alice.DirectRaw(t); d != nil {
		t.Fatalf("m.direct was written: %s", d)
	}
}

// Restart with the homeserver unreachable: the contacts, their previews and the conversation
// that was open appear from the store, and the status bar says offline.
func TestRestartOffline(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob Builder")
	dir := t.TempDir()
	ctx := context.Background()
	sess, err := matrixsvc.Login(ctx, matrixsvc.LoginParams{Homeserver: hs.URL, User: string(alice.ID), Password: alice.Password}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	room := bob.CreateRoom(t, true, alice.ID)
	bob.Say(t, room, "the first thing bob said")
	bob.Say(t, room, "see you at the station")

	// First run: online; accept, open the conversation, quit.
	run := func(homeserver string) *screen {
		st, err := store.Open(ctx, filepath.Join(dir, "duet.db"), zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		cfg := withCrypto(sess, dir)
		s := *sess
		s.Homeserver = homeserver
		svc, err := matrixsvc.New(&s, st, zerolog.Nop(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); svc.Run(runCtx) }()
		sc := newScreen(t, svc, ui.New(svc, ui.Options{Context: runCtx}))
		t.Cleanup(func() { _ = sc.tm.Quit(); cancel(); <-done; svc.Close(); st.Close() })
		return sc
	}
	first := run(hs.URL)
	first.waitFor("bob's request", append(requestRow(bob.ID), "request")...)
	first.typeText("a")
	first.waitFor("joined", "joined the conversation")
	first.key(tea.KeyEnter)
	first.waitFor("the conversation", "the first thing bob said", "see you at the station")
	if err := first.tm.Quit(); err != nil {
		t.Fatal(err)
	}
	first.tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))

	// Second run: nothing listens at the homeserver's address.
	second := run("http://127.0.0.1:9")
	second.waitFor("everything from the store, and offline",
		"Bob Builder", "see you at the station", "the first thing bob said", "offline")
}
