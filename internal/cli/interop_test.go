package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hstest"
	"duet/internal/testkit/interop"
)

// jsClient starts a matrix-js-sdk client (Element's SDK with its Rust crypto) for p.
func jsClient(t *testing.T, p *hstest.Person) *interop.Client {
	t.Helper()
	c, err := interop.Start(hstest.Ctx(t), hs.URL, string(p.ID), p.Password)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Close()
		if t.Failed() {
			t.Logf("the js client of %s said:\n%s", p.ID, c.Stderr())
		}
	})
	return c
}

func jsDo(t *testing.T, c *interop.Client, cmd map[string]any) map[string]any {
	t.Helper()
	reply, err := c.Do(hstest.Ctx(t), cmd)
	if err != nil {
		t.Fatal(err)
	}
	return reply
}

type messageOut struct {
	Sender        id.UserID `json:"sender"`
	Body          string    `json:"body"`
	Undecryptable bool      `json:"undecryptable"`
	Why           string    `json:"decrypt_error"`
	E2E           bool      `json:"end_to_end_encrypted"`
}

// waitDuetMessage runs `duet messages TARGET --json` until body is there, decrypted. The
// room key comes from the other device by to-device message, which under the whole suite's
// load can take well over the 20 s the rest of the waits allow.
func (u *duetUser) waitDuetMessage(t *testing.T, target, body string) messageOut {
	t.Helper()
	var found messageOut
	hstest.Eventually(t, time.Minute, func() string {
		var out struct {
			Messages []messageOut `json:"messages"`
		}
		u.jsonOut(t, &out, "messages", target)
		var seen []string
		for _, m := range out.Messages {
			if m.Body == body && !m.Undecryptable {
				found = m
				return ""
			}
			seen = append(seen, m.Body+"("+m.Why+")")
		}
		return "duet messages " + target + ": " + strings.Join(seen, " | ")
	})
	return found
}

