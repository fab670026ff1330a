// Package hostile is a malicious homeserver for tests: a proxy in front of the real test
// Dendrite that passes everything through, except what a test tells it to change. It can
// inject events into the next /sync response (at once, cutting a long poll short), rewrite or
// drop any event the server hands out (in /sync, /messages, /context, /members and single-event
// reads), and answer any other endpoint itself. duet talks to it as to its homeserver; the
// other people in a test talk to Dendrite directly.
//
// What it cannot do is what a real malicious server cannot do either: forge encryption. An
// injected m.room.encrypted event it made up does not decrypt; an event it alters keeps its
// signature-less shape, as clients see every event.
//
// Only tests import it.
package hostile

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"
)

// Event is an event as JSON on the wire: change it in place, or build one with NewEvent.
type Event = map[string]any

// Rewrite sees every event the server hands out in a room (room is "" for to-device events and
// where the response names no room) and returns the event to hand out instead: evt changed in
// place, another event, or nil to drop it.
type Rewrite func(room id.RoomID, evt Event) Event

// Proxy is the hostile server. Its URL is duet's homeserver URL.
type Proxy struct {
	URL string

	t      testing.TB
	target *url.URL
	rp     *httputil.ReverseProxy
	client *http.Client

	mu       sync.Mutex
	pending  []injection
	wake     chan struct{} // closed when an injection is queued: cuts waiting syncs short
	rewrites map[int]Rewrite
	handlers map[int]handler
	next     int
	seq      atomic.Int64
}

type injection struct {
	room     id.RoomID
	timeline []Event
	state    []Event
	toDevice []Event
	done     chan struct{}
}

type handler struct {
	method, path string
	h            http.HandlerFunc
}

// Start puts a hostile proxy in front of the homeserver at target (its base URL) for the rest
// of the test.
func Start(t testing.TB, target string) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{
		t: t, target: u, wake: make(chan struct{}),
		rewrites: map[int]Rewrite{}, handlers: map[int]handler{},
		client: &http.Client{Timeout: 5 * time.Minute},
	}
	p.rp = httputil.NewSingleHostReverseProxy(u)
	director := p.rp.Director
	p.rp.Director = func(r *http.Request) {
		director(r)
		r.Header.Del("Accept-Encoding") // bodies are rewritten: keep them plain
	}
	p.rp.ModifyResponse = p.modify
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// NewEvent makes an event the server claims sender sent: a fresh event ID and the time now.
func (p *Proxy) NewEvent(sender id.UserID, typ string, content map[string]any) Event {
	n := p.seq.Add(1)
	return Event{
		"type":             typ,
		"sender":           string(sender),
		"event_id":         fmt.Sprintf("$hostile%d-%d:%s", n, time.Now().UnixNano(), p.target.Host),
		"origin_server_ts": time.Now().UnixMilli(),
		"content":          content,
		"unsigned":         map[string]any{},
	}
}

// NewState is NewEvent for a state event.
func (p *Proxy) NewState(sender id.UserID, typ, stateKey string, content map[string]any) Event {
	evt := p.NewEvent(sender, typ, content)
	evt["state_key"] = stateKey
	return evt
}

// InjectTimeline hands evts out in room's timeline in the next /sync response (a waiting one
// returns at once). The channel is closed once a response carrying them was written.
func (p *Proxy) InjectTimeline(room id.RoomID, evts ...Event) <-chan struct{} {
	return p.inject(injection{room: room, timeline: evts})
}

// InjectState hands evts out in room's state section of the next /sync response.
func (p *Proxy) InjectState(room id.RoomID, evts ...Event) <-chan struct{} {
	return p.inject(injection{room: room, state: evts})
}

// InjectToDevice hands evts out as to-device events in the next /sync response.
func (p *Proxy) InjectToDevice(evts ...Event) <-chan struct{} {
	return p.inject(injection{toDevice: evts})
}

func (p *Proxy) inject(in injection) <-chan struct{} {
	in.done = make(chan struct{})
	p.mu.Lock()
	p.pending = append(p.pending, in)
	close(p.wake)
	p.wake = make(chan struct{})
	p.mu.Unlock()
	return in.done
}

// Rewrite applies f to every event handed out from now on, until the returned func is called
// (or the test ends).
func (p *Proxy) Rewrite(f Rewrite) (stop func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := p.next
	p.next++
	p.rewrites[k] = f
	return func() { p.mu.Lock(); delete(p.rewrites, k); p.mu.Unlock() }
}

// Handle answers requests of method whose path contains path with h instead of the server,
// until the returned func is called.
func (p *Proxy) Handle(method, path string, h http.HandlerFunc) (stop func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := p.next
	p.next++
	p.handlers[k] = handler{method: method, path: path, h: h}
	return func() { p.mu.Lock(); delete(p.handlers, k); p.mu.Unlock() }
}

// Forward sends r to the real server and returns its answer's status and body: for handlers
// that change what the server says rather than make it all up.
func (p *Proxy) Forward(r *http.Request) (int, []byte, error) {
	u := *p.target
	u.Path = r.URL.Path
	u.RawQuery = r.URL.RawQuery
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header = r.Header.Clone()
	req.Header.Del("Accept-Encoding")
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	var h http.HandlerFunc
	for k := 0; k < p.next; k++ {
		if hd, ok := p.handlers[k]; ok && hd.method == r.Method && strings.Contains(r.URL.Path, hd.path) {
			h = hd.h
		}
	}
	p.mu.Unlock()
	switch {
	case h != nil:
		h(w, r)
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/sync"):
		p.sync(w, r)
	default:
		p.rp.ServeHTTP(w, r)
	}
}

