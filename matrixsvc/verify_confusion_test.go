package matrixsvc

import (
	"testing"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hstest"
)

// CVE-2022-39250's setting (Albrecht et al. 2023): a device whose ID is the user's master
// cross-signing key. In its MAC the key ID "ed25519:<master key>" names both; a verification of
// that device must never end with the master key taken as verified through the device entry.
// mautrix looks the ID up as the device first: the master key's MAC then does not match the
// device key and the verification is cancelled. (This passes on the code before issue 19: it
// shows that mautrix v0.32 handles the case, and keeps it so.)
func TestDeviceNamedLikeAMasterKeyCannotGetItVerified(t *testing.T) {
	ctx := hstest.Ctx(t)
	alicP := hstest.NewPerson(t, hs, "alice", "Alice")
	alice := newService(t, alicP, "")
	catchUp(t, alice)
	if _, err := alice.SetUpRecovery(ctx, alicP.Password, ""); err != nil {
		t.Fatal(err)
	}
	bobP := hstest.NewPerson(t, hs, "bob", "Bob")
	bob1 := newService(t, bobP, "")
	catchUp(t, bob1)
	if _, err := bob1.SetUpRecovery(ctx, bobP.Password, ""); err != nil {
		t.Fatal(err)
	}
	keys, err := bob1.crypt.Load().mach.GetOwnCrossSigningPublicKeys(ctx)
	if err != nil || keys == nil {
		t.Fatalf("bob's cross-signing keys: %v %v", keys, err)
	}
	sess, err := Login(ctx, LoginParams{Homeserver: hs.URL, User: string(bobP.ID), Password: bobP.Password,
		DeviceID: id.DeviceID(keys.MasterKey.String())}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	bob := openService(t, sess, t.TempDir())
	if bob.DeviceID() != id.DeviceID(keys.MasterKey.String()) {
		t.Fatalf("the server gave device %s", bob.DeviceID())
	}
	catchUp(t, bob)
	sharedDM(t, alice, bob)

	wa := runLoop(t, alice)
	stage := func(want ...VerifyStage) func(Event) bool {
		return func(e Event) bool {
			v, ok := e.(Verification)
			if !ok {
				return false
			}
			for _, w := range want {
				if v.Stage == w {
					return true
				}
			}
			return false
		}
	}
	// verify runs an emoji verification of bob's device dev with alice, both confirming, and
	// returns how it ended for alice; then whether alice's keys now vouch for bob's master key.
	verify := func(dev *Service, wb func(string, func(Event) bool) Event) (Verification, bool) {
		txn, err := alice.StartVerification(ctx, bob.Me())
		if err != nil {
			t.Fatal(err)
		}
		req := wb("the request", func(e Event) bool {
			v, ok := e.(Verification)
			return ok && v.Stage == VerifyRequested && v.Txn == txn
		}).(Verification)
		if err := dev.AcceptVerification(ctx, req.Txn); err != nil {
			t.Fatal(err)
		}
		if v := wa("alice's emoji", stage(VerifyEmoji, VerifyCancelled)).(Verification); v.Stage == VerifyCancelled {
			t.Fatalf("cancelled for alice: %+v", v)
		}
		wb("bob's emoji", stage(VerifyEmoji))
		if err := alice.ConfirmVerification(ctx, txn); err != nil {
			t.Fatal(err)
		}
		if err := dev.ConfirmVerification(ctx, req.Txn); err != nil {
			// bob's side may check alice's MAC as it confirms, and refuse there (mautrix:
			// "master keys do not match"); what counts is how it ends for alice, below.
			t.Logf("bob's side refused as it confirmed: %v", err)
		}
		// Alice hears of the end after any signature of hers was uploaded.
		end := wa("the end for alice", stage(VerifyDone, VerifyCancelled)).(Verification)
		e := alice.crypt.Load()
		if _, err := e.mach.FetchKeys(ctx, []id.UserID{bob.Me()}, true); err != nil {
			t.Fatal(err)
		}
		trusted, err := e.mach.IsUserTrusted(ctx, bob.Me())
		if err != nil {
			t.Fatal(err)
		}
		return end, trusted
	}
	end, trusted := verify(bob, runLoop(t, bob))
	t.Logf("the verification of the device named like the master key ended: stage %d, %q", end.Stage, end.Reason)
	if trusted || end.Stage == VerifyDone {
		t.Fatalf("bob's master key is taken as verified through a device of the same name (stage %d, trusted %v)", end.Stage, trusted)
	}
}
