package flows

import (
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hstest"
)

// Issue 11 at the keyboard. ctrl+k, bob's user ID (no DM yet), enter, a message: the DM is made
// (encrypted: bob has a device) and bob reads it. ctrl+k, a few letters of carol's name, enter:
// her conversation is open. ctrl+f there searches her messages; tab widens it to every
// conversation, where the word from the encrypted DM is found too, and enter opens bob's
// conversation at it.
func TestSwitcherAndSearch(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob Cipher").EnableCrypto(t)
	bob.AcceptInvitesAutomatically(t)
	carol := hstest.NewPerson(t, hs, "carol", "Carol Plain")
	acceptedDM(t, carol, alice, "meet me at the old lighthouse", nil)

	s := start(t, alice)
	s.waitFor("carol in the list", "live", "Carol Plain", "meet me at")

	s.tm.Send(tea.KeyPressMsg{Code: 'k', Mod: tea.ModCtrl})
	s.typeText(string(bob.ID))
	s.waitFor("the new DM row", "start a DM with")
	s.forget()
	s.key(tea.KeyEnter)
	// Typed at once: the composer has the keys before the user ID is even checked.
	s.typeText("the secret ingredient is marmalade")
	s.key(tea.KeyEnter)
	s.waitFor("sent", "sent")
	var room id.RoomID
	hstest.Eventually(t, 30*time.Second, func() string {
		for _, r := range alice.Direct(t)[string(bob.ID)] {
			room = id.RoomID(r)
		}
		if room == "" {
			return "no DM with bob in m.direct"
		}
		return ""
	})
	if got := bob.WaitMessage(t, room, "the secret ingredient is marmalade", 30*time.Second); !got.Encrypted {
		t.Fatalf("bob got the message unencrypted: %+v", got)
	}

	s.tm.Send(tea.KeyPressMsg{Code: 'k', Mod: tea.ModCtrl})
	s.typeText("Caro")
	s.key(tea.KeyEnter)
	s.waitFor("carol's conversation", "Carol Plain ·")
	s.forget()
	s.tm.Send(tea.KeyPressMsg{Code: 'f', Mod: tea.ModCtrl})
	s.waitFor("the search, limited to carol", "Carol Plain")
	s.typeText("lightho")
	s.waitFor("carol's message found", "old")
	s.forget()
	for range len("lightho") {
		s.key(tea.KeyBackspace)
	}
	s.typeText("marmalade")
	s.waitFor("nothing in carol's messages", "no messages match")
	s.forget()
	// tab widens the search to every conversation, and enter right away opens the first
	// result once it comes.
	s.key(tea.KeyTab)
	s.key(tea.KeyEnter)
	s.waitFor("bob's conversation at the message", "Bob Cipher ·", "encrypted", "the secret ingredient is marmalade")
}

// Typing and read receipts end to end: bob types, and alice's screen says so; alice writes,
// bob reads it, and her message says seen. Both come in syncs that carry nothing else.
func TestTypingAndSeen(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob Typist")
	room := acceptedDM(t, bob, alice, "hi alice", nil)

	s := start(t, alice)
	s.waitFor("bob in the list", "live", "Bob Typist", "hi alice")
	s.key(tea.KeyEnter)
	s.waitFor("the conversation", "Bob Typist ·")
	if _, err := bob.Client.UserTyping(hstest.Ctx(t), room, true, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	s.waitFor("bob typing", "Bob Typist is typing…")
	s.typeText("did you get my letter?")
	s.key(tea.KeyEnter)
	waitForBody(t, bob, room, "did you get my letter?")
	resp, err := bob.Client.Messages(hstest.Ctx(t), room, "", "", mautrix.DirectionBackward, nil, 1)
	if err != nil || len(resp.Chunk) == 0 {
		t.Fatalf("bob's newest event: %v", err)
	}
	s.forget()
	if err := bob.Client.SetReadMarkers(hstest.Ctx(t), room, &mautrix.ReqSetReadMarkers{Read: resp.Chunk[0].ID}); err != nil {
		t.Fatal(err)
	}
	s.waitFor("seen", "did you get my letter? ✓ seen")
}
