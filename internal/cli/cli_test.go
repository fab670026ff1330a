package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/homeserver"
	"duet/internal/paths"
	"duet/internal/testkit/dendrite"
	"duet/internal/testkit/hstest"
	"duet/store"
)

var hs *homeserver.Server

func TestMain(m *testing.M) { hstest.Main(m, &hs) }

// duetUser is a real account that runs duet's commands in-process, with its own XDG dirs.
type duetUser struct {
	*hstest.Person
	dirs paths.Dirs
}

func newDuetUser(t *testing.T, prefix, name string) *duetUser {
	t.Helper()
	base := t.TempDir()
	u := &duetUser{
		Person: hstest.NewPerson(t, hs, prefix, name),
		dirs: paths.Dirs{Config: filepath.Join(base, "config"), Data: filepath.Join(base, "data"),
			State: filepath.Join(base, "state"), Cache: filepath.Join(base, "cache")},
	}
	return u
}

type result struct {
	stdout, stderr string
	code           int
}

func (u *duetUser) run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{Dirs: u.dirs, Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := Run(ctx, env, args)
	return result{out.String(), errb.String(), code}
}

// ok runs a command that must succeed and returns its standard output.
func (u *duetUser) ok(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	r := u.run(t, stdin, args...)
	if r.code != 0 {
		t.Fatalf("duet %s: exit %d, stderr %q", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// accept runs `duet accept ROOM` once the invite has reached u's sync: Dendrite puts it in the
// invitee's stream a moment after the inviter's request returns.
func (u *duetUser) accept(t *testing.T, room string) {
	t.Helper()
	hstest.Eventually(t, 20*time.Second, func() string {
		r := u.run(t, "", "accept", room)
		switch {
		case r.code == 0:
			return ""
		case strings.Contains(r.stderr, "no pending invite"):
			return "the invite has not arrived"
		}
		t.Fatalf("duet accept %s: exit %d, stderr %q", room, r.code, r.stderr)
		return ""
	})
}

func (u *duetUser) login(t *testing.T) {
	t.Helper()
	u.ok(t, u.Password+"\n", "login", "--homeserver", hs.URL, "--user", string(u.ID), "--password-stdin")
}

func (u *duetUser) jsonOut(t *testing.T, v any, args ...string) {
	t.Helper()
	out := u.ok(t, "", append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("duet %s --json printed %q: %v", strings.Join(args, " "), out, err)
	}
}

type sendOut struct {
	RoomID  id.RoomID  `json:"room_id"`
	EventID id.EventID `json:"event_id"`
	Created bool       `json:"created_room"`
}

type dmRoomOut struct {
	RoomID      id.RoomID `json:"room_id"`
	MemberCount int       `json:"member_count"`
	OneToOne    bool      `json:"one_to_one"`
	Chosen      bool      `json:"chosen"`
	OtherLeft   bool      `json:"other_left"`
	Link        string    `json:"link"`
}

func (u *duetUser) send(t *testing.T, target, text string) sendOut {
	t.Helper()
	var out sendOut
	u.jsonOut(t, &out, "send", target, text)
	if out.RoomID == "" || out.EventID == "" {
		t.Fatalf("send printed no room or event: %+v", out)
	}
	return out
}

func waitForBodies(t *testing.T, p *hstest.Person, room id.RoomID, want ...string) {
	t.Helper()
	hstest.Eventually(t, 15*time.Second, func() string {
		got := p.Bodies(t, room)
		for _, w := range want {
			if !slices.Contains(got, w) {
				return "messages in " + string(room) + " are " + strings.Join(got, "|") + ", missing " + w
			}
		}
		return ""
	})
}

// R5-R7, R10, R11, R13, R15, R21: two sends reach bob in one 1:1 room, recorded in m.direct
// without losing anyone's other entries; bob accepts through duet and his entries survive too.
func TestSendTwiceSameRoomKeepsOtherDirectEntries(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	bob := newDuetUser(t, "bob", "Bob")
	// Entries duet must keep: another contact, and one it cannot parse.
	alice.SetDirectRaw(t, `{"@carol:elsewhere.example":["!old:elsewhere.example"],"@dave:elsewhere.example":"not-a-list"}`)
	bob.SetDirectRaw(t, `{"@erin:elsewhere.example":["!erin:elsewhere.example"]}`)
	alice.login(t)
	bob.login(t)

	first := alice.send(t, string(bob.ID), "hello bob")
	if !first.Created {
		t.Fatalf("first send should create the DM: %+v", first)
	}
	second := alice.send(t, string(bob.ID), "second message")
	if second.RoomID != first.RoomID || second.Created {
		t.Fatalf("second send went to %s (created %v), want %s", second.RoomID, second.Created, first.RoomID)
	}

	direct := alice.Direct(t)
	if !slices.Equal(direct[string(bob.ID)], []string{string(first.RoomID)}) {
		t.Fatalf("alice's m.direct lists %v under bob, want [%s]", direct[string(bob.ID)], first.RoomID)
	}
	raw := string(alice.DirectRaw(t))
	if !strings.Contains(raw, `"@carol:elsewhere.example":["!old:elsewhere.example"]`) || !strings.Contains(raw, `"@dave:elsewhere.example":"not-a-list"`) {
		t.Fatalf("alice's other m.direct entries were not kept verbatim: %s", raw)
	}

	var rooms []dmRoomOut
	alice.jsonOut(t, &rooms, "dms", string(bob.ID))
	if len(rooms) != 1 || rooms[0].RoomID != first.RoomID || !rooms[0].Chosen || !rooms[0].OneToOne || rooms[0].Link != "https://matrix.to/#/"+string(first.RoomID) {
		t.Fatalf("dms @bob = %+v", rooms)
	}

	// Bob sees a direct invite from alice, accepts it with duet, and reads both messages.
	hstest.Eventually(t, 15*time.Second, func() string {
		var invites []struct {
			RoomID  id.RoomID `json:"room_id"`
			Inviter id.UserID `json:"inviter"`
			Direct  bool      `json:"direct"`
		}
		bob.jsonOut(t, &invites, "invites")
		for _, inv := range invites {
			if inv.RoomID == first.RoomID && inv.Direct && inv.Inviter == alice.ID {
				return ""
			}
		}
		return "bob has no direct invite from alice yet"
	})
	bob.ok(t, "", "accept", string(first.RoomID))
	waitForBodies(t, bob.Person, first.RoomID, "hello bob", "second message")
	bobDirect := bob.Direct(t)
	if !slices.Equal(bobDirect[string(alice.ID)], []string{string(first.RoomID)}) || !slices.Equal(bobDirect["@erin:elsewhere.example"], []string{"!erin:elsewhere.example"}) {
		t.Fatalf("bob's m.direct after accepting: %v", bobDirect)
	}

	// Bob answers with duet; it goes to the same room, and alice reads it with `messages`.
	reply := bob.send(t, string(alice.ID), "hi alice")
	if reply.RoomID != first.RoomID || reply.Created {
		t.Fatalf("bob's reply went to %s (created %v), want %s", reply.RoomID, reply.Created, first.RoomID)
	}
	var msgs struct {
		Messages []struct {
			Sender id.UserID `json:"sender"`
			Body   string    `json:"body"`
		} `json:"messages"`
	}
	hstest.Eventually(t, 15*time.Second, func() string {
		alice.jsonOut(t, &msgs, "messages", string(bob.ID), "--limit", "3")
		if len(msgs.Messages) != 3 || msgs.Messages[2].Body != "hi alice" || msgs.Messages[2].Sender != bob.ID || msgs.Messages[0].Body != "hello bob" {
			return "alice's messages with bob, oldest first: " + mustJSON(msgs)
		}
		return ""
	})
	text := alice.ok(t, "", "messages", string(bob.ID), "--limit", "1")
	if !strings.Contains(text, string(bob.ID)) || !strings.Contains(text, "hi alice") {
		t.Fatalf("messages text output %q", text)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// R5-R8: a three-member "direct" room and a room bob left are never chosen; of two good rooms
// the most recently active wins.
func TestChoosesTheRightRoom(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	bob := newDuetUser(t, "bob", "Bob")
	carol := hstest.NewPerson(t, hs, "carol", "Carol")

	group := alice.CreateRoom(t, true, bob.ID, carol.ID)
	bob.Join(t, group)
	carol.Join(t, group)
	left := alice.CreateRoom(t, true, bob.ID)
	bob.Join(t, left)
	bob.Leave(t, left)
	older := alice.CreateRoom(t, true, bob.ID)
	bob.Join(t, older)
	newer := alice.CreateRoom(t, true, bob.ID)
	bob.Join(t, newer)
	alice.SetDirectRaw(t, mustJSON(map[id.UserID][]id.RoomID{bob.ID: {group, left, older, newer}}))
	alice.Say(t, older, "older")
	time.Sleep(20 * time.Millisecond)
	alice.WaitSynced(t, alice.Say(t, newer, "newer"))
	alice.login(t)

	sent := alice.send(t, string(bob.ID), "which room?")
	if sent.RoomID != newer || sent.Created {
		t.Fatalf("send @bob went to %s (created %v), want the most recent good room %s", sent.RoomID, sent.Created, newer)
	}
	// Activity in the older room makes it the pick.
	bob.Say(t, older, "bump")
	hstest.Eventually(t, 15*time.Second, func() string {
		var rooms []dmRoomOut
		alice.jsonOut(t, &rooms, "dms", string(bob.ID))
		if len(rooms) != 4 || rooms[0].RoomID != older || !rooms[0].Chosen {
			return "dms @bob after bob wrote in the older room: " + mustJSON(rooms)
		}
		byID := map[id.RoomID]dmRoomOut{}
		for _, r := range rooms {
			byID[r.RoomID] = r
		}
		if g := byID[group]; g.OneToOne || g.MemberCount != 3 {
			return "group room should have 3 members and not be 1:1: " + mustJSON(g)
		}
		if l := byID[left]; l.OneToOne || !l.OtherLeft {
			return "room bob left should be marked left and not 1:1: " + mustJSON(l)
		}
		return ""
	})
	again := alice.send(t, string(bob.ID), "now here")
	if again.RoomID != older {
		t.Fatalf("send @bob went to %s, want %s", again.RoomID, older)
	}
	waitForBodies(t, bob.Person, older, "now here")
	if got := alice.Direct(t)[string(bob.ID)]; len(got) != 4 {
		t.Fatalf("choosing a room must not rewrite m.direct: %v", got)
	}

	// The contacts list: one entry for bob naming the chosen room; the three-person room in
	// the groups section.
	var list struct {
		Contacts []contactJSON `json:"contacts"`
		Groups   []groupJSON   `json:"groups"`
	}
	alice.jsonOut(t, &list, "dms")
	if len(list.Contacts) != 1 || list.Contacts[0].UserID != bob.ID || list.Contacts[0].RoomID != older || list.Contacts[0].DisplayName != "Bob" {
		t.Fatalf("contacts: %s", mustJSON(list.Contacts))
	}
	if len(list.Groups) != 1 || list.Groups[0].RoomID != group || list.Groups[0].MemberCount != 3 {
		t.Fatalf("groups: %s", mustJSON(list.Groups))
	}
}

// R4, R16: a direct invite is listed as direct; accepting records it under the inviter;
// declining leaves nothing behind.
func TestDirectInviteAcceptAndDecline(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	bob := newDuetUser(t, "bob", "Bob")
	alice.login(t)
	before := string(alice.DirectRaw(t))

	room := bob.CreateRoom(t, true, alice.ID)
	plain := bob.CreateRoom(t, false, alice.ID)
	type inviteOut struct {
		RoomID  id.RoomID `json:"room_id"`
		Inviter id.UserID `json:"inviter"`
		Direct  bool      `json:"direct"`
	}
	hstest.Eventually(t, 15*time.Second, func() string {
		var invites []inviteOut
		alice.jsonOut(t, &invites, "invites")
		found := map[id.RoomID]inviteOut{}
		for _, inv := range invites {
			found[inv.RoomID] = inv
		}
		if inv := found[room]; !inv.Direct || inv.Inviter != bob.ID {
			return "direct invite not listed as direct from bob: " + mustJSON(invites)
		}
		if inv, ok := found[plain]; !ok || inv.Direct {
			return "plain invite not listed as a room invite: " + mustJSON(invites)
		}
		return ""
	})
	text := alice.ok(t, "", "invites")
	// bob shares no room with alice: his direct invite is a request (R24).
	if !strings.Contains(text, "request") || !strings.Contains(text, string(bob.ID)) {
		t.Fatalf("invites text: %q", text)
	}
	if string(alice.DirectRaw(t)) != before {
		t.Fatalf("an unaccepted invite changed m.direct: %s", alice.DirectRaw(t))
	}

	alice.ok(t, "", "accept", string(room))
	if got := alice.Direct(t)[string(bob.ID)]; !slices.Equal(got, []string{string(room)}) {
		t.Fatalf("after accept, m.direct lists %v under bob, want [%s]", got, room)
	}
	if !slices.Contains(alice.JoinedRooms(t), room) {
		t.Fatalf("accept did not join %s", room)
	}

	directBefore := string(alice.DirectRaw(t))
	alice.ok(t, "", "decline", string(plain))
	if slices.Contains(alice.JoinedRooms(t), plain) {
		t.Fatalf("declined room %s is joined", plain)
	}
	if string(alice.DirectRaw(t)) != directBefore {
		t.Fatalf("decline changed m.direct: %s", alice.DirectRaw(t))
	}
	var invites []inviteOut
	alice.jsonOut(t, &invites, "invites")
	if len(invites) != 0 {
		t.Fatalf("invites after accept and decline: %s", mustJSON(invites))
	}
	var list struct {
		Contacts []contactJSON `json:"contacts"`
		Groups   []groupJSON   `json:"groups"`
	}
	alice.jsonOut(t, &list, "dms")
	if len(list.Contacts) != 1 || list.Contacts[0].UserID != bob.ID || list.Contacts[0].RoomID != room || len(list.Groups) != 0 {
		t.Fatalf("dms after accept and decline: %s", mustJSON(list))
	}
	r := alice.run(t, "", "accept", string(plain))
	if r.code != 1 || !strings.Contains(r.stderr, "no pending invite") {
		t.Fatalf("accepting a declined invite: exit %d, %q", r.code, r.stderr)
	}
}

// R12: bad targets fail with one clear line and create no room.
func TestSendToBadTargets(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	alice.login(t)
	cases := []struct {
		target, want string
	}{
		{"@nobody-" + dendrite.RandomLocalpart("x") + ":" + hs.ServerName, "does not exist"},
		{"@malformed", "is not a Matrix user ID"},
		{"bob", "neither a user"},
		{string(alice.ID), "is you"},
	}
	for _, c := range cases {
		r := alice.run(t, "", "send", c.target, "hello?")
		if r.code == 0 || !strings.Contains(r.stderr, c.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 1 {
			t.Errorf("send %s: exit %d, stderr %q; want failure saying %q", c.target, r.code, r.stderr, c.want)
		}
	}
	if rooms := alice.JoinedRooms(t); len(rooms) != 0 {
		t.Fatalf("bad sends created rooms: %v", rooms)
	}
	if raw := alice.DirectRaw(t); raw != nil {
		t.Fatalf("bad sends wrote m.direct: %s", raw)
	}
	r := alice.run(t, "", "send")
	if r.code != 2 {
		t.Fatalf("send without a target: exit %d, want 2", r.code)
	}
}

// R1: a malformed m.direct is shown as far as possible and never written back.
func TestMalformedDirectIsNeverWritten(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	bob := newDuetUser(t, "bob", "Bob")
	alice.SetDirectRaw(t, `["this","is","not","an","object"]`)
	alice.login(t)
	r := alice.run(t, "", "send", string(bob.ID), "still delivered")
	if r.code != 0 {
		t.Fatalf("send with a malformed m.direct: exit %d, %q", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "malformed") {
		t.Fatalf("send did not warn that m.direct was left alone: %q", r.stderr)
	}
	if got := string(alice.DirectRaw(t)); got != `["this","is","not","an","object"]` {
		t.Fatalf("malformed m.direct was overwritten: %s", got)
	}
	var out sendOut
	if err := json.Unmarshal([]byte(r.stdout), &out); err == nil && out.RoomID != "" {
		t.Fatalf("unexpected JSON without --json: %q", r.stdout)
	}
	room := id.RoomID(strings.Fields(r.stdout)[0])
	bob.Join(t, room)
	waitForBodies(t, bob.Person, room, "still delivered")
}

// R11: a message sent right after create-dm, before the room has come down /sync, arrives.
func TestSendRightAfterCreateDM(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	bob := newDuetUser(t, "bob", "Bob")
	alice.login(t)
	var created struct {
		RoomID id.RoomID `json:"room_id"`
	}
	alice.jsonOut(t, &created, "create-dm", string(bob.ID))
	if created.RoomID == "" {
		t.Fatal("create-dm printed no room")
	}
	byRoom := alice.send(t, string(created.RoomID), "first, by room ID")
	byUser := alice.send(t, string(bob.ID), "second, by user")
	// No TEXT, or "-", reads standard input.
	var piped, dashed sendOut
	if err := json.Unmarshal([]byte(alice.ok(t, "third\nfrom stdin\n", "send", string(bob.ID), "--json")), &piped); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(alice.ok(t, "fourth", "send", "--json", string(bob.ID), "-")), &dashed); err != nil {
		t.Fatal(err)
	}
	for _, r := range []id.RoomID{byRoom.RoomID, byUser.RoomID, piped.RoomID, dashed.RoomID} {
		if r != created.RoomID {
			t.Fatalf("a send went to %s, want %s", r, created.RoomID)
		}
	}
	bob.Join(t, created.RoomID)
	waitForBodies(t, bob.Person, created.RoomID, "first, by room ID", "second, by user", "third\nfrom stdin", "fourth")
	// create-dm always makes a new room.
	var again struct {
		RoomID id.RoomID `json:"room_id"`
	}
	alice.jsonOut(t, &again, "create-dm", string(bob.ID))
	if again.RoomID == created.RoomID {
		t.Fatal("create-dm reused a room")
	}
}

// Session handling: private files, device reuse, wrong password, a homeserver that is down,
// a revoked token, logout.
func TestLoginAndSession(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	r := alice.run(t, "wrong\n", "login", "--homeserver", hs.URL, "--user", string(alice.ID), "--password-stdin")
	if r.code != 1 || !strings.Contains(r.stderr, "wrong user ID or password") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("wrong password: exit %d, %q", r.code, r.stderr)
	}
	r = alice.run(t, alice.Password, "login", "--homeserver", "http://127.0.0.1:9", "--user", string(alice.ID), "--password-stdin")
	if r.code != 1 || !strings.Contains(r.stderr, "cannot reach the homeserver") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("homeserver down: exit %d, %q", r.code, r.stderr)
	}

	alice.login(t)
	prof, _ := alice.dirs.ForProfile("default")
	for path, want := range map[string]os.FileMode{prof.SessionFile(): 0o600, prof.Data: 0o700, prof.LogFile(): 0o600} {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s has mode %o, want %o", path, info.Mode().Perm(), want)
		}
	}
	var who struct {
		UserID   id.UserID   `json:"user_id"`
		DeviceID id.DeviceID `json:"device_id"`
	}
	alice.jsonOut(t, &who, "whoami")
	if who.UserID != alice.ID || who.DeviceID == "" {
		t.Fatalf("whoami: %+v", who)
	}
	// Logging in again reuses the device.
	alice.login(t)
	var who2 struct {
		DeviceID id.DeviceID `json:"device_id"`
	}
	alice.jsonOut(t, &who2, "whoami")
	if who2.DeviceID != who.DeviceID {
		t.Fatalf("second login made device %s, want the same %s", who2.DeviceID, who.DeviceID)
	}
	// A second profile is a separate account.
	bob := newDuetUser(t, "bob", "Bob")
	bob.dirs = alice.dirs
	bob.ok(t, bob.Password, "--profile", "work", "login", "--homeserver", hs.URL, "--user", string(bob.ID), "--password-stdin")
	var whoWork struct {
		UserID id.UserID `json:"user_id"`
	}
	bob.jsonOut(t, &whoWork, "--profile", "work", "whoami")
	alice.jsonOut(t, &who, "whoami")
	if whoWork.UserID != bob.ID || who.UserID != alice.ID {
		t.Fatalf("profiles mixed up: work=%s default=%s", whoWork.UserID, who.UserID)
	}

	// The token is revoked behind duet's back.
	data, err := os.ReadFile(prof.SessionFile())
	if err != nil {
		t.Fatal(err)
	}
	var sess struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(data, &sess)
	revoker := alice.Client
	revoker.AccessToken = sess.AccessToken
	if _, err := revoker.Logout(hstest.Ctx(t)); err != nil {
		t.Fatal(err)
	}
	r = alice.run(t, "", "dms")
	if r.code != 1 || strings.TrimSpace(r.stderr) != "duet: logged out: run `duet login`" {
		t.Fatalf("revoked token: exit %d, %q", r.code, r.stderr)
	}
	logData, _ := os.ReadFile(prof.LogFile())
	if strings.Contains(string(logData), sess.AccessToken) || strings.Contains(string(logData), alice.Password) {
		t.Fatal("the log contains the access token or the password")
	}

	var keys struct {
		PickleKey string `json:"pickle_key"`
	}
	_ = json.Unmarshal(data, &keys)
	if keys.PickleKey == "" || strings.Contains(string(logData), keys.PickleKey) {
		t.Fatal("no pickle key in the session, or it is in the log")
	}
	// Logging in again after the revocation keeps the device and its keys.
	alice.login(t)
	alice.jsonOut(t, &who2, "whoami")
	if who2.DeviceID != who.DeviceID {
		t.Fatalf("login after a revoked token made device %s, want %s", who2.DeviceID, who.DeviceID)
	}

	// logout ends the session on the server and here, the device's keys included.
	workProf, _ := bob.dirs.ForProfile("work")
	if info, err := os.Stat(workProf.CryptoDatabase()); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("crypto store before logout: %v %v", info, err)
	}
	bob.ok(t, "", "--profile", "work", "logout")
	for _, f := range []string{workProf.SessionFile(), workProf.CryptoDatabase(), workProf.Database()} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Fatalf("%s still there after logout: %v", f, err)
		}
	}
	r = bob.run(t, "", "--profile", "work", "whoami")
	if r.code != 1 || !strings.Contains(r.stderr, "not logged in") {
		t.Fatalf("whoami after logout: exit %d, %q", r.code, r.stderr)
	}
}

