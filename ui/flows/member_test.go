package flows

import (
	"slices"
	"testing"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix"

	"duet/internal/testkit/hstest"
)

// Issue 19 in the UI: with bob's conversation open, bob invites carol into their 1:1. The
// conversation says so at that point, and what alice writes next goes to a room of their own.
func TestThirdMemberShownInTheOpenConversation(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob Inviter")
	carol := hstest.NewPerson(t, hs, "carol", "Carol")
	first := acceptedDM(t, bob, alice, "1 just the two of us", nil)

	s := start(t, alice)
	s.waitFor("bob in the list", "live", "Bob Inviter", "1 just the two of us")
	s.key(tea.KeyEnter)
	s.waitFor("the conversation open", "1 just the two of us")
	s.forget()
	if _, err := bob.Client.InviteUser(hstest.Ctx(t), first, &mautrix.ReqInviteUser{UserID: carol.ID}); err != nil {
		t.Fatal(err)
	}
	s.waitFor("the invite said in the conversation", "⚠", "invited", "one-to-one")
	s.typeText("2 for bob alone")
	s.key(tea.KeyEnter)
	s.waitFor("sent", "sent")
	if got := bob.Bodies(t, first); slices.Contains(got, "2 for bob alone") {
		t.Fatalf("the message went to the room carol is invited to: %v", got)
	}
}