// onlyCiphertext checks that the homeserver stored no plain-text message in room.
func onlyCiphertext(t *testing.T, p *hstest.Person, room id.RoomID) {
	t.Helper()
	resp, err := p.Client.Messages(hstest.Ctx(t), room, "", "", mautrix.DirectionBackward, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	encrypted := 0
	for _, evt := range resp.Chunk {
		switch evt.Type {
		case event.EventMessage:
			t.Fatalf("the homeserver holds a plain-text message in %s: %s", room, evt.Content.VeryRaw)
		case event.EventEncrypted:
			encrypted++
		}
	}
	if encrypted == 0 {
		t.Fatalf("no encrypted messages in %s", room)
	}
}

// An encrypted DM with a client on Element's SDK, both ways: one it created the way Element does,
// one duet created; duet reads and answers through `duet messages` and `duet send`.
func TestEncryptedDMsWithElementSDK(t *testing.T) {
	alice := newDuetUser(t, "alice", "Alice")
	alice.login(t)
	alice.ok(t, "", "dms") // the device's keys go up with the first sync

	bobP := hstest.NewPerson(t, hs, "bob", "Bob")
	bob := jsClient(t, bobP)
	room := jsDo(t, bob, map[string]any{"cmd": "create_dm", "user": string(alice.ID)})["room_id"].(string)
	jsDo(t, bob, map[string]any{"cmd": "send", "room": room, "body": "hello from Element's SDK"})
	alice.accept(t, room)
	if m := alice.waitDuetMessage(t, string(bobP.ID), "hello from Element's SDK"); !m.E2E || m.Sender != bobP.ID {
		t.Fatalf("duet read %+v", m)
	}
	if out := alice.send(t, string(bobP.ID), "hello back from duet"); string(out.RoomID) != room {
		t.Fatalf("duet answered in %s, not in bob's DM %s", out.RoomID, room)
	}
	got := jsDo(t, bob, map[string]any{"cmd": "wait_message", "room": room, "body": "hello back from duet", "timeout_ms": 60000}) // the key may come late under load, as in waitDuetMessage
	if got["was_encrypted"] != true || got["sender"] != string(alice.ID) {
		t.Fatalf("bob's client got %v", got)
	}
	onlyCiphertext(t, bobP, id.RoomID(room))

	// duet starts the DM: encrypted, since carol has a device (R10).
	carolP := hstest.NewPerson(t, hs, "carol", "Carol")
	carol := jsClient(t, carolP)
	out := alice.send(t, string(carolP.ID), "a new DM, from duet")
	if !out.Created {
		t.Fatalf("duet should have created a DM with carol: %+v", out)
	}
	jsDo(t, carol, map[string]any{"cmd": "join", "room": string(out.RoomID)})
	got = jsDo(t, carol, map[string]any{"cmd": "wait_message", "room": string(out.RoomID), "body": "a new DM, from duet", "timeout_ms": 60000}) // the key may come late under load, as in waitDuetMessage
	if got["was_encrypted"] != true {
		t.Fatalf("carol's client got %v", got)
	}
	jsDo(t, carol, map[string]any{"cmd": "send", "room": string(out.RoomID), "body": "carol answers"})
	alice.waitDuetMessage(t, string(carolP.ID), "carol answers")
	onlyCiphertext(t, carolP, out.RoomID)

	// The plain output shows decrypted text, and nothing says it could not be read.
	text := alice.ok(t, "", "messages", string(carolP.ID))
	if !strings.Contains(text, "carol answers") || strings.Contains(text, "unable to decrypt") {
		t.Fatalf("duet messages printed %q", text)
	}
}

// The recovery key and key files through the commands: a second and a third device of alice's
// read what was said before they existed.
func TestRecoveryKeyAndKeyFiles(t *testing.T) {
	alice := newDuetUser(t, "alice", "Alice")
	alice.login(t)
	r := alice.run(t, "not a key\n", "verify", "--recovery-key", "--stdin")
	if r.code != 1 || !strings.Contains(r.stderr, "duet verify --setup") {
		t.Fatalf("recovery key without recovery: exit %d, %q", r.code, r.stderr)
	}
	out := alice.ok(t, alice.Password+"\n", "verify", "--setup", "--stdin")
	var recoveryKey string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "    ") {
			recoveryKey = strings.TrimSpace(line)
		}
	}
	if len(strings.Fields(recoveryKey)) != 12 {
		t.Fatalf("no recovery key in %q", out)
	}
	if r := alice.run(t, alice.Password+"\n", "verify", "--setup", "--stdin"); r.code != 1 || !strings.Contains(r.stderr, "already has a recovery key") {
		t.Fatalf("second setup: exit %d, %q", r.code, r.stderr)
	}

	bobP := hstest.NewPerson(t, hs, "bob", "Bob")
	bob := jsClient(t, bobP)
	room := jsDo(t, bob, map[string]any{"cmd": "create_dm", "user": string(alice.ID)})["room_id"].(string)
	jsDo(t, bob, map[string]any{"cmd": "send", "room": room, "body": "said before the other devices"})
	alice.accept(t, room)
	alice.waitDuetMessage(t, string(bobP.ID), "said before the other devices")

	keyFile := filepath.Join(t.TempDir(), "keys.txt")
	if out := alice.ok(t, "correct horse\n", "keys", "export", keyFile, "--stdin"); !strings.Contains(out, "Exported") {
		t.Fatalf("export: %q", out)
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi.Mode(), err)
	}
	if r := alice.run(t, "correct horse\n", "keys", "export", keyFile, "--stdin"); r.code == 0 {
		t.Fatal("export overwrote an existing file")
	}
	for _, f := range []string{"session.json", "crypto.db", "duet.db"} {
		path := filepath.Join(alice.dirs.Data, "duet", "default", f)
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: mode %v, %v", f, fi.Mode(), err)
		}
	}

	// Second device: the key file.
	second := func(args ...string) []string { return append([]string{"--profile", "second"}, args...) }
	alice.ok(t, alice.Password+"\n", second("login", "--homeserver", hs.URL, "--user", string(alice.ID), "--password-stdin")...)
	if text := alice.ok(t, "", second("messages", string(bobP.ID))...); !strings.Contains(text, "unable to decrypt (waiting for the key)") && !strings.Contains(text, "unable to decrypt: waiting for the key") {
		t.Fatalf("a new device cannot read it yet, it printed %q", text)
	}
	if r := alice.run(t, "wrong horse\n", second("keys", "import", keyFile, "--stdin")...); r.code != 1 {
		t.Fatalf("wrong passphrase: exit %d %q", r.code, r.stderr)
	}
	if out := alice.ok(t, "correct horse\n", second("keys", "import", keyFile, "--stdin")...); !strings.Contains(out, "Imported") {
		t.Fatalf("import: %q", out)
	}
	if text := alice.ok(t, "", second("messages", string(bobP.ID))...); !strings.Contains(text, "said before the other devices") {
		t.Fatalf("after import: %q", text)
	}

	// Third device: the recovery key and key backup.
	third := func(args ...string) []string { return append([]string{"--profile", "third"}, args...) }
	alice.ok(t, alice.Password+"\n", third("login", "--homeserver", hs.URL, "--user", string(alice.ID), "--password-stdin")...)
	if r := alice.run(t, "EsTj 3yST y93F SLpB jJsz eAXc 2XzA ygD3 w69H fGaN TKBj jXEd\n", third("verify", "--recovery-key", "--stdin")...); r.code != 1 || !strings.Contains(r.stderr, "not right") {
		t.Fatalf("wrong recovery key: exit %d %q", r.code, r.stderr)
	}
	out = alice.ok(t, recoveryKey+"\n", third("verify", "--recovery-key", "--stdin")...)
	if !strings.Contains(out, "This device is verified") || !strings.Contains(out, "Restored") {
		t.Fatalf("verify: %q", out)
	}
	if text := alice.ok(t, "", third("messages", string(bobP.ID))...); !strings.Contains(text, "said before the other devices") {
		t.Fatalf("after recovery: %q", text)
	}

	// Nothing secret went to a log or to --json output: the password, the recovery key, the key
	// file's passphrase, any access token or pickle key.
	secrets := map[string]string{"password": alice.Password, "recovery key": recoveryKey,
		"recovery key (no spaces)": strings.ReplaceAll(recoveryKey, " ", ""), "passphrase": "correct horse"}
	var logs []byte
	for _, name := range []string{"default", "second", "third"} {
		prof, _ := alice.dirs.ForProfile(name)
		var sess struct {
			AccessToken string `json:"access_token"`
			PickleKey   string `json:"pickle_key"`
		}
		data, err := os.ReadFile(prof.SessionFile())
		if err != nil || json.Unmarshal(data, &sess) != nil || sess.AccessToken == "" || sess.PickleKey == "" {
			t.Fatalf("session of %s: %v", name, err)
		}
		secrets["access token of "+name] = sess.AccessToken
		secrets["pickle key of "+name] = sess.PickleKey
		log, err := os.ReadFile(prof.LogFile())
		if err != nil {
			t.Fatal(err)
		}
		logs = append(logs, log...)
		logs = append(logs, alice.ok(t, "", "--profile", name, "whoami", "--json")...)
		logs = append(logs, alice.ok(t, "", "--profile", name, "messages", string(bobP.ID), "--json")...)
	}
	if len(logs) < 1000 {
		t.Fatalf("only %d bytes of logs: nothing to check", len(logs))
	}
	for what, secret := range secrets {
		if strings.Contains(string(logs), secret) {
			t.Errorf("the %s is in a log or in --json output", what)
		}
	}
}

