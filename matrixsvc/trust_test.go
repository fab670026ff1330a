package matrixsvc

import (
	"testing"
	"time"

	"duet/internal/testkit/hstest"
)

// bob has a cross-signing identity, and a second device he never signed: what it sends is
// marked, as a device the server may have added to his account would be. What his signed
// device sends is not.
func TestMessagesFromADeviceItsOwnerDidNotSignAreMarked(t *testing.T) {
	ctx := hstest.Ctx(t)
	alice := newService(t, hstest.NewPerson(t, hs, "alice", "Alice"), "")
	bp := hstest.NewPerson(t, hs, "bob", "Bob")
	bob := newService(t, bp, "")
	catchUp(t, alice, bob)
	if _, err := bob.SetUpRecovery(ctx, bp.Password, ""); err != nil {
		t.Fatal(err)
	}
	room := sharedDM(t, alice, bob)
	if _, err := bob.SendText(ctx, room, "from the signed device", false, ""); err != nil {
		t.Fatal(err)
	}
	other := newService(t, bp, "")
	catchUp(t, other, alice)
	if _, err := other.SendText(ctx, room, "from the unsigned device", false, ""); err != nil {
		t.Fatal(err)
	}
	waitBody(t, alice, room, "from the unsigned device")
	hstest.Eventually(t, 20*time.Second, func() string {
		catchUp(t, alice)
		signed, unsigned := messageWith(t, alice, room, "from the signed device"), messageWith(t, alice, room, "from the unsigned device")
		if signed.Trust != "" {
			t.Fatalf("the signed device's message is marked %q", signed.Trust)
		}
		if unsigned.Trust != "from a device its owner has not verified" {
			return "the unsigned device's message is marked " + `"` + unsigned.Trust + `"`
		}
		return ""
	})
}
