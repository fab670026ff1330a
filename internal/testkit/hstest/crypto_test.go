package hstest_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/homeserver"
	"duet/internal/testkit/hstest"
)

var hs *homeserver.Server

func TestMain(m *testing.M) { hstest.Main(m, &hs) }

const receiveTimeout = 30 * time.Second

func TestEncryptedDMBothWays(t *testing.T) {
	bob := hstest.NewPerson(t, hs, "bob", "Bob").EnableCrypto(t)
	carol := hstest.NewPerson(t, hs, "carol", "Carol").EnableCrypto(t)

	dm := bob.CreateEncryptedDM(t, carol.ID)
	if got := bob.Direct(t)[string(carol.ID)]; !slices.Contains(got, string(dm)) {
		t.Fatalf("bob's m.direct for carol = %q, want it to list %s", got, dm)
	}
	carol.JoinWhenInvited(t, dm)

	fromBob := bob.SendText(t, dm, "hello carol, this is secret")
	got := carol.WaitMessage(t, dm, "hello carol, this is secret", receiveTimeout)
	if !got.Encrypted || !got.Decrypted || got.Sender != bob.ID || got.ID != fromBob {
		t.Errorf("carol received %+v, want event %s from %s decrypted", got, fromBob, bob.ID)
	}

	fromCarol := carol.SendText(t, dm, "hi bob, secret too")
	got = bob.WaitMessage(t, dm, "hi bob, secret too", receiveTimeout)
	if !got.Encrypted || !got.Decrypted || got.Sender != carol.ID || got.ID != fromCarol {
		t.Errorf("bob received %+v, want event %s from %s decrypted", got, fromCarol, carol.ID)
	}

	assertServerHasOnlyCiphertext(t, bob.Person, dm, []id.EventID{fromBob, fromCarol},
		"hello carol, this is secret", "hi bob, secret too")
}

func TestEncryptedDMSurvivesRestart(t *testing.T) {
	bob := hstest.NewPerson(t, hs, "bob", "Bob").EnableCrypto(t)
	carol := hstest.NewPerson(t, hs, "carol", "Carol").EnableCrypto(t)
	carol.AcceptInvitesAutomatically(t)
	dm := bob.CreateEncryptedDM(t, carol.ID)
	bob.SendText(t, dm, "before the restart")
	carol.WaitMessage(t, dm, "before the restart", receiveTimeout)

	identity := carol.Machine().OwnIdentity().IdentityKey
	carol.Close(t)
	away := bob.SendText(t, dm, "while you were away")
	again := carol.Person.EnableCryptoAt(t, carol.DBPath())
	if got := again.Machine().OwnIdentity().IdentityKey; got != identity {
		t.Fatalf("restarted device %s has identity key %s, want the stored %s", again.DeviceID(), got, identity)
	}
	got := again.WaitMessage(t, dm, "while you were away", receiveTimeout)
	if !got.Decrypted || got.ID != away {
		t.Errorf("after the restart carol received %+v, want event %s decrypted", got, away)
	}
	after := bob.SendText(t, dm, "after the restart")
	got = again.WaitMessage(t, dm, "after the restart", receiveTimeout)
	if !got.Decrypted || got.ID != after {
		t.Errorf("after the restart carol received %+v, want event %s decrypted", got, after)
	}
	// The sync resumed where the first device stopped: the old message is not delivered again.
	for _, m := range again.Messages(dm) {
		if m.Body == "before the restart" {
			t.Errorf("the restarted device received %q again", m.Body)
		}
	}

	fromCarol := again.SendText(t, dm, "back again")
	bob.WaitMessage(t, dm, "back again", receiveTimeout)
	assertServerHasOnlyCiphertext(t, bob.Person, dm, []id.EventID{away, after, fromCarol},
		"while you were away", "after the restart", "back again")
}

// A device that logs in after a message was sent never got its room key: the message is recorded
// as undecryptable, with the reason.
func TestNewDeviceRecordsOldMessageAsUndecryptable(t *testing.T) {
	bob := hstest.NewPerson(t, hs, "bob", "Bob").EnableCrypto(t)
	carol := hstest.NewPerson(t, hs, "carol", "Carol").EnableCrypto(t)
	dm := bob.CreateEncryptedDM(t, carol.ID)
	carol.JoinWhenInvited(t, dm)
	old := bob.SendText(t, dm, "before the phone")
	carol.WaitMessage(t, dm, "before the phone", receiveTimeout)

	phone := carol.Person.NewDevice(t).EnableCrypto(t)
	if phone.DeviceID() == carol.DeviceID() {
		t.Fatalf("the new device has the old device's ID %s", phone.DeviceID())
	}
	hstest.Eventually(t, receiveTimeout, func() string {
		for _, m := range phone.Messages(dm) {
			if m.ID != old {
				continue
			}
			if !m.Undecryptable() || m.Body != "" || !errors.Is(m.DecryptErr, crypto.ErrNoSessionFound) {
				return fmt.Sprintf("the phone recorded %+v, want it undecryptable for want of the session", m)
			}
			return ""
		}
		return fmt.Sprintf("the phone has not seen %s; it has %+v", old, phone.Messages(dm))
	})
}

// assertServerHasOnlyCiphertext reads the room through p's plain client: the sent events must be
// m.room.encrypted, no m.room.message may exist, and no body may appear in any event.
func assertServerHasOnlyCiphertext(t *testing.T, p *hstest.Person, room id.RoomID, sent []id.EventID, bodies ...string) {
	t.Helper()
	resp, err := p.Client.Messages(hstest.Ctx(t), room, "", "", mautrix.DirectionBackward, nil, 100)
	if err != nil {
		t.Fatalf("read %s through the plain API: %v", room, err)
	}
	types := map[id.EventID]event.Type{}
	for _, evt := range resp.Chunk {
		types[evt.ID] = evt.Type
		if evt.Type == event.EventMessage {
			t.Errorf("the server stored a plaintext m.room.message %s: %s", evt.ID, evt.Content.VeryRaw)
		}
		for _, body := range bodies {
			if strings.Contains(string(evt.Content.VeryRaw), body) {
				t.Errorf("event %s on the server contains %q: %s", evt.ID, body, evt.Content.VeryRaw)
			}
		}
	}
	for _, evtID := range sent {
		if types[evtID] != event.EventEncrypted {
			t.Errorf("the server has %s as %q, want %s", evtID, types[evtID].Type, event.EventEncrypted.Type)
		}
	}
}
