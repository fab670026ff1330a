package hostile_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/homeserver"
	"duet/internal/testkit/hostile"
	"duet/internal/testkit/hstest"
)

var hs *homeserver.Server

func TestMain(m *testing.M) { hstest.Main(m, &hs) }

// through returns a client for p's account that talks to the proxy instead of the server.
func through(t *testing.T, p *hstest.Person, proxy *hostile.Proxy) *mautrix.Client {
	t.Helper()
	cli, err := mautrix.NewClient(proxy.URL, p.ID, p.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	return cli
}

func bodies(resp *mautrix.RespSync, room id.RoomID) []string {
	var out []string
	r := resp.Rooms.Join[room]
	if r == nil {
		return nil
	}
	for _, evt := range r.Timeline.Events {
		if evt.Type == event.EventMessage {
			out = append(out, evt.Content.Raw["body"].(string))
		}
	}
	return out
}

// An injected event cuts a waiting long poll short and arrives in the room's timeline; a
// rewrite changes and drops what the server hands out, in /sync and in /messages.
func TestInjectAndRewrite(t *testing.T) {
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	room := bob.CreateRoom(t, true, alice.ID)
	alice.Join(t, room)
	bob.Say(t, room, "hello")
	bob.Say(t, room, "drop me")
	proxy := hostile.Start(t, hs.URL)
	cli := through(t, alice, proxy)
	stop := proxy.Rewrite(func(r id.RoomID, evt hostile.Event) hostile.Event {
		c, _ := evt["content"].(map[string]any)
		switch c["body"] {
		case "drop me":
			return nil
		case "hello":
			c["body"] = "hello\x1b]52;c;aGk=\x07"
		}
		return evt
	})
	ctx := hstest.Ctx(t)
	first, err := cli.SyncRequest(ctx, 0, "", "", true, event.PresenceOffline)
	if err != nil {
		t.Fatal(err)
	}
	got := bodies(first, room)
	if len(got) != 1 || got[0] != "hello\x1b]52;c;aGk=\x07" {
		t.Fatalf("rewritten timeline: %q", got)
	}
	msgs, err := cli.Messages(ctx, room, "", "", mautrix.DirectionBackward, nil, 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, evt := range msgs.Chunk {
		if evt.Content.Raw["body"] == "drop me" {
			t.Fatal("/messages handed out a dropped event")
		}
	}
	stop()

	// A long poll waiting at the server returns with what is injected. Something real (a
	// receipt, a device list, a message late from the server) may wake the poll before the
	// injection: then the injection goes with the next one.
	fake := proxy.NewEvent(bob.ID, "m.room.message", map[string]any{"msgtype": "m.text", "body": "forged"})
	type res struct {
		resp *mautrix.RespSync
		err  error
	}
	since := first.NextBatch
	var delivered <-chan struct{}
	var resp *mautrix.RespSync
	var start time.Time
	for attempt := 0; resp == nil; attempt++ {
		if attempt == 5 {
			t.Fatal("five long polls returned without the injected event")
		}
		start = time.Now()
		done := make(chan res, 1)
		go func(since string) {
			r, err := cli.SyncRequest(context.Background(), 30000, since, "", false, event.PresenceOffline)
			done <- res{r, err}
		}(since)
		if delivered == nil {
			time.Sleep(300 * time.Millisecond)
			delivered = proxy.InjectTimeline(room, fake)
		}
		r := <-done
		if r.err != nil {
			t.Fatal(r.err)
		}
		// A real message may come late too: Dendrite can take a moment to hand an event
		// to another user's /sync, and "drop me" is no longer dropped once stop was called.
		if slices.Contains(bodies(r.resp, room), "forged") {
			resp = r.resp
		} else {
			since = r.resp.NextBatch
		}
	}
	select {
	case <-delivered:
	case <-time.After(10 * time.Second):
		t.Fatal("the injection is not reported delivered")
	}
	if got := bodies(resp, room); len(got) != 1 || got[0] != "forged" {
		t.Fatalf("injected timeline: %q", got)
	}
	if resp.NextBatch != since {
		t.Fatalf("a cut-short sync moved the position: %s -> %s", since, resp.NextBatch)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("the long poll was not cut short: %v", d)
	}
}