// R16: a direct invite joined from another client that did not record it is added to m.direct
// under the inviter when duet next syncs.
func TestDirectInviteJoinedElsewhereIsRecorded(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	bob := newDuetUser(t, "bob", "Bob")
	alice.login(t)
	room := bob.CreateRoom(t, true, alice.ID)
	hstest.Eventually(t, 15*time.Second, func() string {
		if out := alice.ok(t, "", "invites"); !strings.Contains(out, string(room)) {
			return "invite not seen yet: " + out
		}
		return ""
	})
	alice.Join(t, room) // another client, which writes no m.direct
	hstest.Eventually(t, 15*time.Second, func() string {
		alice.ok(t, "", "whoami")
		if got := alice.Direct(t)[string(bob.ID)]; !slices.Equal(got, []string{string(room)}) {
			return "m.direct under bob: " + mustJSON(got)
		}
		return ""
	})
}

// R6: service members named by io.element.functional_members (or m.member_hints) do not count,
// so a DM with a bot in it is still the 1:1 with bob.
func TestServiceMembersDoNotCount(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	bob := newDuetUser(t, "bob", "Bob")
	bot := hstest.NewPerson(t, hs, "bot", "Bridge bot")
	room := alice.CreateRoom(t, true, bob.ID, bot.ID)
	bob.Join(t, room)
	bot.Join(t, room)
	members, err := alice.Client.SendStateEvent(hstest.Ctx(t), room, event.Type{Type: "io.element.functional_members", Class: event.StateEventType}, "",
		map[string]any{"service_members": []id.UserID{bot.ID}})
	if err != nil {
		t.Fatal(err)
	}
	alice.SetDirectRaw(t, mustJSON(map[id.UserID][]id.RoomID{bob.ID: {room}}))
	alice.WaitSynced(t, members.EventID)
	alice.login(t)
	sent := alice.send(t, string(bob.ID), "the bot does not make this a group")
	if sent.RoomID != room || sent.Created {
		t.Fatalf("send @bob went to %s (created %v), want %s", sent.RoomID, sent.Created, room)
	}
}

