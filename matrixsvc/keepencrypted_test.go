package matrixsvc

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hostile"
	"duet/internal/testkit/hstest"
)

// serverSays returns the events of room as the server stores them: types of messages, and
// whether an m.room.encryption state event is there. With want > 0 it waits for that many
// messages (Dendrite shows a write in /messages a moment later).
func serverSays(t *testing.T, cli *mautrix.Client, room id.RoomID, want int) (types []string, encryptionOn bool) {
	t.Helper()
	hstest.Eventually(t, 20*time.Second, func() string {
		resp, err := cli.Messages(hstest.Ctx(t), room, "", "", mautrix.DirectionBackward, nil, 100)
		if err != nil {
			return err.Error()
		}
		types, encryptionOn = nil, false
		for _, evt := range resp.Chunk {
			switch {
			case evt.Type == event.StateEncryption:
				encryptionOn = true
			case evt.StateKey == nil:
				types = append(types, evt.Type.Type)
			}
		}
		if len(types) < want {
			return fmt.Sprintf("%d messages at the server, waiting for %d", len(types), want)
		}
		return ""
	})
	return types, encryptionOn
}

// The server announces that the encrypted DM with bob was upgraded, to a room bob's account
// made without encryption (a tombstone is the server's word, or a peer's). duet follows the
// upgrade, as it follows real ones, but the conversation stays encrypted: it turns encryption
// on in the new room before the first message, which reaches the server encrypted.
func TestAForgedUpgradeDoesNotLeadToPlainText(t *testing.T) {
	ctx := hstest.Ctx(t)
	p := hstest.NewPerson(t, hs, "alice", "Alice")
	proxy := hostile.Start(t, hs.URL)
	alice := newService(t, p, proxy.URL)
	bob, room := encryptedDMWithBob(t, alice)

	plain := bob.Person.CreateRoom(t, true, alice.Me())
	if types, on := serverSays(t, bob.Person.Client, plain, 0); on || len(types) > 0 {
		t.Fatalf("the replacement should start plain and empty: %v %v", types, on)
	}
	proxy.InjectTimeline(room, proxy.NewState(bob.ID, "m.room.tombstone", "",
		map[string]any{"replacement_room": string(plain), "body": "This room has been replaced"}))
	hstest.Eventually(t, 30*time.Second, func() string {
		if _, err := alice.CatchUp(ctx); err != nil {
			return err.Error()
		}
		got, _, err := alice.FindDM(ctx, bob.ID)
		if err != nil {
			return err.Error()
		}
		if got != plain {
			return fmt.Sprintf("the conversation is in %s, not yet in the replacement %s", got, plain)
		}
		return ""
	})
	if _, err := alice.SendText(ctx, plain, "after the upgrade", false, ""); err != nil {
		t.Fatal(err)
	}
	types, on := serverSays(t, bob.Person.Client, plain, 1)
	if !on || slices.Contains(types, event.EventMessage.Type) || !slices.Contains(types, event.EventEncrypted.Type) {
		t.Fatalf("the replacement got %v (encryption turned on: %v); want only encrypted messages", types, on)
	}
	bob.WaitMessage(t, plain, "after the upgrade", time.Minute)
}

// bob's account offers a new DM without encryption (his client, or the server on his behalf);
// alice accepts, and the DM rules make it the room of the conversation, the most recent 1:1.
// It goes on encrypted.
func TestANewPlainDMOfAnEncryptedConversationIsEncrypted(t *testing.T) {
	ctx := hstest.Ctx(t)
	p := hstest.NewPerson(t, hs, "alice", "Alice")
	alice := newService(t, p, "")
	bob, _ := encryptedDMWithBob(t, alice)

	plain := bob.Person.CreateRoom(t, true, alice.Me())
	acceptInvite(t, alice, plain)
	room, _, err := alice.OpenDM(ctx, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	if room != plain {
		t.Fatalf("the conversation should go on in the newest 1:1 %s, it is in %s", plain, room)
	}
	if _, err := alice.SendText(ctx, plain, "in the new room", false, ""); err != nil {
		t.Fatal(err)
	}
	types, on := serverSays(t, bob.Person.Client, plain, 1)
	if !on || slices.Contains(types, event.EventMessage.Type) {
		t.Fatalf("the new room got %v (encryption turned on: %v)", types, on)
	}
	bob.WaitMessage(t, plain, "in the new room", time.Minute)
}

// R10's device lookup is the server's word: when it fails, the new DM is created encrypted.
func TestANewDMIsEncryptedWhenTheDeviceLookupFails(t *testing.T) {
	ctx := hstest.Ctx(t)
	p := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob").EnableCrypto(t)
	proxy := hostile.Start(t, hs.URL)
	alice := newService(t, p, proxy.URL)
	if _, err := alice.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	proxy.Handle(http.MethodPost, "/keys/query", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte(`{"errcode":"M_UNKNOWN","error":"keys unavailable"}`))
	})
	room, err := alice.CreateDM(ctx, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	var enc event.EncryptionEventContent
	if err := p.Client.StateEvent(ctx, room, event.StateEncryption, "", &enc); err != nil || enc.Algorithm != id.AlgorithmMegolmV1 {
		t.Fatalf("the new DM was created without encryption: %v %+v", err, enc)
	}
}

// A room that is no one's DM (a plain group room with carol, with whom alice has an encrypted
// DM) continues no conversation: duet sends there as the room is, and does not turn
// encryption on in a room that belongs to others too.
func TestAPlainGroupRoomIsNotEncryptedByDuet(t *testing.T) {
	ctx := hstest.Ctx(t)
	p := hstest.NewPerson(t, hs, "alice", "Alice")
	alice := newService(t, p, "")
	carol, _ := encryptedDMWithBob(t, alice) // "bob" there is carol here: an encrypted DM
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	group := bob.CreateRoom(t, false, alice.Me(), carol.ID)
	acceptInvite(t, alice, group)
	carol.Person.Join(t, group)
	if _, err := alice.SendText(ctx, group, "hello, both", false, ""); err != nil {
		t.Fatal(err)
	}
	types, on := serverSays(t, bob.Client, group, 1)
	if on || !slices.Contains(types, event.EventMessage.Type) {
		t.Fatalf("the group room got %v (encryption turned on: %v): duet encrypted a room of no conversation", types, on)
	}
}
