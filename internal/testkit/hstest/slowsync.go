package hstest

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// SlowFirstSync is a proxy in front of a homeserver that holds back the answer to an initial
// /sync (one without since) until Release or for at most limit, as a large account's first
// sync takes the server minutes; every other request goes through at once.
type SlowFirstSync struct {
	URL     string        // the proxy's base URL, for a session's homeserver
	Held    chan struct{} // closed when an initial sync is first held
	release chan struct{}
	once    sync.Once
	heldOne sync.Once
}

// NewSlowFirstSync starts the proxy to target; it stops when the test ends.
func NewSlowFirstSync(t testing.TB, target string, limit time.Duration) *SlowFirstSync {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &SlowFirstSync{Held: make(chan struct{}), release: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/sync") && r.URL.Query().Get("since") == "" {
			p.heldOne.Do(func() { close(p.Held) })
			select {
			case <-p.release:
			case <-time.After(limit):
			case <-r.Context().Done():
				return
			}
		}
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { p.Release(); _ = srv.Close() })
	p.URL = "http://" + ln.Addr().String()
	return p
}

// Release lets the initial syncs through from now on.
func (p *SlowFirstSync) Release() { p.once.Do(func() { close(p.release) }) }

// Released reports whether Release was called.
func (p *SlowFirstSync) Released() bool {
	select {
	case <-p.release:
		return true
	default:
		return false
	}
}