// Bodies and display names full of escape sequences never reach the terminal raw.
func TestHostileTextIsPrintedHarmlessly(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	evil := newDuetUser(t, "evil", "\x1b]0;pwned\x07Mallory\x1b[2J")
	alice.login(t)
	evil.login(t)
	sent := evil.send(t, string(alice.ID), "hi \x1b]52;c;ZXZpbA==\x07\x1b[2J\u009b31m there")
	alice.Join(t, sent.RoomID)
	alice.SetDirectRaw(t, mustJSON(map[id.UserID][]id.RoomID{evil.ID: {sent.RoomID}}))
	var out string
	hstest.Eventually(t, 15*time.Second, func() string {
		out = alice.ok(t, "", "messages", string(evil.ID)) + alice.ok(t, "", "dms")
		if !strings.Contains(out, "there") || !strings.Contains(out, "Mallory") {
			return "message or name not shown yet: " + out
		}
		return ""
	})
	if strings.ContainsAny(out, "\x1b\x07\u009b") {
		t.Fatalf("raw control characters printed: %q", out)
	}
	if !strings.Contains(out, "␛]52;c;ZXZpbA==␇") || !strings.Contains(out, "␛]0;pwned␇Mallory") {
		t.Fatalf("escape sequences should show as inert text: %q", out)
	}
}

