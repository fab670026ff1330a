package matrixsvc

import (
	"maps"
	"slices"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Second copies of our events (the same transaction ID, another event) are taken out of a
// sync response in whatever order they come; a live copy beats a deleted one; only a live
// second copy is still to delete at the server.
func TestDropDuplicates(t *testing.T) {
	const me, other = id.UserID("@me:x"), id.UserID("@bob:x")
	const room = id.RoomID("!r:x")
	ev := func(evt id.EventID, sender id.UserID, txn string, deleted bool) *event.Event {
		e := &event.Event{ID: evt, Sender: sender, Type: event.EventMessage}
		e.Unsigned.TransactionID = txn
		if deleted {
			e.Unsigned.RedactedBecause = &event.Event{ID: "$redaction"}
		}
		return e
	}
	resp := func(evts ...*event.Event) *mautrix.RespSync {
		r := &mautrix.RespSync{}
		r.Rooms.Join = map[id.RoomID]*mautrix.SyncJoinedRoom{room: {}}
		r.Rooms.Join[room].Timeline.Events = evts
		return r
	}
	ids := func(r *mautrix.RespSync) []id.EventID {
		var out []id.EventID
		for _, e := range r.Rooms.Join[room].Timeline.Events {
			out = append(out, e.ID)
		}
		return out
	}
	for _, c := range []struct {
		name     string
		earlier  []*event.Event // a response before, already noted
		now      []*event.Event
		kept     []id.EventID
		toDelete []id.EventID
	}{
		{name: "two live copies in one response",
			now:  []*event.Event{ev("$a", me, "t1", false), ev("$b", other, "", false), ev("$a2", me, "t1", false)},
			kept: []id.EventID{"$a", "$b"}, toDelete: []id.EventID{"$a2"}},
		{name: "the second copy a sync later",
			earlier: []*event.Event{ev("$a", me, "t1", false)},
			now:     []*event.Event{ev("$a2", me, "t1", false), ev("$c", me, "t2", false)},
			kept:    []id.EventID{"$c"}, toDelete: []id.EventID{"$a2"}},
		{name: "the same event again is no copy",
			earlier: []*event.Event{ev("$a", me, "t1", false)},
			now:     []*event.Event{ev("$a", me, "t1", false)},
			kept:    []id.EventID{"$a"}},
		{name: "a deleted copy before the live one",
			now:  []*event.Event{ev("$a2", me, "t1", true), ev("$a", me, "t1", false)},
			kept: []id.EventID{"$a"}},
		{name: "a deleted copy after the live one",
			now:  []*event.Event{ev("$a", me, "t1", false), ev("$a2", me, "t1", true)},
			kept: []id.EventID{"$a"}},
		{name: "someone else's events and ours without a transaction are left alone",
			now:  []*event.Event{ev("$x", other, "t1", false), ev("$y", other, "t1", false), ev("$m", me, "", false), ev("$n", me, "", false)},
			kept: []id.EventID{"$x", "$y", "$m", "$n"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var d delivery
			if c.earlier != nil {
				r := resp(c.earlier...)
				d.dropDuplicates(me, r)
				d.noteSync(me, r)
			}
			r := resp(c.now...)
			del := d.dropDuplicates(me, r)
			if got := ids(r); !slices.Equal(got, c.kept) {
				t.Errorf("kept %v, want %v", got, c.kept)
			}
			if got := slices.Sorted(maps.Keys(del)); !slices.Equal(got, c.toDelete) {
				t.Errorf("to delete %v, want %v", got, c.toDelete)
			}
			d.noteSync(me, r)
			if got := d.echo("t1"); len(c.kept) > 0 && c.kept[0] == "$a" && got != "$a" {
				t.Errorf("the echo of t1 is %s, want the first copy", got)
			}
		})
	}
}
