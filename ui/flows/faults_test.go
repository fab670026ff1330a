package flows

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/dendrite"
	"duet/internal/testkit/hstest"
)

// crashProxy stands between duet and a homeserver of its own. Armed for a request, it lets the
// server carry the request out, then kills and restarts the server and hangs up without an
// answer: the one moment of a crash that a client cannot tell from "it never arrived".
type crashProxy struct {
	t   *testing.T
	srv *dendrite.FaultServer
	url string

	mu     sync.Mutex
	method string
	path   string // armed for the next request whose path contains this
	fired  chan struct{}
}

func newCrashProxy(t *testing.T, srv *dendrite.FaultServer) *crashProxy {
	target, _ := url.Parse(srv.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	// A fresh connection per request: none outlives the server it was made to.
	rp.Transport = &http.Transport{DisableKeepAlives: true}
	p := &crashProxy{t: t, srv: srv}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hsrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		armed := p.path != "" && r.Method == p.method && strings.Contains(r.URL.Path, p.path)
		fired := p.fired
		if armed {
			p.path = ""
		}
		p.mu.Unlock()
		if !armed {
			rp.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		rp.ServeHTTP(rec, r)
		t.Logf("the server answered %s %s with %d; killing it before the answer gets out", r.Method, r.URL.Path, rec.Code)
		srv.Kill()
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			_ = conn.Close()
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := srv.Restart(ctx); err != nil {
			t.Errorf("restart the homeserver: %v", err)
		}
		close(fired)
	})}
	go func() { _ = hsrv.Serve(ln) }()
	t.Cleanup(func() { _ = hsrv.Close() })
	p.url = "http://" + ln.Addr().String()
	return p
}

// arm makes the next request method …path… a crash; the channel closes once the server is back.
func (p *crashProxy) arm(method, path string) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.method, p.path, p.fired = method, path, make(chan struct{})
	return p.fired
}

// The homeserver dies during room creation, during a send and during sync, and stops answering
// for a minute (a network that drops everything). Through all of it nothing alice typed is lost
// or arrives twice, nothing bob sent is missed or shown twice, no second room is made, and the
// UI answers keys at once.
func TestServerFaults(t *testing.T) {
	t.Parallel()
	srv := hstest.OwnServer(t)
	proxy := newCrashProxy(t, srv)
	alice := hstest.NewPerson(t, srv.Server, "alice", "Alice")
	bob := hstest.NewPerson(t, srv.Server, "bob", "Bob Steady")
	s := startVia(t, alice, proxy.url)
	s.waitFor("live", "live")
	var room id.RoomID
	// all is the conversation as the server must end up with it, in order.
	var all []string
	sent, said := 0, 0
	send := func(body string) {
		s.typeText(body)
		s.key(tea.KeyEnter)
		all = append(all, body)
		sent++
	}
	bobSays := func(body string) {
		bob.Say(t, room, body)
		all = append(all, body)
		said++
	}

	// 1. Room creation: the room is made, the answer is lost.
	crashed := proxy.arm(http.MethodPost, "/createRoom")
	s.typeText("n")
	s.waitFor("the prompt", "User ID")
	s.typeText(string(bob.ID))
	s.key(tea.KeyEnter)
	s.waitFor("bob's conversation", "Bob Steady")
	send("1 the first words, through a crash")
	waitClosed(t, crashed, "the crash during room creation")
	hstest.Eventually(t, time.Minute, func() string {
		d := alice.Direct(t)[string(bob.ID)]
		if len(d) != 1 {
			return fmt.Sprintf("m.direct under bob: %v", d)
		}
		room = id.RoomID(d[0])
		return ""
	})
	if rooms := alice.JoinedRooms(t); len(rooms) != 1 {
		t.Fatalf("alice is in %d rooms after the crash, want the one DM: %v", len(rooms), rooms)
	}
	bob.Join(t, room)

	// 2. A send: the message is stored, the answer is lost; another waits behind it.
	crashed = proxy.arm(http.MethodPut, "/send/")
	send("2 stored, then the server died")
	send("3 queued behind it")
	waitClosed(t, crashed, "the crash during a send")
	waitForBodies(t, bob, room, all)

	// 3. Sync: killed during the long-poll, back three seconds later.
	srv.Kill()
	s.waitFor("offline", "offline")
	time.Sleep(3 * time.Second)
	if err := srv.Restart(hstest.Ctx(t)); err != nil {
		t.Fatal(err)
	}
	bobSays("4 bob, after the restart")
	s.waitFor("bob's message after the restart", "4 bob, after the restart")
	send("5 alice, after the restart")
	waitForBodies(t, bob, room, all)

	// 4. The network drops everything for a minute: the server is frozen, not closed.
	s.forget()
	srv.Freeze()
	frozen := time.Now()
	send("6 typed into the silence")
	worst := keyLatency(s, "still answering keys")
	send("7 and another")
	// A request unanswered for its long-poll plus a margin: at most 50 s into the cut.
	s.waitWithin(time.Minute, "offline during the cut", "offline")
	t.Logf("offline shown %s into the cut", time.Since(frozen).Round(time.Second))
	worst = max(worst, keyLatency(s, "and still"))
	s.tm.Send(tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}) // clear what keyLatency typed
	time.Sleep(time.Until(frozen.Add(time.Minute)))
	srv.Thaw()
	waitForBodies(t, bob, room, all)
	bobSays("8 bob, after the cut")
	s.waitFor("bob's message after the cut", "8 bob, after the cut")

	// Alice's view: every message once, in the order the server has them.
	want := all
	hstest.Eventually(t, 20*time.Second, func() string {
		msgs, err := s.svc.Messages(context.Background(), room, 50)
		if err != nil {
			return err.Error()
		}
		var got []string
		for _, m := range msgs {
			got = append(got, m.Body)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			return fmt.Sprintf("alice's conversation holds %q, want %q", got, want)
		}
		return ""
	})
	if rooms := alice.JoinedRooms(t); len(rooms) != 1 {
		t.Fatalf("alice is in %d rooms, want the one DM: %v", len(rooms), rooms)
	}
	t.Logf("faults: alice sent %d, bob received %d; bob sent %d, alice received %d; lost 0, duplicated 0; slowest key echo during the cut %s",
		sent, sent, said, said, worst)
}

// keyLatency types text into the composer and returns how long the screen took to show it.
func keyLatency(s *screen, text string) time.Duration {
	s.t.Helper()
	began := time.Now()
	s.typeText(text)
	s.waitFor("the keys on screen", text)
	took := time.Since(began)
	if took > 2*time.Second {
		s.t.Fatalf("the UI took %s to show typed keys while the server was unreachable", took)
	}
	s.tm.Send(tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl})
	return took
}

// waitForBodies waits until the newest messages bob can read in room are exactly want.
func waitForBodies(t *testing.T, p *hstest.Person, room id.RoomID, want []string) {
	t.Helper()
	hstest.Eventually(t, time.Minute, func() string {
		got := p.Bodies(t, room)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			return fmt.Sprintf("%s reads %q, want %q", p.ID, got, want)
		}
		return ""
	})
}

func waitClosed(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(time.Minute):
		t.Fatalf("%s did not happen within a minute", what)
	}
}