// setHomeserver points the saved session at another address (a homeserver that is down).
func (u *duetUser) setHomeserver(t *testing.T, url string) {
	t.Helper()
	prof, _ := u.dirs.ForProfile("default")
	data, err := os.ReadFile(prof.SessionFile())
	if err != nil {
		t.Fatal(err)
	}
	var sess map[string]any
	if err := json.Unmarshal(data, &sess); err != nil {
		t.Fatal(err)
	}
	sess["homeserver"] = url
	data, _ = json.Marshal(sess)
	if err := os.WriteFile(prof.SessionFile(), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Offline, send fails with one line; with --queue the message is kept and the next run sends
// it, once.
func TestSendOfflineAndQueued(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	bob := newDuetUser(t, "bob", "Bob")
	alice.login(t)
	alice.setHomeserver(t, "http://127.0.0.1:9")
	r := alice.run(t, "", "send", string(bob.ID), "lost?")
	if r.code != 1 || !strings.Contains(r.stderr, "cannot reach the homeserver") {
		t.Fatalf("offline send: exit %d, %q", r.code, r.stderr)
	}
	r = alice.run(t, "", "send", string(bob.ID), "kept for later", "--queue")
	if r.code != 0 || !strings.Contains(r.stdout, "queued") {
		t.Fatalf("offline send --queue: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	alice.setHomeserver(t, hs.URL)
	r = alice.run(t, "", "whoami")
	if r.code != 0 || !strings.Contains(r.stderr, "sent 1 queued message") {
		t.Fatalf("next run: exit %d, %q", r.code, r.stderr)
	}
	rooms := alice.Direct(t)[string(bob.ID)]
	if len(rooms) != 1 {
		t.Fatalf("m.direct under bob: %v", rooms)
	}
	bob.Join(t, id.RoomID(rooms[0]))
	waitForBodies(t, bob.Person, id.RoomID(rooms[0]), "kept for later")
	if got := bob.Bodies(t, id.RoomID(rooms[0])); len(got) != 1 {
		t.Fatalf("bob sees %q, want one message", got)
	}
	r = alice.run(t, "", "whoami")
	if strings.Contains(r.stderr, "queued") {
		t.Fatalf("the outbox was sent twice: %q", r.stderr)
	}
}

// A second duet on the same profile (a command while the UI or another command runs) is
// refused at once with a clear line; another profile is not affected.
func TestOneDuetPerProfile(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	alice.login(t)
	prof, _ := alice.dirs.ForProfile("default")
	unlock, err := lockProfile(prof) // stands for a duet that is running
	if err != nil {
		t.Fatal(err)
	}
	r := alice.run(t, "", "send", "@nobody:example.org", "hi")
	if r.code != 1 || !strings.Contains(r.stderr, "running on profile \"default\"") || !strings.Contains(r.stderr, fmt.Sprint(os.Getpid())) {
		t.Fatalf("second duet: exit %d, %q", r.code, r.stderr)
	}
	r = alice.run(t, alice.Password+"\n", "login", "--homeserver", hs.URL, "--user", string(alice.ID), "--password-stdin")
	if r.code != 1 || !strings.Contains(r.stderr, "running on profile") {
		t.Fatalf("login while running: exit %d, %q", r.code, r.stderr)
	}
	if r := alice.run(t, "", "--profile", "other", "whoami"); strings.Contains(r.stderr, "running on profile") {
		t.Fatalf("another profile is refused too: %q", r.stderr)
	}
	unlock()
	alice.ok(t, "", "whoami")
}

// Files with secrets that others can read are made private at start, with a warning.
func TestSecretsAreMadePrivate(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	alice.login(t)
	alice.ok(t, "", "dms") // the crypto store exists now
	prof, _ := alice.dirs.ForProfile("default")
	for _, f := range []string{prof.SessionFile(), prof.CryptoDatabase()} {
		if err := os.Chmod(f, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(prof.Data, 0o755); err != nil {
		t.Fatal(err)
	}
	r := alice.run(t, "", "whoami")
	if r.code != 0 || strings.Count(r.stderr, "others could read it") != 3 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	for path, want := range map[string]os.FileMode{prof.SessionFile(): 0o600, prof.CryptoDatabase(): 0o600, prof.Data: 0o700} {
		if info, err := os.Stat(path); err != nil || info.Mode().Perm() != want {
			t.Fatalf("%s: %v %v", path, info.Mode(), err)
		}
	}
	if r := alice.run(t, "", "whoami"); strings.Contains(r.stderr, "warning") {
		t.Fatalf("second run still warns: %q", r.stderr)
	}
}

// A damaged or newer database says what to do; --reset-cache rebuilds it from the server and
// keeps the queued messages, which are then sent.
func TestResetCacheKeepsTheOutbox(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	alice.login(t)
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	alice.ok(t, "", "send", string(bob.ID), "before the damage")
	prof, _ := alice.dirs.ForProfile("default")

	// A newer duet wrote the database (its schema version is ahead), and one message waits.
	ctx := hstest.Ctx(t)
	st, err := store.Open(ctx, prof.Database(), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddOutgoing(ctx, &store.Outgoing{TxnID: "duet-reset-test", Target: bob.ID, Body: "queued before the reset", Created: time.Now().UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().Exec(ctx, "UPDATE duet_version SET version = 99, compat = 99"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	r := alice.run(t, "", "dms")
	if r.code != 1 || !strings.Contains(r.stderr, "duet --reset-cache") {
		t.Fatalf("newer database: exit %d, %q", r.code, r.stderr)
	}

	alice.WaitSynced(t) // the sync from scratch after the reset has the m.direct that send wrote
	r = alice.run(t, "", "--reset-cache", "dms")
	if r.code != 0 || !strings.Contains(r.stderr, "1 queued message(s) kept") || !strings.Contains(r.stderr, "sent 1 queued message(s)") {
		t.Fatalf("reset: exit %d, stderr %q", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, string(bob.ID)) {
		t.Fatalf("the contacts came back from the server: %q", r.stdout)
	}
	matches, _ := filepath.Glob(prof.Database() + ".broken-*")
	if len(matches) == 0 {
		t.Fatal("the old database was not kept")
	}
	room := alice.send(t, string(bob.ID), "after the reset").RoomID
	bob.Join(t, room)
	waitForBodies(t, bob, room, "before the damage", "queued before the reset", "after the reset")

	// A damaged file: same message, same way out.
	if err := os.WriteFile(prof.Database(), []byte("this is not a database, it is a damaged file...."), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(prof.Database() + "-wal")
	_ = os.Remove(prof.Database() + "-shm")
	if r := alice.run(t, "", "dms"); r.code != 1 || !strings.Contains(r.stderr, "duet --reset-cache") {
		t.Fatalf("damaged database: exit %d, %q", r.code, r.stderr)
	}
	if r := alice.run(t, "", "--reset-cache", "dms"); r.code != 0 || !strings.Contains(r.stdout, string(bob.ID)) {
		t.Fatalf("reset of a damaged database: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
}
