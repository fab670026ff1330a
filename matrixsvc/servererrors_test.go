package matrixsvc

import (
	"errors"
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

	"duet/internal/testkit/hstest"
)

// faulty is a reverse proxy to the homeserver that answers the next sends with a fault.
type faulty struct {
	mu     sync.Mutex
	faults int
	answer func(w http.ResponseWriter, r *http.Request, next http.Handler)
}

func (f *faulty) inject(n int, answer func(w http.ResponseWriter, r *http.Request, next http.Handler)) {
	f.mu.Lock()
	f.faults, f.answer = n, answer
	f.mu.Unlock()
}

func (f *faulty) handler(target *url.URL) http.Handler {
	rp := httputil.NewSingleHostReverseProxy(target)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		fault := f.faults > 0 && r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/send/")
		if fault {
			f.faults--
		}
		answer := f.answer
		f.mu.Unlock()
		if fault {
			answer(w, r, rp)
			return
		}
		rp.ServeHTTP(w, r)
	})
}

func matrixError(status int, code, msg, extra string) func(w http.ResponseWriter, r *http.Request, next http.Handler) {
	return func(w http.ResponseWriter, _ *http.Request, _ http.Handler) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"errcode":"` + code + `","error":"` + msg + `"` + extra + `}`))
	}
}

// Every server error a send can meet: what the person is told, and that the message is not
// lost (kept queued, or failed and retryable) and arrives once when the fault is gone.
func TestServerErrorsLoseNothing(t *testing.T) {
	t.Parallel()
	target, _ := url.Parse(hs.URL)
	f := &faulty{}
	srv := &http.Server{Handler: f.handler(target)}
	ln := listen(t)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	svc := newService(t, alice, "http://"+ln.Addr().String())
	ctx := hstest.Ctx(t)
	if _, err := svc.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	room, err := svc.CreateDM(ctx, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	bob.Join(t, room)
	hangUp := func(w http.ResponseWriter, _ *http.Request, _ http.Handler) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}
	// The server takes the message, and the answer is lost on the way back.
	answerLost := func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		next.ServeHTTP(httptest.NewRecorder(), r)
		hangUp(w, r, next)
	}
	cases := []struct {
		name   string
		answer func(http.ResponseWriter, *http.Request, http.Handler)
		told   string // in what the person is told
		failed bool   // given up on (retryable by hand) rather than kept queued
	}{
		{"rate limited", matrixError(429, "M_LIMIT_EXCEEDED", "Too many requests", `,"retry_after_ms":2000`), "rate-limiting requests: try again in 2s", false},
		{"server error", matrixError(502, "M_UNKNOWN", "Bad gateway", ""), "the homeserver has a problem (502: Bad gateway); duet tries again", false},
		{"connection dropped", hangUp, "cannot reach the homeserver", false},
		{"answer lost", answerLost, "cannot reach the homeserver", false},
		{"token revoked", matrixError(401, "M_UNKNOWN_TOKEN", "Unknown token", ""), "logged out", false},
		{"forbidden", matrixError(403, "M_FORBIDDEN", "You are not allowed to send here", ""), "the homeserver refused: You are not allowed to send here (M_FORBIDDEN)", true},
	}
	var want []string
	for _, c := range cases {
		body := "through " + c.name
		want = append(want, body)
		// Every attempt of this flush meets the fault: Go's client repeats a send on a new
		// connection when a pooled one dies under it (idempotentSends), and that repeat must
		// meet it too for the fault to reach the outbox.
		f.inject(100, c.answer)
		if err := svc.Enqueue(ctx, Outgoing{Kind: KindText, Room: room, Body: body}); err != nil {
			t.Fatal(err)
		}
		_, err := svc.FlushOutbox(ctx)
		f.inject(0, nil)
		out, oerr := svc.Outbox(ctx)
		if oerr != nil || len(out) != 1 {
			t.Fatalf("%s: the outbox holds %v (%v), want the one message", c.name, out, oerr)
		}
		told := out[0].Failed
		if !c.failed {
			told = Explain(err)
		}
		if !strings.Contains(told, c.told) || (out[0].Failed != "") != c.failed {
			t.Fatalf("%s: told %q (failed %q), want %q", c.name, told, out[0].Failed, c.told)
		}
		if c.failed {
			if err := svc.RetryOutgoing(ctx, out[0].TxnID); err != nil {
				t.Fatal(err)
			}
		}
		if c.name == "answer lost" {
			// A look at the room's new events finds it and it is not sent again. Dendrite may
			// show it a moment late (its sync lags its sends under load): then the look is
			// repeated after a pause, still without sending.
			hstest.Eventually(t, 20*time.Second, func() string {
				sent, err := svc.FlushOutbox(ctx)
				if err != nil && !errors.Is(err, errDeliveryUnknown) {
					t.Fatalf("%s: after the fault: %v", c.name, err)
				}
				if sent != 1 {
					return fmt.Sprintf("not settled yet: sent %d, %v", sent, err)
				}
				return ""
			})
			hstest.Eventually(t, 20*time.Second, func() string {
				if n := countOf(bob.Bodies(t, room), body); n != 1 {
					return fmt.Sprintf("%q arrived %d times", body, n)
				}
				return ""
			})
			continue
		}
		if maybeArrived(err) {
			// The send may have reached the server. A look finds it missing; it is sent again
			// only once it has stayed missing for a while (a stalled server may still post it)
			// and a sync has been stored since (what arrived would be in the store).
			if sent, err := svc.FlushOutbox(ctx); sent != 0 || !errors.Is(err, errDeliveryUnknown) {
				t.Fatalf("%s: sent again before checking whether it arrived: %d, %v", c.name, sent, err)
			}
			pastSettle(svc)
			if sent, err := svc.FlushOutbox(ctx); sent != 0 || !errors.Is(err, errDeliveryUnknown) {
				t.Fatalf("%s: sent again with no sync stored since the first look: %d, %v", c.name, sent, err)
			}
			if _, err := svc.CatchUp(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if sent, err := svc.FlushOutbox(ctx); err != nil || sent != 1 {
			t.Fatalf("%s: after the fault, sent %d, %v", c.name, sent, err)
		}
	}
	// Each arrived exactly once, in order (the server shows the last one a moment later).
	hstest.Eventually(t, 10*time.Second, func() string {
		if got := bob.Bodies(t, room); strings.Join(got, "|") != strings.Join(want, "|") {
			return fmt.Sprintf("bob got %q, want %q", got, want)
		}
		return ""
	})
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func countOf(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

// pastSettle makes the doubtful sends of svc look missing for longer than settle, with no sync
// stored since they were first found missing (rather than the test sleeping for settle).
func pastSettle(svc *Service) {
	d := &svc.deliv
	d.mu.Lock()
	defer d.mu.Unlock()
	long := time.Now().Add(-settle - time.Second)
	for txn, first := range d.unsure {
		if !first.IsZero() {
			d.unsure[txn] = long
		}
	}
	d.synced = long.Add(-time.Second)
}
