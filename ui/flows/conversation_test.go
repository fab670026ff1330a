package flows

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hstest"
)

// R9 and R22 in the UI: bob left the DM; writing to him makes a new room, and his contact is
// still one conversation: scrolling up goes on into the room he left, with a line between.
func TestOneTimelineAcrossRooms(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob Gone")
	first := acceptedDM(t, bob, alice, "1 from the first room", nil)
	bob.Leave(t, first)

	s := start(t, alice)
	// He left before duet ever saw his name: the list shows his user ID.
	s.waitFor("bob in the list", "live", string(bob.ID)[:10], "1 from the first room")
	s.key(tea.KeyEnter)
	s.waitFor("a new conversation", "new conversation")
	s.typeText("2 in a new room")
	s.key(tea.KeyEnter)
	s.waitFor("sent", "sent")
	var second id.RoomID
	hstest.Eventually(t, 20*time.Second, func() string {
		d := alice.Direct(t)[string(bob.ID)]
		if len(d) != 2 {
			return fmt.Sprintf("m.direct under bob: %v", d)
		}
		for _, r := range d {
			if id.RoomID(r) != first {
				second = id.RoomID(r)
			}
		}
		return ""
	})
	if chain, err := s.svc.Conversation(hstest.Ctx(t), bob.ID); err != nil || len(chain) != 2 {
		t.Fatalf("the conversation with bob: %+v, %v", chain, err)
	}
	for range 5 {
		s.key(tea.KeyPgUp)
	}
	s.waitFor("the first room's message, under a line", "1 from the first room", "continued in a new room ·")
	ov, err := s.svc.Overview(hstest.Ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range ov.Contacts {
		if c.UserID == bob.ID {
			n++
			if c.Room != second {
				t.Fatalf("bob's contact sends to %s, want the new room %s", c.Room, second)
			}
		}
	}
	if n != 1 {
		t.Fatalf("bob is listed %d times", n)
	}
}

// R23 in the UI, with the conversation open: bob upgrades the DM and invites alice to the
// replacement, as Element does. duet joins it, the timeline runs on across the upgrade with a
// line between, what alice writes next lands in the new room, and m.direct names only it.
func TestUpgradeFollowedWhileOpen(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob Upgrader")
	old := acceptedDM(t, bob, alice, "1 before the upgrade", map[string][]id.RoomID{"@carol:elsewhere.example": {"!untouched:elsewhere.example"}})

	s := start(t, alice)
	s.waitFor("bob in the list", "live", "Bob Upgrader", "1 before the upgrade")
	s.key(tea.KeyEnter)
	s.waitFor("the conversation", "1 before the upgrade")

	ctx := hstest.Ctx(t)
	repl := bob.Upgrade(t, old)
	if _, err := bob.Client.InviteUser(ctx, repl, &mautrix.ReqInviteUser{UserID: alice.ID}); err != nil {
		t.Fatal(err)
	}
	bob.Say(t, repl, "2 after the upgrade")
	s.waitFor("the new room's message under the upgrade line", "room upgraded ·", "2 after the upgrade")

	s.typeText("3 from alice in the new room")
	s.key(tea.KeyEnter)
	waitForBody(t, bob, repl, "3 from alice in the new room")
	if slices.Contains(bob.Bodies(t, old), "3 from alice in the new room") {
		t.Fatal("alice's message went to the old room too")
	}
	want := map[string][]string{string(bob.ID): {string(repl)}, "@carol:elsewhere.example": {"!untouched:elsewhere.example"}}
	hstest.Eventually(t, 20*time.Second, func() string {
		if got := alice.Direct(t); !maps.EqualFunc(got, want, slices.Equal) {
			return fmt.Sprintf("m.direct is %v, want %v", got, want)
		}
		return ""
	})
	ov, err := s.svc.Overview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range ov.Contacts {
		if c.UserID == bob.ID {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("bob is listed %d times", n)
	}
}

// R9 in the UI with the conversation open: bob leaves while alice looks at it. Her next
// message does not go to the room he left: it makes a new one, which he is invited to, and the
// timeline still shows the first room above.
func TestTheyLeaveWhileOpen(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob Leaver")
	first := acceptedDM(t, bob, alice, "1 before leaving", nil)

	s := start(t, alice)
	s.waitFor("bob in the list", "live", "Bob Leaver", "1 before leaving")
	s.key(tea.KeyEnter)
	s.waitFor("the conversation", "1 before leaving")
	bob.Leave(t, first)
	hstest.Eventually(t, 20*time.Second, func() string {
		if room, found, err := s.svc.FindDM(hstest.Ctx(t), bob.ID); err != nil || found {
			return fmt.Sprintf("the DM with bob is still %s (%v)", room, err)
		}
		return ""
	})
	s.typeText("2 after he left")
	s.key(tea.KeyEnter)
	var second id.RoomID
	hstest.Eventually(t, 20*time.Second, func() string {
		for _, r := range alice.Direct(t)[string(bob.ID)] {
			if id.RoomID(r) != first {
				second = id.RoomID(r)
			}
		}
		if second == "" {
			return "no new room under bob"
		}
		return ""
	})
	waitForBody(t, alice, second, "2 after he left")
	if slices.Contains(alice.Bodies(t, first), "2 after he left") {
		t.Fatal("the message went to the room bob left")
	}
	s.waitFor("both rooms in one timeline", "1 before leaving", "continued in a new room ·", "2 after he left")
}