// encrypt_new_dms = false: a new DM with someone who has a device is created unencrypted.
func TestEncryptionCanBeTurnedOff(t *testing.T) {
	alice := newDuetUser(t, "alice", "Alice")
	alice.login(t)
	carol := hstest.NewPerson(t, hs, "carol", "Carol").EnableCrypto(t)
	cfgDir := filepath.Join(alice.dirs.Config, "duet")
	if err := os.MkdirAll(cfgDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfgDir, "config.toml"), []byte("encrypt_new_dms = false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := alice.send(t, string(carol.ID), "not secret")
	resp, err := carol.Client.Messages(hstest.Ctx(t), out.RoomID, "", "", mautrix.DirectionBackward, nil, 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, evt := range resp.Chunk {
		if evt.Type == event.StateEncryption || evt.Type == event.EventEncrypted {
			t.Fatalf("the DM is encrypted although the setting is off: %s", evt.Type.Type)
		}
	}

	// With the setting on (the default), the same person gets an encrypted DM.
	if err := os.WriteFile(filepath.Join(cfgDir, "config.toml"), []byte("encrypt_new_dms = true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dan := hstest.NewPerson(t, hs, "dan", "Dan").EnableCrypto(t)
	out = alice.send(t, string(dan.ID), "secret")
	dan.JoinWhenInvited(t, out.RoomID)
	if m := dan.WaitMessage(t, out.RoomID, "secret", 20*time.Second); !m.Decrypted {
		t.Fatalf("dan got %+v", m)
	}
}
