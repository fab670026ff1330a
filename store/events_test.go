package store

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"
)

// openStore opens a fresh store for one test.
func openStore(t *testing.T) *Store {
	t.Helper()
	st, err := Open(context.Background(), filepath.Join(t.TempDir(), "duet.db"), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func evts(ids ...string) []Event {
	out := make([]Event, len(ids))
	for i, e := range ids {
		out[i] = Event{ID: id.EventID(e), Sender: "@b:hs", Body: e, MsgType: "m.text"}
	}
	return out
}

func idsOf(es []Event) []string {
	var out []string
	for _, e := range es {
		out = append(out, string(e.ID))
	}
	return out
}

// Sync chunks append; a limited chunk leaves a gap below it; filling the gap from the server
// puts the older events between the runs, and the gap goes once the page meets stored events.
func TestTimelineGaps(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	const room = id.RoomID("!r:hs")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.AppendEvents(ctx, room, evts("a1", "a2"), false, ""))             // the whole history so far
	must(st.AppendEvents(ctx, room, evts("c1", "c2"), true, "tok-before-c1")) // after a long absence
	must(st.AppendEvents(ctx, room, evts("c2", "c3"), false, ""))             // c2 again: stored once

	got, gap, err := st.EventsBelow(ctx, room, 1e9, 10)
	must(err)
	if !slices.Equal(idsOf(got), []string{"c3", "c2", "c1"}) || gap == nil || gap.Token != "tok-before-c1" {
		t.Fatalf("newest run: %v, gap %+v", idsOf(got), gap)
	}
	// The server's page below the gap (newest first) reaches a2, which is stored: the gap closes.
	must(st.FillGap(ctx, room, *gap, evts("b2", "b1", "a2", "a1"), "tok-older"))
	got, gap, err = st.EventsBelow(ctx, room, 1e9, 10)
	must(err)
	if !slices.Equal(idsOf(got), []string{"c3", "c2", "c1", "b2", "b1", "a2", "a1"}) || gap != nil {
		t.Fatalf("after filling: %v, gap %+v", idsOf(got), gap)
	}
	// Paging with a cursor.
	page, _, err := st.EventsBelow(ctx, room, got[2].Pos, 2)
	must(err)
	if !slices.Equal(idsOf(page), []string{"b2", "b1"}) {
		t.Fatalf("page below c1: %v", idsOf(page))
	}
}

// A page that does not reach stored events moves the gap below it; an empty last page closes it.
func TestTimelineGapMovesDown(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	const room = id.RoomID("!r:hs")
	if err := st.SetGapToken(ctx, room, 0, ""); err != nil {
		t.Fatal(err)
	}
	gap := Gap{Pos: 0, Token: ""}
	for i := 0; i < 3; i++ {
		page := evts(fmt.Sprintf("p%d-1", i), fmt.Sprintf("p%d-2", i))
		if err := st.FillGap(ctx, room, gap, page, fmt.Sprintf("tok%d", i)); err != nil {
			t.Fatal(err)
		}
		var got []Event
		got, g, err := st.EventsBelow(ctx, room, 1e9, 100)
		if err != nil || g == nil || g.Token != fmt.Sprintf("tok%d", i) || len(got) != 2*(i+1) {
			t.Fatalf("round %d: %v, gap %+v, %v", i, idsOf(got), g, err)
		}
		gap = *g
	}
	if err := st.FillGap(ctx, room, gap, nil, ""); err != nil {
		t.Fatal(err)
	}
	got, g, _ := st.EventsBelow(ctx, room, 1e9, 100)
	if g != nil || !slices.Equal(idsOf(got), []string{"p0-1", "p0-2", "p1-1", "p1-2", "p2-1", "p2-2"}) {
		t.Fatalf("at the start: %v, gap %+v", idsOf(got), g)
	}
}

// Forgetting a room forgets its timeline.
func TestDeleteRoomForgetsTimeline(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	const room = id.RoomID("!r:hs")
	if err := st.PutRoom(ctx, &Room{ID: room, Membership: "join"}); err != nil {
		t.Fatal(err)
	}
	if err := st.AppendEvents(ctx, room, evts("a", "b"), true, "tok"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteRoom(ctx, room); err != nil {
		t.Fatal(err)
	}
	if has, err := st.HasEvents(ctx, room); err != nil || has {
		t.Fatalf("timeline after forgetting the room: %v, %v", has, err)
	}
}
