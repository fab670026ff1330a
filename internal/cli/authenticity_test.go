package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"duet/internal/testkit/hstest"
)

// `duet messages` says which messages were decrypted with a key of unproven authenticity (here
// from a key file; the key backup and forwarded keys are the same case), in --json and in its
// plain output; the device that got the key from the sender says nothing of the kind.
func TestMessagesMarkKeysOfUnprovenAuthenticity(t *testing.T) {
	alice := newDuetUser(t, "alice", "Alice")
	alice.login(t)
	bob := hstest.NewPerson(t, hs, "bob", "Bob").EnableCrypto(t)
	alice.run(t, "", "messages", string(bob.ID)) // a first sync uploads this device's keys (no DM yet)
	room := bob.CreateEncryptedDM(t, alice.ID)
	bob.SendText(t, room, "straight from bob")
	alice.accept(t, string(room))
	alice.waitDuetMessage(t, string(bob.ID), "straight from bob")

	type marked struct {
		Body          string `json:"body"`
		Unauthentic   *bool  `json:"authenticity_not_guaranteed"`
		Undecryptable bool   `json:"undecryptable"`
	}
	var out struct {
		Messages []marked `json:"messages"`
	}
	alice.jsonOut(t, &out, "messages", string(bob.ID))
	for _, m := range out.Messages {
		if m.Unauthentic != nil && *m.Unauthentic {
			t.Fatalf("the device that got the key from bob marks %q", m.Body)
		}
	}
	if text := alice.ok(t, "", "messages", string(bob.ID)); strings.Contains(text, "authenticity") {
		t.Fatalf("plain output of the first device: %q", text)
	}

	keyFile := filepath.Join(t.TempDir(), "keys.txt")
	alice.ok(t, "correct horse\n", "keys", "export", keyFile, "--stdin")
	second := func(args ...string) []string { return append([]string{"--profile", "second"}, args...) }
	alice.ok(t, alice.Password+"\n", second("login", "--homeserver", hs.URL, "--user", string(alice.ID), "--password-stdin")...)
	alice.ok(t, "", second("messages", string(bob.ID))...) // the second device has the message, not its key
	alice.ok(t, "correct horse\n", second("keys", "import", keyFile, "--stdin")...)

	out.Messages = nil
	alice.jsonOut(t, &out, second("messages", string(bob.ID))...)
	found := false
	for _, m := range out.Messages {
		if m.Body == "straight from bob" && !m.Undecryptable {
			found = true
			if m.Unauthentic == nil || !*m.Unauthentic {
				t.Fatalf("a message decrypted with an imported key: %+v", m)
			}
		}
	}
	if !found {
		t.Fatalf("the second device did not decrypt the message: %+v", out.Messages)
	}
	text := alice.ok(t, "", second("messages", string(bob.ID))...)
	if !strings.Contains(text, "straight from bob  [authenticity not guaranteed]") {
		t.Fatalf("plain output of the second device: %q", text)
	}
}