// sync forwards a /sync and adds what is pending. A long poll is cut short when something is
// injected while it waits: the client then gets the injection with its own since token as
// next_batch, and asks the server again.
func (p *Proxy) sync(w http.ResponseWriter, r *http.Request) {
	since := r.URL.Query().Get("since")
	type result struct {
		status int
		body   []byte
		err    error
	}
	short := result{status: http.StatusOK, body: []byte(`{"next_batch":` + quote(since) + `}`)}
	p.mu.Lock()
	wake := p.wake
	hasPending := len(p.pending) > 0
	p.mu.Unlock()
	var res result
	if since != "" && hasPending {
		res = short // what is pending goes out at once
	} else {
		if since == "" {
			wake = nil // an initial sync is never cut short: what is pending goes with it
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		done := make(chan result, 1)
		go func() {
			st, body, err := p.Forward(r.WithContext(ctx))
			done <- result{st, body, err}
		}()
		select {
		case res = <-done:
		case <-wake:
			cancel()
			<-done
			res = short
		}
	}
	if res.err != nil {
		if r.Context().Err() == nil {
			http.Error(w, res.err.Error(), http.StatusBadGateway)
		}
		return
	}
	if res.status != http.StatusOK {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(res.status)
		_, _ = w.Write(res.body)
		return
	}
	var resp map[string]any
	if err := json.Unmarshal(res.body, &resp); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	p.mu.Lock()
	pending := p.pending
	p.pending = nil
	p.mu.Unlock()
	for _, in := range pending {
		addInjection(resp, in)
	}
	p.rewriteSync(resp)
	out, err := json.Marshal(resp)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
	for _, in := range pending {
		close(in.done)
	}
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

// obj returns m[key] as an object, making it when absent.
func obj(m map[string]any, key string) map[string]any {
	if o, ok := m[key].(map[string]any); ok {
		return o
	}
	o := map[string]any{}
	m[key] = o
	return o
}

func addInjection(resp map[string]any, in injection) {
	if len(in.toDevice) > 0 {
		td := obj(resp, "to_device")
		evs, _ := td["events"].([]any)
		for _, e := range in.toDevice {
			evs = append(evs, e)
		}
		td["events"] = evs
	}
	if in.room == "" {
		return
	}
	room := obj(obj(obj(resp, "rooms"), "join"), string(in.room))
	add := func(section string, evts []Event) {
		if len(evts) == 0 {
			return
		}
		s := obj(room, section)
		evs, _ := s["events"].([]any)
		for _, e := range evts {
			evs = append(evs, e)
		}
		s["events"] = evs
	}
	add("state", in.state)
	add("timeline", in.timeline)
}

func (p *Proxy) rewriters() []Rewrite {
	p.mu.Lock()
	defer p.mu.Unlock()
	var fs []Rewrite
	for k := 0; k < p.next; k++ {
		if f, ok := p.rewrites[k]; ok {
			fs = append(fs, f)
		}
	}
	return fs
}

// apply runs the rewrites over a list of events, dropping those they drop.
func apply(fs []Rewrite, room id.RoomID, list any) []any {
	evs, _ := list.([]any)
	out := evs[:0]
	for _, raw := range evs {
		evt, ok := raw.(map[string]any)
		if !ok {
			out = append(out, raw)
			continue
		}
		for _, f := range fs {
			if evt = f(room, evt); evt == nil {
				break
			}
		}
		if evt != nil {
			out = append(out, evt)
		}
	}
	return out
}

func (p *Proxy) rewriteSync(resp map[string]any) {
	fs := p.rewriters()
	if len(fs) == 0 {
		return
	}
	if td, ok := resp["to_device"].(map[string]any); ok {
		td["events"] = apply(fs, "", td["events"])
	}
	rooms, _ := resp["rooms"].(map[string]any)
	for _, kind := range []string{"join", "leave", "invite", "knock"} {
		byRoom, _ := rooms[kind].(map[string]any)
		for roomID, r := range byRoom {
			room, _ := r.(map[string]any)
			for _, section := range []string{"state", "timeline", "invite_state", "knock_state"} {
				if s, ok := room[section].(map[string]any); ok {
					s["events"] = apply(fs, id.RoomID(roomID), s["events"])
				}
			}
		}
	}
}

// modify rewrites the events in the other answers that carry room events.
func (p *Proxy) modify(resp *http.Response) error {
	fs := p.rewriters()
	path := resp.Request.URL.Path
	room := roomOf(path)
	if len(fs) == 0 || resp.StatusCode != http.StatusOK || room == "" {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		switch {
		case strings.Contains(path, "/event/"):
			if out := apply(fs, room, []any{m}); len(out) == 1 {
				m, _ = out[0].(map[string]any)
			} else {
				m = map[string]any{"errcode": "M_NOT_FOUND", "error": "Event not found."}
				resp.StatusCode = http.StatusNotFound
			}
		default:
			for _, k := range []string{"chunk", "state", "events_before", "events_after"} {
				if _, ok := m[k]; ok {
					m[k] = apply(fs, room, m[k])
				}
			}
			if evt, ok := m["event"].(map[string]any); ok {
				if out := apply(fs, room, []any{evt}); len(out) == 1 {
					m["event"] = out[0]
				}
			}
		}
		if b, err := json.Marshal(m); err == nil {
			body = b
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", fmt.Sprint(len(body)))
	resp.Header.Del("Content-Encoding")
	return nil
}

// roomOf returns the room ID in a /rooms/{roomId}/... path, or "".
func roomOf(path string) id.RoomID {
	const marker = "/rooms/"
	i := strings.Index(path, marker)
	if i < 0 {
		return ""
	}
	rest := path[i+len(marker):]
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		rest = rest[:j]
	}
	room, err := url.PathUnescape(rest)
	if err != nil {
		return ""
	}
	return id.RoomID(room)
}
