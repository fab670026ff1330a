package matrixsvc

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// loopback receives the browser's redirect at the end of a login on http://127.0.0.1:PORT/PATH
// (never another interface): it answers the first request on PATH with a short page, hands its
// query to the login and is closed right after.
type loopback struct {
	ln     net.Listener
	srv    *http.Server
	path   string
	got    chan url.Values
	once   sync.Once
	verify func(url.Values) error // what the page says: nil, or why the login fails
}

// listenLoopback listens on 127.0.0.1:port (0: a free port the system picks).
func listenLoopback(port int, path string, verify func(url.Values) error) (*loopback, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("port %d on 127.0.0.1 is taken: pick another with --port, or leave --port out to use a free one", port)
		}
		return nil, fmt.Errorf("cannot listen on 127.0.0.1 for the browser's answer: %w", err)
	}
	lb := &loopback{ln: ln, path: path, got: make(chan url.Values, 1), verify: verify}
	lb.srv = &http.Server{
		Handler:           http.HandlerFunc(lb.serve),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // nothing reaches the terminal
	}
	go func() { _ = lb.srv.Serve(ln) }()
	return lb, nil
}

// redirectURI is the address the browser comes back to.
func (lb *loopback) redirectURI() string {
	return "http://" + lb.ln.Addr().String() + lb.path
}

func (lb *loopback) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != lb.path || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	first := false
	lb.once.Do(func() { first = true })
	title, text := "Logged in", "duet has what it needs. You can close this tab and go back to the terminal."
	if !first {
		title, text = "Already answered", "duet already had an answer from this browser. You can close this tab."
	} else if err := lb.verify(r.URL.Query()); err != nil {
		title, text = "Login failed", err.Error()+". You can close this tab and go back to the terminal."
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	fmt.Fprintf(w, "<!doctype html><html><head><meta charset=\"utf-8\"><title>duet: %s</title></head>"+
		"<body style=\"font-family: sans-serif; margin: 3em\"><h1>%s</h1><p>%s</p></body></html>\n",
		html.EscapeString(title), html.EscapeString(title), html.EscapeString(text))
	if first {
		lb.got <- r.URL.Query()
	}
}

// wait returns the query of the browser's answer, or ctx's error.
func (lb *loopback) wait(ctx context.Context) (url.Values, error) {
	select {
	case q := <-lb.got:
		return q, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// close stops listening; the page being sent is finished first.
func (lb *loopback) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = lb.srv.Shutdown(ctx)
}
