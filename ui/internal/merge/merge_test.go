package merge

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
)

// history is a fake room history: messages oldest first, served in pages newest first the
// way Service.History serves them, with cursors "p:N" (the index to read below).
type history map[id.RoomID][]matrixsvc.Message

func (h history) page(f Fetch, n int) ([]matrixsvc.Message, string) {
	msgs := h[f.Room]
	end := len(msgs)
	if f.From != "" {
		end, _ = strconv.Atoi(f.From[2:])
	}
	start := max(end-n, 0)
	next := ""
	if start > 0 {
		next = "p:" + strconv.Itoa(start)
	}
	return msgs[start:end], next
}

func msg(room id.RoomID, ms int64) matrixsvc.Message {
	return matrixsvc.Message{RoomID: room, EventID: id.EventID(fmt.Sprintf("$%s-%d", room, ms)), Timestamp: time.UnixMilli(ms)}
}

// screen plays the UI: it shows what the pager hands out in time order and asks for pages.
type screen struct {
	t       *testing.T
	h       history
	p       *Pager
	pageLen int
	shown   []matrixsvc.Message
	fetches []Fetch
}

// settle runs Next and the fetches it asks for until the pager waits for the reader.
func (s *screen) settle() {
	for range 10000 {
		msgs, f := s.p.Next()
		s.shown = append(s.shown, msgs...)
		slices.SortStableFunc(s.shown, func(a, b matrixsvc.Message) int {
			return a.Timestamp.Compare(b.Timestamp)
		})
		if f == nil {
			return
		}
		s.fetches = append(s.fetches, *f)
		page, next := s.h.page(*f, s.pageLen)
		s.p.Add(f.Room, page, next)
	}
	s.t.Fatal("the pager never stopped fetching")
}

func (s *screen) rooms() []id.RoomID {
	var out []id.RoomID
	for _, f := range s.fetches {
		out = append(out, f.Room)
	}
	return out
}

// Rooms that follow each other (bob left, a new DM; an upgrade): the first screen needs only
// the current room, scrolling up crosses into the older room without a gap.
func TestPagesCrossIntoOlderRoomOnlyWhenAsked(t *testing.T) {
	h := history{}
	for i := range 30 {
		h["!old"] = append(h["!old"], msg("!old", int64(1000+i)))
	}
	for i := range 5 {
		h["!new"] = append(h["!new"], msg("!new", int64(2000+i)))
	}
	s := &screen{t: t, h: h, p: New("!new", 10), pageLen: 10}
	s.settle()
	s.p.AddRoom("!old", 1029)
	s.settle()
	if got := s.rooms(); !slices.Equal(got, []id.RoomID{"!new"}) {
		t.Fatalf("fetched %v before the reader asked", got)
	}
	// The screen is not full: the UI asks for more, and the old room goes on above.
	s.p.Want(10)
	s.settle()
	if len(s.shown) != 15 || s.shown[0].Timestamp.UnixMilli() != 1020 {
		t.Fatalf("first screen: %d messages from %v", len(s.shown), s.shown[0].Timestamp.UnixMilli())
	}
	if got := s.rooms(); !slices.Equal(got, []id.RoomID{"!new", "!old"}) {
		t.Fatalf("fetched %v", got)
	}
	for s.p.More() {
		s.p.Want(10)
		s.settle()
	}
	if len(s.shown) != 35 {
		t.Fatalf("shown %d of 35", len(s.shown))
	}
}

// An older room that ended long before the current room's oldest shown message is not
// fetched until the reader scrolls that far.
func TestOlderRoomStaysUnfetchedUntilReached(t *testing.T) {
	h := history{}
	for i := range 100 {
		h["!new"] = append(h["!new"], msg("!new", int64(5000+i)))
	}
	h["!old"] = []matrixsvc.Message{msg("!old", 10), msg("!old", 20)}
	s := &screen{t: t, h: h, p: New("!new", 20), pageLen: 20}
	s.settle()
	s.p.AddRoom("!old", 20)
	s.settle()
	s.p.Want(20)
	s.settle()
	for _, f := range s.fetches {
		if f.Room == "!old" {
			t.Fatalf("the old room was fetched with 60 newer messages still unshown: %v", s.rooms())
		}
	}
}

// Rooms used at the same time (both sides started a DM at once) interleave by time, and a
// room added later whose messages are newer than the top of the screen is fetched at once
// and its messages go in between.
func TestOverlappingRoomsInterleave(t *testing.T) {
	h := history{}
	for i := range 40 {
		r := id.RoomID("!a")
		if i%3 == 0 {
			r = "!b"
		}
		h[r] = append(h[r], msg(r, int64(100+i)))
	}
	s := &screen{t: t, h: h, p: New("!a", 10), pageLen: 7}
	s.settle()
	s.p.AddRoom("!b", 139)
	s.settle()
	checkSuffix(t, s, 40)
	for s.p.More() {
		s.p.Want(10)
		s.settle()
		checkSuffix(t, s, 40)
	}
	if len(s.shown) != 40 {
		t.Fatalf("shown %d of 40", len(s.shown))
	}
}

