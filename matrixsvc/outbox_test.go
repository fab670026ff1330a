package matrixsvc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hstest"
	"duet/store"
)

// dmWith makes a joined 1:1 room between svc's user and p, recorded in m.direct.
func dmWith(t *testing.T, svc *Service, p *hstest.Person) id.RoomID {
	t.Helper()
	ctx := hstest.Ctx(t)
	if _, err := svc.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	room, err := svc.CreateDM(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	p.Join(t, room)
	return room
}

// bodiesExactly waits until p sees exactly want in room, in that order, and nothing twice.
func bodiesExactly(t *testing.T, p *hstest.Person, room id.RoomID, want ...string) {
	t.Helper()
	hstest.Eventually(t, 20*time.Second, func() string {
		got := p.Bodies(t, room)
		if !slices.Equal(got, want) {
			return fmt.Sprintf("%s sees %q, want %q", p.ID, got, want)
		}
		return ""
	})
	time.Sleep(300 * time.Millisecond) // a late duplicate would show by now
	if got := p.Bodies(t, room); !slices.Equal(got, want) {
		t.Fatalf("%s sees %q, want %q", p.ID, got, want)
	}
}

// The homeserver goes away mid-conversation; three messages typed meanwhile arrive once each,
// in order, when it is back, with no key pressed.
func TestOutboxSurvivesAnOutage(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	svc, p := behindProxy(t, alice)
	room := dmWith(t, svc, bob)
	next := runLoop(t, svc)
	next("sync goes live", func(e Event) bool { s, ok := e.(SyncStateChanged); return ok && s.State == SyncLive })

	p.drop()
	ctx := hstest.Ctx(t)
	for _, body := range []string{"one", "two", "three"} {
		if err := svc.Enqueue(ctx, Outgoing{Kind: KindText, Room: room, Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	next("a failed attempt, to be retried", func(e Event) bool {
		o, ok := e.(OutgoingChanged)
		return ok && o.State == OutgoingQueued && o.Err != nil
	})
	if queued, _ := svc.Outbox(ctx); len(queued) != 3 {
		t.Fatalf("outbox while offline: %+v", queued)
	}
	p.start(t)
	svc.RetryNow()
	sent := 0
	next("all three sent", func(e Event) bool {
		if o, ok := e.(OutgoingChanged); ok && o.State == OutgoingSent {
			sent++
		}
		return sent == 3
	})
	bodiesExactly(t, bob, room, "one", "two", "three")
	if queued, _ := svc.Outbox(ctx); len(queued) != 0 {
		t.Fatalf("outbox after sending: %+v", queued)
	}
}

// A refused message is marked failed and does not hold up the ones after it; Retry sends it
// again.
func TestOutboxRefusalDoesNotBlock(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	svc := newService(t, alice, "")
	room := dmWith(t, svc, bob)
	ctx := hstest.Ctx(t)
	foreign := bob.CreateRoom(t, false) // alice is not in it: the server refuses
	if err := svc.Enqueue(ctx, Outgoing{Kind: KindText, Room: foreign, Body: "refused"}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Enqueue(ctx, Outgoing{Kind: KindText, Room: room, Body: "after it"}); err != nil {
		t.Fatal(err)
	}
	if sent, err := svc.FlushOutbox(ctx); sent != 1 || err != nil {
		t.Fatalf("flush: sent %d, %v", sent, err)
	}
	bodiesExactly(t, bob, room, "after it")
	queued, _ := svc.Outbox(ctx)
	if len(queued) != 1 || queued[0].Body != "refused" || queued[0].Failed == "" {
		t.Fatalf("outbox: %+v", queued)
	}
}

// Messages to a contact without a room yet open the DM first (R21) and keep their order.
func TestOutboxOpensTheDM(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	svc := newService(t, alice, "")
	ctx := hstest.Ctx(t)
	if _, err := svc.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"first", "second"} {
		if err := svc.Enqueue(ctx, Outgoing{Kind: KindText, Target: bob.ID, Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	if sent, err := svc.FlushOutbox(ctx); sent != 2 || err != nil {
		t.Fatalf("flush: sent %d, %v", sent, err)
	}
	rooms := alice.Direct(t)[string(bob.ID)]
	if len(rooms) != 1 {
		t.Fatalf("m.direct under bob: %v", rooms)
	}
	bob.Join(t, id.RoomID(rooms[0]))
	bodiesExactly(t, bob, id.RoomID(rooms[0]), "first", "second")
}

// hangingProxy forwards everything to the homeserver, but after forwarding a message send it
// never answers: the server has the message, the client never hears so.
func hangingProxy(t *testing.T, forwarded chan<- struct{}) *httptest.Server {
	target, _ := url.Parse(hs.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut || !strings.Contains(r.URL.Path, "/send/") {
			rp.ServeHTTP(w, r)
			return
		}
		req, _ := http.NewRequest(r.Method, hs.URL+r.URL.RequestURI(), r.Body)
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		forwarded <- struct{}{}
		<-release
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return srv
}

const childEnv = "DUET_OUTBOX_CHILD"

// outboxChild runs in a child process: it queues one message and sends it through a proxy that
// never answers, until the parent kills it.
func outboxChild() {
	var args struct {
		Session store.Session
		DB      string
		Room    id.RoomID
	}
	if err := json.Unmarshal([]byte(os.Getenv(childEnv)), &args); err != nil {
		panic(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, args.DB, zerolog.Nop())
	if err != nil {
		panic(err)
	}
	svc, err := New(&args.Session, st, zerolog.Nop(), DefaultConfig())
	if err != nil {
		panic(err)
	}
	if err := svc.Enqueue(ctx, Outgoing{Kind: KindText, Room: args.Room, Body: "exactly once", TxnID: "duet-txn-kill-test"}); err != nil {
		panic(err)
	}
	fmt.Println("queued")
	_, _ = svc.FlushOutbox(ctx) // hangs: the proxy never answers
	select {}
}

// The client is killed (SIGKILL) after the server took the message but before the client heard
// so; the next run sends it again with the same transaction ID, and bob sees one copy.
func TestOutboxKilledMidSendDeliversOnce(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	dbPath := filepath.Join(t.TempDir(), "duet.db")
	ctx := hstest.Ctx(t)
	sess, err := Login(ctx, LoginParams{Homeserver: hs.URL, User: string(alice.ID), Password: alice.Password}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	open := func(homeserver string) (*Service, *store.Store) {
		st, err := store.Open(ctx, dbPath, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		s := *sess
		s.Homeserver = homeserver
		svc, err := New(&s, st, zerolog.Nop(), DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		return svc, st
	}
	svc, st := open(hs.URL)
	room := dmWith(t, svc, bob)
	st.Close()

	forwarded := make(chan struct{}, 1)
	proxy := hangingProxy(t, forwarded)
	childSess := *sess
	childSess.Homeserver = proxy.URL
	arg, _ := json.Marshal(map[string]any{"Session": childSess, "DB": dbPath, "Room": room})
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"="+string(arg))
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-forwarded:
	case <-time.After(30 * time.Second):
		_ = child.Process.Kill()
		t.Fatal("the child never sent the message")
	}
	if err := child.Process.Kill(); err != nil { // SIGKILL: no chance to record anything
		t.Fatal(err)
	}
	_ = child.Wait()

	svc, st = open(hs.URL)
	defer st.Close()
	queued, err := svc.Outbox(ctx)
	if err != nil || len(queued) != 1 || queued[0].TxnID != "duet-txn-kill-test" {
		t.Fatalf("outbox after the kill: %+v, %v", queued, err)
	}
	if sent, err := svc.FlushOutbox(ctx); sent != 1 || err != nil {
		t.Fatalf("flush after restart: sent %d, %v", sent, err)
	}
	bodiesExactly(t, bob, room, "exactly once")
}

// History comes from the store: a limited sync leaves a gap that the first read fills from the
// server (once); after that, with the server gone, the whole conversation is still there.
func TestHistoryIsStoredAndReadOffline(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	svc, p := behindProxy(t, alice)
	room := dmWith(t, svc, bob)
	ctx := hstest.Ctx(t)
	var want []string
	for i := range 30 {
		want = append(want, fmt.Sprintf("message %02d", i))
		bob.Say(t, room, want[i])
	}
	hstest.Eventually(t, 15*time.Second, func() string {
		applied, err := svc.CatchUp(ctx)
		if err != nil {
			return err.Error()
		}
		for _, m := range applied.Messages {
			if m.Body == want[29] {
				return ""
			}
		}
		return "the last message has not come down /sync yet"
	})
	bodies := func(msgs []Message) []string {
		var out []string
		for _, m := range msgs {
			out = append(out, m.Body)
		}
		return out
	}
	msgs, next, err := svc.History(ctx, room, "", 50)
	if err != nil || !slices.Equal(bodies(msgs), want) || next != "" {
		t.Fatalf("history online: %q, next %q, %v", bodies(msgs), next, err)
	}
	p.drop()
	msgs, next, err = svc.History(ctx, room, "", 20)
	if err != nil || !slices.Equal(bodies(msgs), want[10:]) || next == "" {
		t.Fatalf("history offline, newest page: %q, next %q, %v", bodies(msgs), next, err)
	}
	older, next, err := svc.History(ctx, room, next, 20)
	if err != nil || !slices.Equal(bodies(older), want[:10]) || next != "" {
		t.Fatalf("history offline, older page: %q, next %q, %v", bodies(older), next, err)
	}
}

// A crash between receiving a /sync response and storing it (the transaction never commits)
// repeats nothing and loses nothing: the next sync starts from the old position and stores
// each event once.
func TestSyncCrashBeforeCommit(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	svc := newService(t, alice, "")
	room := dmWith(t, svc, bob)
	ctx := hstest.Ctx(t)
	for _, body := range []string{"one", "two", "three"} {
		bob.Say(t, room, body)
	}
	// Wait until the server shows alice all three, so the response that "crashes" has them.
	hstest.Eventually(t, 15*time.Second, func() string {
		if got := alice.Bodies(t, room); len(got) < 3 {
			return fmt.Sprintf("alice can read %q so far", got)
		}
		return ""
	})
	crashes := 0
	svc.SetFaultBeforeCommit(func() error {
		crashes++
		return errors.New("simulated crash")
	})
	if _, err := svc.CatchUp(ctx); err == nil {
		t.Fatal("the sync with the fault did not fail")
	}
	svc.SetFaultBeforeCommit(nil)
	got := map[string]int{}
	hstest.Eventually(t, 15*time.Second, func() string {
		more, err := svc.CatchUp(ctx)
		if err != nil {
			return err.Error()
		}
		for _, m := range more.Messages {
			got[m.Body]++
		}
		if got["three"] == 0 {
			return fmt.Sprintf("messages delivered so far: %v", got)
		}
		return ""
	})
	if got["one"] != 1 || got["two"] != 1 || got["three"] != 1 || crashes == 0 {
		t.Fatalf("after %d crashes, delivered %v; want each once", crashes, got)
	}
	msgs, _, err := svc.History(ctx, room, "", 50)
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, m := range msgs {
		bodies = append(bodies, m.Body)
	}
	if !slices.Equal(bodies, []string{"one", "two", "three"}) {
		t.Fatalf("stored history: %q", bodies)
	}
}

// A send that broke off and did arrive, but shows up without its transaction ID (as Dendrite
// shows what it stored just before a crash, after its restart): the outbox finds it by its
// text among our messages stored since the attempt began, and does not post it twice. A
// message of ours with other text, or one that was there before, is not taken for it.
func TestBrokenOffSendFoundByItsText(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	svc := newService(t, alice, "")
	ctx := hstest.Ctx(t)
	room := dmWith(t, svc, bob)
	alice.Say(t, room, "see you at noon") // before the attempt: not it
	waitBody(t, svc, room, "see you at noon")
	const txn = "duet-test-broken-off"
	if err := svc.Enqueue(ctx, Outgoing{Kind: KindText, Room: room, Body: "see you at noon", TxnID: txn}); err != nil {
		t.Fatal(err)
	}
	top, err := svc.store.TopPos(ctx, room)
	if err != nil {
		t.Fatal(err)
	}
	// The attempt began, then broke off in a way that may have arrived.
	svc.deliv.attempting(txn, top)
	svc.deliv.failed(txn, &url.Error{Op: "Put", URL: "http://x", Err: io.EOF})
	if sent, _ := svc.FlushOutbox(ctx); sent != 0 {
		t.Fatal("sent while nothing shows that it arrived, before the wait")
	}
	// It did arrive: the server shows it, under no transaction ID of ours.
	alice.Say(t, room, "something else")
	alice.Say(t, room, "see you at noon")
	hstest.Eventually(t, 20*time.Second, func() string {
		if _, err := svc.CatchUp(ctx); err != nil {
			return err.Error()
		}
		if sent, err := svc.FlushOutbox(ctx); sent != 1 || err != nil {
			return fmt.Sprintf("flush: %d, %v", sent, err)
		}
		return ""
	})
	bodiesExactly(t, bob, room, "see you at noon", "something else", "see you at noon")
}

// A message sent, then sent again with the same transaction ID to a server that restarted in
// between and forgot the transaction, is at the server twice; both copies carry the ID. duet
// keeps the first copy, never stores or shows the second, and deletes it at the server. The
// same session with a store rebuilt from scratch (--reset-cache) then shows the message once,
// and no deleted message. (Another device sees it deleted, as in any client: the transaction
// ID is shown to the sending device only.)
func TestSecondCopyIsDeleted(t *testing.T) {
	t.Parallel()
	srv := hstest.OwnServer(t)
	ctx := hstest.Ctx(t)
	alice := hstest.NewPerson(t, srv.Server, "alice", "Alice")
	bob := hstest.NewPerson(t, srv.Server, "bob", "Bob")
	sess, err := Login(ctx, LoginParams{Homeserver: srv.URL, User: string(alice.ID), Password: alice.Password}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	svc := openService(t, sess, t.TempDir())
	room := dmWith(t, svc, bob)
	const txn, body = "duet-test-twice", "only once, please"
	first, err := svc.SendText(ctx, room, body, false, txn)
	if err != nil {
		t.Fatal(err)
	}
	waitBody(t, svc, room, body)
	srv.Kill()
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	second, err := svc.SendText(ctx, room, body, false, txn)
	if err != nil {
		t.Fatal(err)
	}
	if second == first {
		t.Fatal("the restarted server remembered the transaction: no second copy to test with")
	}
	bob.Say(t, room, "after the second copy")
	waitBody(t, svc, room, "after the second copy")
	once := func(svc *Service) {
		t.Helper()
		msgs, _, err := svc.History(ctx, room, "", 20)
		if err != nil {
			t.Fatal(err)
		}
		var ours []Message
		for _, m := range msgs {
			if m.Sender == alice.ID {
				ours = append(ours, m)
			}
		}
		if len(ours) != 1 || ours[0].EventID != first || ours[0].Body != body {
			t.Fatalf("our messages: %+v, want %s once", ours, first)
		}
	}
	once(svc)
	if _, err := svc.FlushOutbox(ctx); err != nil {
		t.Fatal(err)
	}
	hstest.Eventually(t, 20*time.Second, func() string {
		evt, err := bob.Client.GetEvent(ctx, room, second)
		if err != nil {
			return err.Error()
		}
		if evt.Unsigned.RedactedBecause == nil {
			return "the second copy is not deleted at the server"
		}
		return ""
	})
	if evt, err := bob.Client.GetEvent(ctx, room, first); err != nil || evt.Unsigned.RedactedBecause != nil {
		t.Fatalf("the first copy: %v, %v", evt, err)
	}

	fresh := openService(t, sess, t.TempDir())
	waitBody(t, fresh, room, "after the second copy")
	once(fresh)
}
