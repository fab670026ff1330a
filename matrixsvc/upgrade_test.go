package matrixsvc

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hstest"
)

// acceptedDM is a DM that bob started and alice's service accepted, recorded in m.direct next to
// an entry of someone else's that must never change.
func acceptedDM(t *testing.T) (*Service, *hstest.Person, *hstest.Person, id.RoomID) {
	t.Helper()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	alice.SetDirectRaw(t, `{"@carol:elsewhere.example":["!untouched:elsewhere.example"]}`)
	svc := newService(t, alice, "")
	ctx := hstest.Ctx(t)
	room := bob.CreateRoom(t, true, alice.ID)
	hstest.Eventually(t, 15*time.Second, func() string {
		if _, err := svc.CatchUp(ctx); err != nil {
			return err.Error()
		}
		if c := contactOf(t, svc, bob.ID); c == nil || !c.Pending {
			return "no invite yet"
		}
		return ""
	})
	if err := svc.Accept(ctx, room); err != nil {
		t.Fatal(err)
	}
	bob.Say(t, room, "before the upgrade")
	return svc, alice, bob, room
}

// R23: bob upgrades the DM and invites alice to the replacement, as Element does. duet joins
// it and moves the m.direct entry, touching nothing else; the conversation goes on there.
func TestUpgradedDMIsFollowed(t *testing.T) {
	t.Parallel()
	svc, alice, bob, old := acceptedDM(t)
	ctx := hstest.Ctx(t)
	repl := bob.Upgrade(t, old)
	if _, err := bob.Client.InviteUser(ctx, repl, &mautrix.ReqInviteUser{UserID: alice.ID}); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`{"%s":["%s"],"@carol:elsewhere.example":["!untouched:elsewhere.example"]}`, bob.ID, repl)
	hstest.Eventually(t, 20*time.Second, func() string {
		if _, err := svc.CatchUp(ctx); err != nil {
			return err.Error()
		}
		var got, wantV any
		_ = json.Unmarshal(alice.DirectRaw(t), &got)
		_ = json.Unmarshal([]byte(want), &wantV)
		if fmt.Sprint(got) != fmt.Sprint(wantV) {
			return fmt.Sprintf("m.direct is %s, want %s", alice.DirectRaw(t), want)
		}
		return ""
	})
	if !slices.Contains(alice.JoinedRooms(t), repl) {
		t.Fatal("alice did not join the replacement")
	}
	room, found, err := svc.FindDM(ctx, bob.ID)
	if err != nil || !found || room != repl {
		t.Fatalf("the room for bob after the upgrade: %s (found %v, %v), want %s", room, found, err, repl)
	}
	if p := svc.UpgradeProblem(old); p != "" {
		t.Fatalf("a problem reported for a followed upgrade: %s", p)
	}
	// A message typed before the UI noticed (queued to the old room) goes to the new one.
	if err := svc.Enqueue(ctx, Outgoing{Kind: KindText, Room: old, Target: bob.ID, Body: "queued to the old room"}); err != nil {
		t.Fatal(err)
	}
	if sent, err := svc.FlushOutbox(ctx); sent != 1 || err != nil {
		t.Fatalf("flush: %d sent, %v", sent, err)
	}
	hstest.Eventually(t, 20*time.Second, func() string { // Dendrite's history lags its sends
		if !slices.Contains(bob.Bodies(t, repl), "queued to the old room") {
			return fmt.Sprintf("not in the replacement: %q", bob.Bodies(t, repl))
		}
		return ""
	})
	if slices.Contains(bob.Bodies(t, old), "queued to the old room") {
		t.Fatalf("the queued message went to the old room too: %q", bob.Bodies(t, old))
	}
	// But an answer in a thread of the old room stays there, with its thread.
	root := bob.Say(t, old, "a thread before the upgrade")
	if err := svc.Enqueue(ctx, Outgoing{Kind: KindText, Room: old, Target: bob.ID, Thread: root, Body: "in the old thread"}); err != nil {
		t.Fatal(err)
	}
	if sent, err := svc.FlushOutbox(ctx); sent != 1 || err != nil {
		t.Fatalf("flush: %d sent, %v", sent, err)
	}
	hstest.Eventually(t, 20*time.Second, func() string {
		if !slices.Contains(bob.Bodies(t, old), "in the old thread") {
			return fmt.Sprintf("not in the old room: %q", bob.Bodies(t, old))
		}
		return ""
	})
	if slices.Contains(bob.Bodies(t, repl), "in the old thread") {
		t.Fatal("the thread answer went to the replacement, away from its thread")
	}
}