// Random conversations: whatever the rooms and pages, what is shown is always every message
// newer than the oldest shown (no gap, no duplicate), and in the end everything.
func TestRandomConversations(t *testing.T) {
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 1))
		h := history{}
		nRooms := 1 + r.IntN(5)
		ids := make([]id.RoomID, nRooms)
		total := 0
		for i := range ids {
			ids[i] = id.RoomID(fmt.Sprintf("!r%d", i))
			start := r.Int64N(1000)
			n := r.IntN(40)
			for range n {
				start += 1 + r.Int64N(50)
				h[ids[i]] = append(h[ids[i]], msg(ids[i], start))
			}
			total += n
		}
		s := &screen{t: t, h: h, p: New(ids[0], 1+r.IntN(20)), pageLen: 1 + r.IntN(15)}
		s.settle()
		for _, room := range ids[1:] {
			last := int64(0)
			if msgs := h[room]; len(msgs) > 0 && r.IntN(4) > 0 { // sometimes unknown
				last = msgs[len(msgs)-1].Timestamp.UnixMilli() + r.Int64N(3)
			}
			s.p.AddRoom(room, last)
		}
		s.settle()
		checkSuffix(t, s, total)
		for i := 0; s.p.More(); i++ {
			if i > 1000 {
				t.Fatalf("seed %d: never ends", seed)
			}
			s.p.Want(1 + r.IntN(20))
			s.settle()
			checkSuffix(t, s, total)
		}
		if len(s.shown) != total {
			t.Fatalf("seed %d: shown %d of %d", seed, len(s.shown), total)
		}
	}
}

func checkSuffix(t *testing.T, s *screen, total int) {
	t.Helper()
	seen := map[id.EventID]bool{}
	for _, m := range s.shown {
		if seen[m.EventID] {
			t.Fatalf("%s shown twice", m.EventID)
		}
		seen[m.EventID] = true
	}
	if len(s.shown) == 0 {
		return
	}
	oldest := s.shown[0].Timestamp
	for _, msgs := range s.h {
		for _, m := range msgs {
			if m.Timestamp.After(oldest) && !seen[m.EventID] {
				t.Fatalf("%s is newer than the top of the screen and not shown", m.EventID)
			}
		}
	}
}

// A failed page drops the ask: nothing is fetched until the reader asks again.
func TestFailedPageWaitsForTheReader(t *testing.T) {
	p := New("!a", 10)
	_, f := p.Next()
	if f == nil || f.Room != "!a" {
		t.Fatalf("first fetch: %+v", f)
	}
	p.Failed("!a")
	if _, f := p.Next(); f != nil {
		t.Fatalf("fetched again unasked: %+v", f)
	}
	p.Want(10)
	if _, f := p.Next(); f == nil {
		t.Fatal("no fetch after asking again")
	}
}

// A page that is empty yet not the start, with the same cursor again, ends the room instead
// of asking forever.
func TestStuckCursorEnds(t *testing.T) {
	p := New("!a", 10)
	_, f := p.Next()
	p.Add(f.Room, nil, "p:5")
	_, f = p.Next()
	if f == nil || f.From != "p:5" {
		t.Fatalf("second fetch: %+v", f)
	}
	p.Add(f.Room, nil, "p:5")
	if _, f := p.Next(); f != nil || p.More() {
		t.Fatalf("asks on with a stuck cursor: %+v more=%v", f, p.More())
	}
}

// BenchmarkFirstScreen is the pager's share of opening a conversation of five rooms with 2,000
// messages each (the rooms' pages themselves come from the store, measured by matrixsvc's
// BenchmarkOpenConversation): the first page, then the chain arriving with the screen full.
func BenchmarkFirstScreen(b *testing.B) {
	for _, n := range []int{1, 5} {
		b.Run(fmt.Sprintf("rooms=%d", n), func(b *testing.B) {
			h := history{}
			ids := make([]id.RoomID, n)
			per := 10_000 / n
			for r := range ids {
				ids[r] = id.RoomID(fmt.Sprintf("!r%d", r))
				for i := range per {
					h[ids[r]] = append(h[ids[r]], msg(ids[r], int64((n-1-r)*per+i)))
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				p := New(ids[0], 50)
				_, f := p.Next()
				page, next := h.page(*f, 50)
				p.Add(f.Room, page, next)
				msgs, f := p.Next()
				if len(msgs) != 50 || f != nil {
					b.Fatalf("first screen: %d messages, fetch %v", len(msgs), f)
				}
				for _, r := range ids[1:] {
					p.AddRoom(r, h[r][len(h[r])-1].Timestamp.UnixMilli())
				}
				if msgs, f := p.Next(); len(msgs) != 0 || f != nil {
					b.Fatalf("the chain asked for more: %d messages, fetch %v", len(msgs), f)
				}
			}
		})
	}
}
