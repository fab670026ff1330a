// Package merge pages back through a conversation that spans several rooms (R22): it
// interleaves the rooms' histories by server time and asks for one page of one room at a
// time, and only of a room that may hold the next message to show.
package merge

import (
	"math"

	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
)

// Fetch asks for the page of Room's history before the cursor From ("" = the newest page).
type Fetch struct {
	Room id.RoomID
	From string
}

type room struct {
	id      id.RoomID
	buf     []matrixsvc.Message // fetched and not shown yet, oldest first
	from    string              // the cursor for the page before buf
	started bool                // a page of it has come
	done    bool                // its start was reached
	// bound (ms): no message of this room that has not been fetched is newer. Before the first
	// page it is the room's last activity, or +inf when that is unknown.
	bound int64
}

// Pager is the state of one conversation's paging. It is not safe for concurrent use.
type Pager struct {
	rooms   []*room
	byID    map[id.RoomID]*room
	pending id.RoomID // the room whose page is on its way
	oldest  int64     // ms of the oldest message handed out; +inf before the first
	quota   int       // how many more older messages the reader asked for
}

// New starts paging a conversation whose current room is current; the first Next asks for
// its newest page, and up to first messages are handed out for the first screen.
func New(current id.RoomID, first int) *Pager {
	p := &Pager{byID: map[id.RoomID]*room{}, oldest: math.MaxInt64, quota: first}
	p.AddRoom(current, 0)
	return p
}

// AddRoom adds a room of the conversation; last is the server time (ms) of its most recent
// event, 0 if unknown. Adding a room twice changes nothing.
func (p *Pager) AddRoom(r id.RoomID, last int64) {
	if r == "" || p.byID[r] != nil {
		return
	}
	bound := last
	if bound <= 0 {
		bound = math.MaxInt64
	}
	rm := &room{id: r, bound: bound}
	p.rooms = append(p.rooms, rm)
	p.byID[r] = rm
}

// Has reports whether r is one of the rooms being paged.
func (p *Pager) Has(r id.RoomID) bool { return p.byID[r] != nil }

// Want asks for n messages older than those handed out, if no earlier ask is still open.
func (p *Pager) Want(n int) {
	if p.quota <= 0 {
		p.quota = n
	}
}

// Loading reports whether a page is on its way.
func (p *Pager) Loading() bool { return p.pending != "" }

// More reports whether anything older than what was handed out is left.
func (p *Pager) More() bool {
	for _, r := range p.rooms {
		if !r.done || len(r.buf) > 0 {
			return true
		}
	}
	return false
}

// Add takes in the page asked for by the last Fetch: msgs oldest first, and from, the cursor
// for the page before it ("" at the start of the room).
func (p *Pager) Add(r id.RoomID, msgs []matrixsvc.Message, from string) {
	rm := p.byID[r]
	if rm == nil || p.pending != r {
		return
	}
	p.pending = ""
	stuck := rm.started && len(msgs) == 0 && from == rm.from
	rm.started, rm.from, rm.done = true, from, from == "" || stuck
	if len(msgs) > 0 {
		rm.buf = append(append(make([]matrixsvc.Message, 0, len(msgs)+len(rm.buf)), msgs...), rm.buf...)
		rm.bound = min(rm.bound, msgs[0].Timestamp.UnixMilli())
	} else if !rm.done {
		// An empty page that is not the start (a cursor that moved over events that are not
		// messages): what is left is older than what was handed out. The same cursor again
		// ends the room (stuck), so that a bad page cannot make Next ask forever.
		rm.bound = min(rm.bound, p.oldest)
	}
}

// Failed ends the Fetch of r without a page; the reader's ask is dropped, so that nothing is
// asked again until the reader asks (scrolls) again.
func (p *Pager) Failed(r id.RoomID) {
	if p.pending == r {
		p.pending, p.quota = "", 0
	}
}

// Next hands out the messages that can be shown now, oldest first: those newer than the
// oldest handed out (a room that overlaps what is on screen), and as many older ones as the
// reader asked for. fetch is set when a room's page must come first; the caller asks for it
// and calls Add (or Failed) with the answer, then Next again. A room is fetched for what is
// on screen even unasked; older history only when asked.
func (p *Pager) Next() (msgs []matrixsvc.Message, fetch *Fetch) {
	if p.pending != "" {
		return nil, nil
	}
	var out []matrixsvc.Message // newest first
	for {
		need := p.need()
		head := p.head()
		if need != nil && (head == nil || need.bound >= newest(head)) {
			// need's room may hold the next message: it must be fetched first.
			if p.quota > 0 || need.bound > p.oldest {
				p.pending = need.id
				fetch = &Fetch{Room: need.id, From: need.from}
			}
			break
		}
		if head == nil {
			p.quota = 0 // nothing older anywhere
			break
		}
		ts := newest(head)
		if ts <= p.oldest && p.quota <= 0 {
			break
		}
		last := len(head.buf) - 1
		out = append(out, head.buf[last])
		head.buf = head.buf[:last]
		if ts <= p.oldest {
			p.quota--
		}
		p.oldest = min(p.oldest, ts)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, fetch
}

// need is the room not fetched to its start, with nothing buffered, whose next message may be
// the newest: the one with the highest bound.
func (p *Pager) need() *room {
	var best *room
	for _, r := range p.rooms {
		if !r.done && len(r.buf) == 0 && (best == nil || r.bound > best.bound) {
			best = r
		}
	}
	return best
}

// head is the room whose buffered newest message is the newest of all buffers.
func (p *Pager) head() *room {
	var best *room
	for _, r := range p.rooms {
		if len(r.buf) > 0 && (best == nil || newest(r) > newest(best)) {
			best = r
		}
	}
	return best
}

func newest(r *room) int64 { return r.buf[len(r.buf)-1].Timestamp.UnixMilli() }
