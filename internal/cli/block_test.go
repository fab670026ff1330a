package cli

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hstest"
)

type requestOut struct {
	RoomID  id.RoomID `json:"room_id"`
	Inviter id.UserID `json:"inviter"`
	Direct  bool      `json:"direct"`
	Request bool      `json:"request"`
}

// invitesBy waits until `duet invites` lists exactly the rooms in want, and returns them.
func (u *duetUser) invitesBy(t *testing.T, want ...id.RoomID) map[id.RoomID]requestOut {
	t.Helper()
	var found map[id.RoomID]requestOut
	hstest.Eventually(t, 20*time.Second, func() string {
		var invites []requestOut
		u.jsonOut(t, &invites, "invites")
		found = map[id.RoomID]requestOut{}
		var got []id.RoomID
		for _, inv := range invites {
			found[inv.RoomID] = inv
			got = append(got, inv.RoomID)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			return fmt.Sprintf("invites %v, want %v", got, want)
		}
		return ""
	})
	return found
}

// syncPoint returns where p's /sync stands now.
func syncPoint(t *testing.T, p *hstest.Person) string {
	t.Helper()
	p.WaitSynced(t) // a write just made must come before the point, not after it
	resp, err := p.Client.SyncRequest(hstest.Ctx(t), 0, "", "", false, "")
	if err != nil {
		t.Fatal(err)
	}
	return resp.NextBatch
}

// ignoreListWritten reports whether m.ignored_user_list was written since the sync point.
func ignoreListWritten(t *testing.T, p *hstest.Person, since string) bool {
	t.Helper()
	resp, err := p.Client.SyncRequest(hstest.Ctx(t), 0, since, "", false, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, evt := range resp.AccountData.Events {
		if evt.Type == event.AccountDataIgnoredUserList {
			return true
		}
	}
	return false
}

func ignoreList(t *testing.T, p *hstest.Person) map[string]any {
	t.Helper()
	var content map[string]any
	if err := p.Client.GetAccountData(hstest.Ctx(t), event.AccountDataIgnoredUserList.Type, &content); err != nil {
		t.Fatal(err)
	}
	return content
}

// R24, R25: a stranger's direct invite is a request and an acquaintance's is not; blocking
// declines the stranger's invite, keeps the entries another client put on the ignore list and
// keeps their new invites away; blocking twice, unblocking someone not blocked, a malformed ID
// and blocking yourself write nothing.
func TestRequestsAndBlocking(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	stranger := hstest.NewPerson(t, hs, "stranger", "Alice's Bank")
	carol := hstest.NewPerson(t, hs, "carol", "Carol")
	// alice and carol are in a room together; alice has never met the stranger.
	shared := carol.CreateRoom(t, false, alice.ID)
	alice.Join(t, shared)
	// Another client put someone on alice's ignore list, with a key duet does not know.
	other := `{"ignored_users":{"@spammer:elsewhere.example":{}},"org.example.note":"kept"}`
	if err := alice.Client.SetAccountData(hstest.Ctx(t), event.AccountDataIgnoredUserList.Type, json.RawMessage(other)); err != nil {
		t.Fatal(err)
	}
	alice.login(t)

	fromStranger := stranger.CreateRoom(t, true, alice.ID)
	fromCarol := carol.CreateRoom(t, true, alice.ID)
	invites := alice.invitesBy(t, fromStranger, fromCarol)
	if !invites[fromStranger].Request || invites[fromCarol].Request {
		t.Fatalf("request flags: stranger %+v, carol %+v; want only the stranger's a request", invites[fromStranger], invites[fromCarol])
	}
	if out := alice.ok(t, "", "invites"); !strings.Contains(out, "request") {
		t.Fatalf("duet invites does not mark the request:\n%s", out)
	}

	// Refused before anything is written.
	mark := syncPoint(t, alice.Person)
	for _, bad := range []struct{ arg, want string }{
		{"@malformed", "is not a Matrix user ID"},
		{string(alice.ID), "is you"},
	} {
		r := alice.run(t, "", "block", bad.arg)
		if r.code == 0 || !strings.Contains(r.stderr, bad.want) {
			t.Errorf("block %s: exit %d, stderr %q; want a failure saying %q", bad.arg, r.code, r.stderr, bad.want)
		}
	}
	if ignoreListWritten(t, alice.Person, mark) {
		t.Fatal("a refused block wrote the ignore list")
	}

	if out := alice.ok(t, "", "block", string(stranger.ID)); !strings.Contains(out, "Blocked "+string(stranger.ID)) {
		t.Fatalf("block printed %q", out)
	}
	list := ignoreList(t, alice.Person)
	users, _ := list["ignored_users"].(map[string]any)
	if _, ok := users[string(stranger.ID)]; !ok || len(users) != 2 || list["org.example.note"] != "kept" {
		t.Fatalf("the ignore list after block: %v; want the stranger added and the rest kept", list)
	}
	// The stranger's invite is declined: gone for alice, and she is not in the room.
	alice.invitesBy(t, fromCarol)
	hstest.Eventually(t, 20*time.Second, func() string {
		members, err := stranger.Client.Members(hstest.Ctx(t), fromStranger)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range members.Chunk {
			if id.UserID(m.GetStateKey()) == alice.ID && m.Content.AsMember().Membership != event.MembershipLeave {
				return fmt.Sprintf("alice's membership in the stranger's room: %s, want leave", m.Content.AsMember().Membership)
			}
		}
		return ""
	})
	// A new invite from them never shows up: carol's invite made after it does, alone.
	stranger.CreateRoom(t, true, alice.ID)
	later := carol.CreateRoom(t, true, alice.ID)
	alice.invitesBy(t, fromCarol, later)

	// Blocking again: said, and nothing written.
	mark = syncPoint(t, alice.Person)
	if out := alice.ok(t, "", "block", string(stranger.ID)); !strings.Contains(out, "already blocked") {
		t.Fatalf("blocking twice printed %q", out)
	}
	if ignoreListWritten(t, alice.Person, mark) {
		t.Fatal("blocking someone already blocked wrote the ignore list")
	}

	var blocked []id.UserID
	alice.jsonOut(t, &blocked, "blocked")
	if want := []id.UserID{"@spammer:elsewhere.example", stranger.ID}; !slices.Equal(blocked, want) {
		t.Fatalf("blocked: %v, want %v", blocked, want)
	}

	if out := alice.ok(t, "", "unblock", string(stranger.ID)); !strings.Contains(out, "Unblocked") {
		t.Fatalf("unblock printed %q", out)
	}
	list = ignoreList(t, alice.Person)
	users, _ = list["ignored_users"].(map[string]any)
	if _, ok := users["@spammer:elsewhere.example"]; !ok || len(users) != 1 || list["org.example.note"] != "kept" {
		t.Fatalf("the ignore list after unblock: %v; want only the other client's entry and key", list)
	}
	mark = syncPoint(t, alice.Person)
	if out := alice.ok(t, "", "unblock", string(stranger.ID)); !strings.Contains(out, "was not blocked") {
		t.Fatalf("unblocking someone not blocked printed %q", out)
	}
	if ignoreListWritten(t, alice.Person, mark) {
		t.Fatal("unblocking someone not blocked wrote the ignore list")
	}
}
