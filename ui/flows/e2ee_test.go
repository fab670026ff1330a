package flows

import (
	"context"
	"regexp"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"duet/internal/testkit/hstest"
)

// A recovery key as duet shows it: twelve groups of four base58 characters.
var recoveryKeyRE = regexp.MustCompile(`(?:[1-9A-HJ-NP-Za-km-z]{4} ){11}[1-9A-HJ-NP-Za-km-z]{4}`)

// Alice sets up a recovery key on her first device, enters it on her second, then the two
// verify each other with emoji, all at the keyboard.
func TestRecoveryKeyAndEmojiVerification(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	first := start(t, alice)
	first.waitFor("live", "live")

	first.typeText("r")
	first.waitFor("the offer", "no recovery key yet")
	first.key(tea.KeyEnter)
	first.waitFor("the password field", "Password:")
	first.typeText(alice.Password)
	first.key(tea.KeyEnter)
	first.waitFor("the new recovery key", "Your recovery key", "Write this down")
	key := recoveryKeyRE.FindString(first.out.String())
	if key == "" {
		t.Fatal("no recovery key on the screen")
	}
	first.key(tea.KeyEnter)

	second := start(t, alice)
	second.waitFor("live", "live")
	second.typeText("r")
	second.waitFor("the key field", "Enter your recovery key")
	second.typeText(key)
	second.key(tea.KeyEnter)
	second.waitFor("verified", "✓ verified this device")

	// The first device knows of the second before asking it.
	hstest.Eventually(t, 20*time.Second, func() string {
		if pt, err := first.svc.PeerTrust(context.Background(), alice.ID); err != nil || pt.Devices == 0 {
			return "the first device does not know the second yet"
		}
		return ""
	})
	first.typeText("V")
	first.waitFor("asked", "Asked your other devices")
	second.waitFor("the request", "wants to verify this one")
	second.typeText("a")
	first.waitFor("the emoji", "Do these match the other screen")
	second.waitFor("the emoji", "Do these match the other screen")
	first.typeText("y")
	second.typeText("y")
	first.waitFor("done", "✓ verified: this device and your other one")
	second.waitFor("done", "✓ verified: this device and your other one")
}
func TestVerifyContactFromConversation(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob Builder")
	a, b := start(t, alice), start(t, bob)
	a.waitFor("live", "live")
	b.waitFor("live", "live")
	// Both have cross-signing, as anyone who set up a recovery key (or Element) has.
	for _, s := range []*screen{a, b} {
		p := alice
		if s == b {
			p = bob
		}
		if _, err := s.svc.SetUpRecovery(context.Background(), p.Password, ""); err != nil {
			t.Fatal(err)
		}
	}

	a.typeText("n")
	a.waitFor("the prompt", "User ID")
	a.typeText(string(bob.ID))
	a.key(tea.KeyEnter)
	a.waitFor("the conversation", "Bob Builder")
	a.typeText("hello bob")
	a.key(tea.KeyEnter)
	a.waitFor("sent, and the header", "sent", "encrypted", "not verified")
	b.waitFor("alice's request", append(requestRow(alice.ID), "request")...)
	b.typeText("a")
	b.waitFor("joined", "joined the conversation")

	a.key(tea.KeyEscape)
	a.typeText("v")
	a.waitFor("asked", "Asked Bob Builder (")
	b.waitFor("the request", "esc: decline")
	b.typeText("a")
	a.waitFor("the emoji", "Do these match the other screen")
	b.waitFor("the emoji", "Do these match the other screen")
	a.typeText("y")
	b.typeText("y")
	a.waitFor("done", "✓ verified Bob Builder", "· verified")
	b.waitFor("done", "✓ verified Alice")
}
