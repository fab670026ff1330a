package cli

import (
	"strings"
	"testing"
	"time"

	"duet/internal/testkit/hostile"
	"duet/internal/testkit/hstest"
)

// Issue 19: through a hostile server, a plain message in an encrypted DM is marked in
// `duet messages` (human and --json), and an m.room.encryption event without an algorithm
// does not make `duet send` send plain text.
func TestHostileServerCannotWeakenEncryptionForCommands(t *testing.T) {
	alice := newDuetUser(t, "alice", "Alice")
	proxy := hostile.Start(t, hs.URL)
	alice.ok(t, alice.Password+"\n", "login", "--homeserver", proxy.URL, "--user", string(alice.ID), "--password-stdin")
	alice.ok(t, "", "dms") // the device's keys go up with the first sync
	bob := hstest.NewPerson(t, hs, "bob", "Bob").EnableCrypto(t)
	room := bob.CreateEncryptedDM(t, alice.ID)
	bob.SendText(t, room, "encrypted hello")
	alice.accept(t, string(room))
	alice.waitDuetMessage(t, string(bob.ID), "encrypted hello")

	// The server makes up a plain message from bob.
	done := proxy.InjectTimeline(room, proxy.NewEvent(bob.ID, "m.room.message", map[string]any{"msgtype": "m.text", "body": "plain from the server"}))
	var out struct {
		Messages []struct {
			Body         string `json:"body"`
			E2E          bool   `json:"end_to_end_encrypted"`
			NotEncrypted bool   `json:"not_encrypted"`
		} `json:"messages"`
	}
	alice.jsonOut(t, &out, "messages", string(bob.ID))
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the injected message was not delivered")
	}
	alice.jsonOut(t, &out, "messages", string(bob.ID))
	found := false
	for _, m := range out.Messages {
		switch m.Body {
		case "plain from the server":
			found = true
			if !m.NotEncrypted || m.E2E {
				t.Errorf("the plain message in the encrypted DM is not marked: %+v", m)
			}
		case "encrypted hello":
			if m.NotEncrypted || !m.E2E {
				t.Errorf("the encrypted message is marked as plain: %+v", m)
			}
		}
	}
	if !found {
		t.Fatalf("the injected message is missing: %+v", out.Messages)
	}
	human := alice.ok(t, "", "messages", string(bob.ID))
	for _, l := range strings.Split(human, "\n") {
		if strings.Contains(l, "plain from the server") && !strings.Contains(l, "not encrypted") {
			t.Errorf("human output does not mark the plain message: %q", l)
		}
		if strings.Contains(l, "encrypted hello") && strings.Contains(l, "not encrypted") {
			t.Errorf("human output marks an encrypted message: %q", l)
		}
	}

	// The server says the room's encryption is gone; duet send still encrypts.
	done = proxy.InjectState(room, proxy.NewState(bob.ID, "m.room.encryption", "", map[string]any{}))
	alice.ok(t, "", "dms")
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the injected state was not delivered")
	}
	alice.send(t, string(bob.ID), "still secret")
	if m := bob.WaitMessage(t, room, "still secret", 20*time.Second); !m.Encrypted || !m.Decrypted {
		t.Fatalf("duet send sent plain text after the encryption event was emptied: %+v", m)
	}
	onlyCiphertext(t, bob.Person, room)

	// The conversation says who tried, where it happened, in both outputs.
	human = alice.ok(t, "", "messages", string(bob.ID))
	want := "⚠ Bob (" + string(bob.ID) + ") tried to turn encryption off; duet keeps encrypting"
	if i, j := strings.Index(human, want), strings.Index(human, "still secret"); i < 0 || j < i {
		t.Errorf("duet messages does not say who tried to turn encryption off before the next message:\n%s", human)
	}
	var withChange struct {
		Messages []struct {
			Sender  string `json:"sender"`
			Body    string `json:"body"`
			Changed *struct {
				Algorithm string `json:"algorithm"`
			} `json:"encryption_changed"`
		} `json:"messages"`
	}
	alice.jsonOut(t, &withChange, "messages", string(bob.ID))
	changes := 0
	for _, m := range withChange.Messages {
		if m.Changed != nil {
			changes++
			if m.Sender != string(bob.ID) || m.Body != "" || m.Changed.Algorithm != "" {
				t.Errorf("encryption change entry %+v", m)
			}
		}
	}
	if changes != 1 {
		t.Errorf("messages --json has %d encryption changes, want 1: %+v", changes, withChange.Messages)
	}
}
