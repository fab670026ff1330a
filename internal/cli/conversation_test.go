package cli

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hstest"
)

type convMsgOut struct {
	RoomID id.RoomID `json:"room_id"`
	Body   string    `json:"body"`
}

// R22 and R23 through the commands: bob leaves the DM and alice's next message makes a new room;
// bob upgrades that one and invites her; a three-person direct room with bob stays apart. One
// conversation runs through all of it: messages @bob reads it oldest first, across the rooms,
// marking each move; dms @bob lists the chain, the current room first.
func TestOneConversationAcrossRooms(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	bob := newDuetUser(t, "bob", "Bob")
	carol := hstest.NewPerson(t, hs, "carol", "Carol")
	alice.login(t)

	first := alice.send(t, string(bob.ID), "1 in the first room").RoomID
	bob.Join(t, first)
	bob.Say(t, first, "2 bob, first room")
	waitForBodies(t, bob.Person, first, "1 in the first room", "2 bob, first room")
	bob.Leave(t, first)
	// Wait until alice's side knows bob left, or the next send would still pick the room.
	hstest.Eventually(t, 20*time.Second, func() string {
		var rooms []dmRoomOut
		alice.jsonOut(t, &rooms, "dms", string(bob.ID))
		for _, r := range rooms {
			if r.RoomID == first && r.OtherLeft {
				return ""
			}
		}
		return fmt.Sprintf("bob's leave not seen yet: %+v", rooms)
	})
	second := alice.send(t, string(bob.ID), "3 in a new room")
	if !second.Created || second.RoomID == first {
		t.Fatalf("after bob left, send made no new room: %+v", second)
	}
	bob.Join(t, second.RoomID)
	bob.Say(t, second.RoomID, "4 bob, second room")

	// A three-person direct room with bob: never part of bob's conversation.
	group := carol.CreateRoom(t, true, alice.ID, bob.ID)
	alice.accept(t, string(group))
	carol.Say(t, group, "x carol's group")

	// bob upgrades the second room and invites alice, as Element does.
	var upgraded struct {
		Replacement id.RoomID `json:"replacement_room"`
	}
	url := bob.Client.BuildClientURL("v3", "rooms", second.RoomID, "upgrade")
	if _, err := bob.Client.MakeRequest(hstest.Ctx(t), "POST", url, map[string]string{"new_version": "10"}, &upgraded); err != nil {
		t.Fatal(err)
	}
	third := upgraded.Replacement
	if _, err := bob.Client.InviteUser(hstest.Ctx(t), third, &mautrix.ReqInviteUser{UserID: alice.ID}); err != nil {
		t.Fatal(err)
	}
	hstest.Eventually(t, 20*time.Second, func() string {
		alice.ok(t, "", "dms") // any command catches up, and follows the upgrade
		if d := alice.Direct(t)[string(bob.ID)]; len(d) != 2 || !strings.Contains(strings.Join(d, " "), string(third)) || strings.Contains(strings.Join(d, " "), string(second.RoomID)) {
			return fmt.Sprintf("m.direct under bob: %v, want the first room and %s", d, third)
		}
		return ""
	})
	if out := alice.send(t, string(bob.ID), "5 after the upgrade"); out.RoomID != third || out.Created {
		t.Fatalf("send after the upgrade went to %+v, want %s", out, third)
	}

	var read struct {
		RoomID   id.RoomID    `json:"room_id"`
		Messages []convMsgOut `json:"messages"`
	}
	hstest.Eventually(t, 20*time.Second, func() string {
		alice.jsonOut(t, &read, "messages", string(bob.ID), "--limit", "50")
		var got []string
		for _, m := range read.Messages {
			got = append(got, m.Body)
		}
		want := "1 in the first room|2 bob, first room|3 in a new room|4 bob, second room|5 after the upgrade"
		if strings.Join(got, "|") != want {
			return fmt.Sprintf("messages @bob: %q, want %q", got, want)
		}
		return ""
	})
	if read.RoomID != third || read.Messages[0].RoomID != first || read.Messages[2].RoomID != second.RoomID || read.Messages[4].RoomID != third {
		t.Fatalf("rooms of the messages: %+v (current %s)", read, read.RoomID)
	}
	text := alice.ok(t, "", "messages", string(bob.ID), "--limit", "50")
	if !strings.Contains(text, "── continued in a new room") || !strings.Contains(text, "── room upgraded") || strings.Contains(text, "carol's group") {
		t.Fatalf("messages @bob as text:\n%s", text)
	}

	type chainOut struct {
		RoomID id.RoomID `json:"room_id"`
		Why    string    `json:"why"`
	}
	var chain []chainOut
	alice.jsonOut(t, &chain, "dms", string(bob.ID))
	whys := map[id.RoomID]string{}
	for _, c := range chain {
		whys[c.RoomID] = c.Why
	}
	// The group (listed under carol, who invited) is at most "not 1:1", never the conversation.
	if why, listed := whys[group]; listed && why != "not 1:1" {
		t.Fatalf("the group room is part of bob's conversation: %+v", chain)
	}
	if len(chain) == 0 || chain[0].RoomID != third || chain[0].Why != "" ||
		whys[second.RoomID] != "upgraded" || whys[first] != "left by them" {
		t.Fatalf("dms @bob: %+v", chain)
	}
	var list struct {
		Contacts []struct {
			UserID id.UserID `json:"user_id"`
		} `json:"contacts"`
	}
	alice.jsonOut(t, &list, "dms")
	contacts := list.Contacts
	n := 0
	for _, c := range contacts {
		if c.UserID == bob.ID {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("dms lists bob %d times: %+v", n, contacts)
	}
}
