package matrixsvc

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/hstest"
	"duet/store"
)

// bodies returns the texts of a room's messages as svc shows them, undecryptable ones as
// "<undecryptable: reason>".
func bodies(t *testing.T, svc *Service, room id.RoomID) []string {
	t.Helper()
	msgs, err := svc.Messages(hstest.Ctx(t), room, 50)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		if m.Encrypted {
			out = append(out, "<undecryptable: "+m.DecryptError+">")
			continue
		}
		out = append(out, m.Body)
	}
	return out
}

// waitBody syncs svc until room shows body.
func waitBody(t *testing.T, svc *Service, room id.RoomID, body string) {
	t.Helper()
	hstest.Eventually(t, 20*time.Second, func() string {
		if _, err := svc.CatchUp(hstest.Ctx(t)); err != nil {
			return err.Error()
		}
		got := bodies(t, svc, room)
		if slices.Contains(got, body) {
			return ""
		}
		return "messages: " + strings.Join(got, " | ")
	})
}

// serverEventTypes lists the types of the non-state events the homeserver stored in a room.
func serverEventTypes(t *testing.T, cli *mautrix.Client, room id.RoomID) []string {
	t.Helper()
	resp, err := cli.Messages(hstest.Ctx(t), room, "", "", mautrix.DirectionBackward, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, evt := range resp.Chunk {
		if evt.StateKey == nil {
			types = append(types, evt.Type.Type)
		}
	}
	return types
}

func TestEncryptedDMBetweenDuets(t *testing.T) {
	ctx := hstest.Ctx(t)
	alice := newService(t, hstest.NewPerson(t, hs, "alice", "Alice"), "")
	bobP := hstest.NewPerson(t, hs, "bob", "Bob")
	bob := newService(t, bobP, "")
	for _, svc := range []*Service{alice, bob} {
		if _, err := svc.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
	}
	room, err := alice.CreateDM(ctx, bob.Me())
	if err != nil {
		t.Fatal(err)
	}
	if !alice.RoomEncrypted(ctx, room) {
		t.Fatal("a DM with someone who has a device must be encrypted (R10)")
	}
	if _, err := alice.SendText(ctx, room, "hello bob, secretly", false, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if err := bob.Accept(ctx, room); err != nil {
		t.Fatal(err)
	}
	waitBody(t, bob, room, "hello bob, secretly")
	if _, err := bob.SendText(ctx, room, "hi alice, also secretly", false, ""); err != nil {
		t.Fatal(err)
	}
	waitBody(t, alice, room, "hi alice, also secretly")

	types := serverEventTypes(t, bobP.Client, room)
	if slices.Contains(types, event.EventMessage.Type) || !slices.Contains(types, event.EventEncrypted.Type) {
		t.Fatalf("the homeserver must hold only encrypted messages, it has: %v", types)
	}
	// What the UI shows comes decrypted and marked as such.
	msgs, err := alice.Messages(ctx, room, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if !m.E2E || m.Encrypted {
			t.Fatalf("message %+v should be decrypted end-to-end", m)
		}
	}
}

func TestEncryptedRoomNeverGetsPlainText(t *testing.T) {
	ctx := hstest.Ctx(t)
	alice := newService(t, hstest.NewPerson(t, hs, "alice", "Alice"), "")
	bob := newService(t, hstest.NewPerson(t, hs, "bob", "Bob"), "")
	for _, svc := range []*Service{alice, bob} {
		if _, err := svc.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
	}
	room, err := alice.CreateDM(ctx, bob.Me())
	if err != nil {
		t.Fatal(err)
	}
	// The same account on a build without a crypto store must refuse, not send plain text.
	plainCfg := DefaultConfig()
	plain, err := New(&store.Session{Homeserver: alice.Homeserver(), UserID: alice.me, DeviceID: alice.cli.DeviceID,
		AccessToken: alice.cli.AccessToken}, alice.store, alice.log, plainCfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = plain.SendText(context.Background(), room, "must not leak", false, "")
	if err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Fatalf("sending without crypto to an encrypted room: err = %v", err)
	}
}
