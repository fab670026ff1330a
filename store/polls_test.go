package store

import (
	"context"
	"strings"
	"testing"

	"maunium.net/go/mautrix/id"
)

// A live location moves only with a newer point from its own sender, and never with one that
// came in plain text in an encrypted room (the server could make that up).
func TestLiveLocationMovesOnlyWithItsSendersPoints(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	info := say("!a", "$info", "@b:x", "", 1)
	info.Kind, info.Extra = "live_location", `{"location":{"uri":"","live":true}}`
	if err := st.AppendEvents(ctx, "!a", []Event{info}, false, ""); err != nil {
		t.Fatal(err)
	}
	uri := func() string {
		evts, err := st.EventsByID(ctx, "!a", []id.EventID{"$info"})
		if err != nil || len(evts) != 1 {
			t.Fatalf("the live location: %v %v", evts, err)
		}
		return evts[0].Extra
	}
	for _, c := range []Change{
		{ID: "$p1", Target: "$info", Sender: "@mallory:x", TS: 5, Location: "geo:9,9", E2E: true},
		{ID: "$p2", Target: "$info", Sender: "@b:x", TS: 6, Location: "geo:8,8", NotEncrypted: true},
	} {
		if _, err := st.RecordChanges(ctx, "!a", []Change{c}); err != nil {
			t.Fatal(err)
		}
		if x := uri(); strings.Contains(x, c.Location) {
			t.Fatalf("%+v moved it: %s", c, x)
		}
	}
	if _, err := st.RecordChanges(ctx, "!a", []Change{{ID: "$p3", Target: "$info", Sender: "@b:x", TS: 7, Location: "geo:1,2", E2E: true}}); err != nil {
		t.Fatal(err)
	}
	if x := uri(); !strings.Contains(x, "geo:1,2") {
		t.Fatalf("its sender's encrypted point did not move it: %s", x)
	}
	if _, err := st.RecordChanges(ctx, "!a", []Change{{ID: "$p0", Target: "$info", Sender: "@b:x", TS: 3, Location: "geo:0,0", E2E: true}}); err != nil {
		t.Fatal(err)
	}
	if x := uri(); !strings.Contains(x, "geo:1,2") {
		t.Fatalf("an older point moved it back: %s", x)
	}
}
