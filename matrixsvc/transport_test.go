package matrixsvc

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// A send over a pooled connection that dies as it is used (the server hangs up after reading
// the request, as a connection broken while idle does) goes again at once on a new one,
// marked with its transaction ID; without the mark the client gives up with EOF, and the
// outbox would hold the message back as perhaps arrived.
func TestSendsRetriedOnADeadPooledConnection(t *testing.T) {
	var mu sync.Mutex
	var keys []string
	hungUp := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Method != http.MethodPut {
			_, _ = w.Write([]byte(`{}`))
			return
		}
		mu.Lock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		hangUp := !hungUp
		hungUp = true
		mu.Unlock()
		if hangUp {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return
		}
		_, _ = w.Write([]byte(`{"event_id":"$e"}`))
	}))
	defer srv.Close()
	send := func(rt http.RoundTripper) error {
		cli := &http.Client{Transport: rt}
		resp, err := cli.Get(srv.URL + "/_matrix/client/v3/sync") // leaves a pooled connection
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/_matrix/client/v3/rooms/%21r:x/send/m.room.message/txn-7", bytes.NewReader([]byte(`{"body":"hi"}`)))
		resp, err = cli.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}

	got := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := keys
		keys, hungUp = nil, false
		return out
	}
	if err := send(idempotentSends{base: &http.Transport{}}); err != nil {
		t.Fatalf("the send failed: %v", err)
	}
	if k := got(); len(k) != 2 || k[0] != "txn-7" || k[1] != "txn-7" {
		t.Fatalf("the server got the send %d times with keys %q, want twice with txn-7", len(k), k)
	}
	if err := send(&http.Transport{}); err == nil || len(got()) != 1 {
		t.Fatalf("without the key: err %v; the test no longer shows the difference", err)
	}
}

func TestTransactionOf(t *testing.T) {
	for _, c := range []struct{ method, path, want string }{
		{"PUT", "/_matrix/client/v3/rooms/!r:x/send/m.room.message/t1", "t1"},
		{"PUT", "/_matrix/client/v3/rooms/!r:x/redact/$e/t2", "t2"},
		{"PUT", "/_matrix/client/v3/sendToDevice/m.room_key_request/t3", "t3"},
		{"PUT", "/_matrix/client/v3/rooms/!r:x/state/m.room.name/", ""},
		{"PUT", "/_matrix/client/v3/user/@a:x/account_data/m.direct", ""},
		{"POST", "/_matrix/client/v3/rooms/!r:x/send/m.room.message/t1", ""},
		{"GET", "/_matrix/client/v3/sync", ""},
	} {
		req := httptest.NewRequest(c.method, "http://hs.example"+c.path, nil)
		if got := transactionOf(req); got != c.want {
			t.Errorf("%s %s: %q, want %q", c.method, c.path, got, c.want)
		}
	}
}
