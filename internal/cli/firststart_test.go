package cli

import (
	"encoding/json"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hstest"
)

// Issue 24 from the shell: `duet dms` on a new device whose first sync the server holds back
// answers at once from m.direct, the joined rooms and their members, with names, and says that
// unread counts come with the sync; the next command that syncs completes it.
func TestDMsOnANewDeviceDoNotWaitForTheFirstSync(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob Builder")
	room := bob.CreateRoom(t, true, alice.ID)
	alice.Join(t, room)
	alice.SetDirectRaw(t, `{"`+string(bob.ID)+`":["`+string(room)+`"]}`)
	bob.Say(t, room, "hello")
	alice.login(t)
	proxy := hstest.NewSlowFirstSync(t, hs.URL, 20*time.Second)
	alice.setHomeserver(t, proxy.URL)

	var out struct {
		Contacts []struct {
			UserID      id.UserID `json:"user_id"`
			DisplayName string    `json:"display_name"`
			RoomID      id.RoomID `json:"room_id"`
		} `json:"contacts"`
		Synced bool `json:"synced"`
	}
	began := time.Now()
	r := alice.run(t, "", "dms", "--json")
	took := time.Since(began)
	t.Logf("dms on a new device: %s, the initial sync held", took.Round(time.Millisecond))
	if r.code != 0 || proxy.Released() || took > 10*time.Second {
		t.Fatalf("dms: exit %d after %s (the initial sync is held for 20 s): %s %s", r.code, took, r.stdout, r.stderr)
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Contacts) != 1 || out.Contacts[0].UserID != bob.ID || out.Contacts[0].DisplayName != "Bob Builder" ||
		out.Contacts[0].RoomID != room || out.Synced {
		t.Fatalf("dms before the first sync: %+v", out)
	}
	if r.stderr == "" {
		t.Fatal("nothing said about the first sync not being done")
	}
	// Once the server answers, the next command syncs, and dms says so.
	proxy.Release()
	alice.ok(t, "", "whoami")
	alice.jsonOut(t, &out, "dms")
	if !out.Synced || len(out.Contacts) != 1 {
		t.Fatalf("dms after the first sync: %+v", out)
	}
}
