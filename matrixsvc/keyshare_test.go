package matrixsvc

import (
	"context"
	"fmt"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hstest"
)

// A device on our own account that nobody verified (one the homeserver made up, to the
// client, looks exactly like this: a login with keys it uploaded) asks duet for the room key
// of a DM. duet must not forward it: key requests come in the clear, and answering them would
// give the server every message. It withholds the key, saying the device is unverified.
func TestRoomKeysAreNotForwardedToAnUnverifiedOwnDevice(t *testing.T) {
	ctx := hstest.Ctx(t)
	p := hstest.NewPerson(t, hs, "alice", "Alice")
	alice := newService(t, p, "")
	bob, room := encryptedDMWithBob(t, alice)
	runLoop(t, alice) // duet answers key requests from its sync loop

	senderKey, sessionID := sessionOf(t, bob.Client, room)

	rogue := newService(t, p, "") // a second login, which nobody verified
	catchUp(t, rogue)
	mach := rogue.crypt.Load().mach
	reqCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	got, err := mach.RequestRoomKey(reqCtx, alice.Me(), alice.DeviceID(), room, senderKey, sessionID)
	if err != nil {
		t.Fatal(err)
	}
	var withheld *event.RoomKeyWithheldEventContent
	hstest.Eventually(t, 30*time.Second, func() string {
		select {
		case ok := <-got:
			if ok {
				t.Fatal("duet forwarded the room key to an unverified device of its own account")
			}
		default:
		}
		catchUp(t, rogue) // the answer comes by its sync
		w, err := mach.CryptoStore.GetWithheldGroupSession(ctx, room, sessionID)
		if err != nil {
			return err.Error()
		}
		if w == nil {
			return "no answer to the key request yet"
		}
		withheld = w
		return ""
	})
	if withheld.Code != event.RoomKeyWithheldUnverified {
		t.Fatalf("withheld with %q (%s), want %q", withheld.Code, withheld.Reason, event.RoomKeyWithheldUnverified)
	}
	if s, _ := mach.CryptoStore.GetGroupSession(ctx, room, sessionID); s != nil {
		t.Fatal("the unverified device has the room key")
	}
}

// The other side of the rule: a device of ours that we verified (here through the recovery
// key) does get a room key it asks for.
func TestRoomKeysAreForwardedToAVerifiedOwnDevice(t *testing.T) {
	ctx := hstest.Ctx(t)
	p := hstest.NewPerson(t, hs, "alice", "Alice")
	first := newService(t, p, "")
	if _, err := first.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	recoveryKey, err := first.SetUpRecovery(ctx, p.Password, "")
	if err != nil {
		t.Fatal(err)
	}
	bob, room := encryptedDMWithBob(t, first)
	senderKey, sessionID := sessionOf(t, bob.Client, room)

	second := newService(t, p, "")
	if _, err := second.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := second.VerifyWithRecoveryKey(ctx, recoveryKey); err != nil {
		t.Fatal(err)
	}
	runLoop(t, first)
	hstest.Eventually(t, 20*time.Second, func() string {
		trust, err := first.PeerTrust(ctx, first.Me())
		if err != nil {
			return err.Error()
		}
		if trust.Devices == 0 || len(trust.Unverified) > 0 {
			return fmt.Sprintf("the first device does not see the second as verified yet: %+v", trust)
		}
		return ""
	})
	mach := second.crypt.Load().mach
	if s, _ := mach.CryptoStore.GetGroupSession(ctx, room, sessionID); s != nil {
		t.Fatal("the second device has the key before asking (from the backup?): the test shows nothing")
	}
	if _, err := mach.RequestRoomKey(ctx, first.Me(), first.DeviceID(), room, senderKey, sessionID); err != nil {
		t.Fatal(err)
	}
	hstest.Eventually(t, 30*time.Second, func() string {
		if _, err := second.CatchUp(ctx); err != nil {
			return err.Error()
		}
		if s, _ := mach.CryptoStore.GetGroupSession(ctx, room, sessionID); s == nil {
			return "the verified device has not received the key"
		}
		return ""
	})
}

// sessionOf returns the Megolm session of the newest encrypted message in room, as the server
// has it.
func sessionOf(t *testing.T, cli *mautrix.Client, room id.RoomID) (id.SenderKey, id.SessionID) {
	t.Helper()
	resp, err := cli.Messages(hstest.Ctx(t), room, "", "", mautrix.DirectionBackward, nil, 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, evt := range resp.Chunk {
		if evt.Type != event.EventEncrypted {
			continue
		}
		if err := evt.Content.ParseRaw(evt.Type); err != nil {
			t.Fatal(err)
		}
		c := evt.Content.AsEncrypted()
		return c.SenderKey, c.SessionID
	}
	t.Fatal("no encrypted message in the room")
	return "", ""
}