// R9 at send time: a message queued to bob's room after he left it goes to a new DM instead.
func TestQueuedMessageFollowsALeave(t *testing.T) {
	t.Parallel()
	svc, alice, bob, room := acceptedDM(t)
	ctx := hstest.Ctx(t)
	bob.Leave(t, room)
	hstest.Eventually(t, 20*time.Second, func() string {
		if _, err := svc.CatchUp(ctx); err != nil {
			return err.Error()
		}
		if _, found, _ := svc.FindDM(ctx, bob.ID); found {
			return "bob's leave not seen yet"
		}
		return ""
	})
	if err := svc.Enqueue(ctx, Outgoing{Kind: KindText, Room: room, Target: bob.ID, Body: "after he left"}); err != nil {
		t.Fatal(err)
	}
	if sent, err := svc.FlushOutbox(ctx); sent != 1 || err != nil {
		t.Fatalf("flush: %d sent, %v", sent, err)
	}
	d := alice.Direct(t)[string(bob.ID)]
	if len(d) != 2 {
		t.Fatalf("m.direct under bob: %v, want the old room and a new one", d)
	}
	for _, r := range d {
		if id.RoomID(r) == room {
			continue
		}
		hstest.Eventually(t, 20*time.Second, func() string { // Dendrite's history lags its sends
			if !slices.Contains(alice.Bodies(t, id.RoomID(r)), "after he left") {
				return fmt.Sprintf("the new room %s lacks the message: %q", r, alice.Bodies(t, id.RoomID(r)))
			}
			return ""
		})
	}
	if slices.Contains(alice.Bodies(t, room), "after he left") {
		t.Fatal("the message went to the room bob left")
	}
}

// R23: a replacement alice cannot join (nobody invited her) leaves the old room in m.direct,
// chosen and writable, and one line says why.
func TestUnjoinableUpgradeKeepsTheOldRoom(t *testing.T) {
	t.Parallel()
	svc, alice, bob, old := acceptedDM(t)
	ctx := hstest.Ctx(t)
	bob.Upgrade(t, old)
	hstest.Eventually(t, 20*time.Second, func() string {
		if _, err := svc.CatchUp(ctx); err != nil {
			return err.Error()
		}
		if svc.UpgradeProblem(old) == "" {
			return "no problem reported yet"
		}
		return ""
	})
	t.Logf("said: %s", svc.UpgradeProblem(old))
	// The old room stays listed (Dendrite itself adds the replacement next to it, which R3
	// hides while alice is not in it).
	if d := alice.Direct(t)[string(bob.ID)]; !slices.Contains(d, string(old)) {
		t.Fatalf("m.direct under bob: %v, want the old room kept", d)
	}
	room, found, err := svc.FindDM(ctx, bob.ID)
	if err != nil || !found || room != old {
		t.Fatalf("the room for bob: %s (found %v, %v), want the old one", room, found, err)
	}
	if _, err := svc.SendText(ctx, old, "still here", false, ""); err != nil {
		t.Fatalf("sending in the old room: %v", err)
	}
}

// R22: reading the conversation reads each of its rooms. bob and alice each started a DM at
// once; bob writes in both; marking the conversation read leaves nothing unread on the server.
func TestReadingTheConversationReadsEveryRoom(t *testing.T) {
	t.Parallel()
	svc, alice, bob, fromBob := acceptedDM(t)
	ctx := hstest.Ctx(t)
	fromAlice, err := svc.CreateDM(ctx, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	bob.Join(t, fromAlice)
	bob.Say(t, fromBob, "in bob's room")
	bob.Say(t, fromAlice, "in alice's room")
	hstest.Eventually(t, 20*time.Second, func() string {
		if _, err := svc.CatchUp(ctx); err != nil {
			return err.Error()
		}
		chain, err := svc.Conversation(ctx, bob.ID)
		if err != nil || len(chain) != 2 {
			return fmt.Sprintf("conversation: %+v, %v", chain, err)
		}
		for room, body := range map[id.RoomID]string{fromBob: "in bob's room", fromAlice: "in alice's room"} {
			msgs, _, err := svc.History(ctx, room, "", 1)
			if err != nil || len(msgs) == 0 || msgs[0].Body != body {
				return fmt.Sprintf("%s has not synced yet (%v)", body, err)
			}
		}
		return ""
	})
	chain, _ := svc.Conversation(ctx, bob.ID)
	msgs, _, err := svc.History(ctx, chain[0].RoomID, "", 1)
	if err != nil || len(msgs) == 0 {
		t.Fatal(err)
	}
	if err := svc.MarkRead(ctx, chain[0].RoomID, msgs[0].EventID); err != nil {
		t.Fatal(err)
	}
	if err := svc.MarkConversationRead(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	hstest.Eventually(t, 20*time.Second, func() string {
		resp, err := alice.Client.SyncRequest(ctx, 0, "", "", false, "")
		if err != nil {
			return err.Error()
		}
		for _, room := range []id.RoomID{fromBob, fromAlice} {
			if r := resp.Rooms.Join[room]; r == nil || r.UnreadNotifications == nil || r.UnreadNotifications.NotificationCount != 0 {
				return fmt.Sprintf("%s still unread on the server", room)
			}
		}
		return ""
	})
}
