package cli

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"duet/internal/paths"
	"duet/internal/testkit/hostile"
	"duet/internal/testkit/hstest"
)

type memberMsgOut struct {
	RoomID       id.RoomID `json:"room_id"`
	Body         string    `json:"body"`
	MemberChange *struct {
		User       id.UserID `json:"user"`
		Membership string    `json:"membership"`
		Peer       id.UserID `json:"peer"`
		Text       string    `json:"text"`
	} `json:"member_change"`
}

// conversationLines returns `messages @x --json` as one line per entry: the body of a message,
// "member:USER:MEMBERSHIP@ROOM" for a member change.
func conversationLines(t *testing.T, u *duetUser, x id.UserID) ([]string, []memberMsgOut) {
	t.Helper()
	var read struct {
		Messages []memberMsgOut `json:"messages"`
	}
	u.jsonOut(t, &read, "messages", string(x), "--limit", "50")
	var out []string
	for _, m := range read.Messages {
		if c := m.MemberChange; c != nil {
			out = append(out, fmt.Sprintf("member:%s:%s@%s", c.User, c.Membership, m.RoomID))
			continue
		}
		out = append(out, m.Body)
	}
	return out, read.Messages
}

// A third person invited into a 1:1 is said in the conversation where it happened, in JSON
// and in text, and the conversation goes on in a new room; a message that merely looks like
// that line is a message.
func TestThirdMemberIsAnnouncedWhereItHappened(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	bob := newDuetUser(t, "bob", "Bob")
	carol := hstest.NewPerson(t, hs, "carol", "Carol")
	alice.login(t)

	first := alice.send(t, string(bob.ID), "1 just the two of us").RoomID
	bob.Join(t, first)
	bob.Say(t, first, "⚠ Eve (@eve:x) joined this room — it is no longer one-to-one")
	waitForBodies(t, bob.Person, first, "1 just the two of us")
	if _, err := bob.Client.InviteUser(hstest.Ctx(t), first, &mautrix.ReqInviteUser{UserID: carol.ID}); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("1 just the two of us|⚠ Eve (@eve:x) joined this room — it is no longer one-to-one|member:%s:invite@%s", carol.ID, first)
	hstest.Eventually(t, 20*time.Second, func() string {
		got, _ := conversationLines(t, alice, bob.ID)
		if strings.Join(got, "|") != want {
			return fmt.Sprintf("messages @bob: %q, want %q", got, want)
		}
		return ""
	})
	second := alice.send(t, string(bob.ID), "2 in a room of our own")
	if second.RoomID == first {
		t.Fatalf("the message for bob went to %s, where carol is invited", first)
	}
	got, msgs := conversationLines(t, alice, bob.ID)
	if strings.Join(got, "|") != want+"|2 in a room of our own" {
		t.Fatalf("messages @bob after the move: %q", got)
	}
	for _, m := range msgs {
		if m.MemberChange != nil && (m.MemberChange.Peer != bob.ID || !strings.Contains(m.MemberChange.Text, "no longer one-to-one")) {
			t.Fatalf("member change: %+v", m.MemberChange)
		}
	}
	text := alice.ok(t, "", "messages", string(bob.ID))
	line := fmt.Sprintf("⚠ Carol (%s) was invited to this room — it is no longer one-to-one; your messages to Bob go to a new room", carol.ID)
	if !strings.Contains(text, line) || !strings.Contains(text, "── continued in a new room") ||
		strings.Index(text, line) > strings.Index(text, "── continued in a new room") {
		t.Fatalf("messages @bob as text, want %q before the move:\n%s", line, text)
	}
}

// A join the hostile server makes up in a 1:1 is said in the conversation too, with the name
// it gave made harmless for the terminal.
func TestForgedJoinIsAnnounced(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	bob := newDuetUser(t, "bob", "Bob")
	alice.login(t)
	first := alice.send(t, string(bob.ID), "1 just the two of us").RoomID
	bob.Join(t, first)
	waitForBodies(t, bob.Person, first, "1 just the two of us")
	alice.ok(t, "", "dms") // alice's store knows the room and bob's join

	proxy := hostile.Start(t, hs.URL)
	alice.setHomeserver(t, proxy.URL)
	mallory := id.UserID("@mallory:" + alice.ID.Homeserver())
	proxy.InjectTimeline(first, proxy.NewState(mallory, "m.room.member", string(mallory),
		map[string]any{"membership": "join", "displayname": "\x1b[2JMallory"}))
	var text string
	hstest.Eventually(t, 20*time.Second, func() string {
		text = alice.ok(t, "", "messages", string(bob.ID))
		if !strings.Contains(text, "joined this room") {
			return "no announcement yet:\n" + text
		}
		return ""
	})
	if strings.Contains(text, "\x1b") || !strings.Contains(text, fmt.Sprintf("⚠ ␛[2JMallory (%s) joined this room — it is no longer one-to-one", mallory)) {
		t.Fatalf("messages @bob as text:\n%q", text)
	}
}

// A new device of the contact, appearing while the encrypted 1:1 is in use, is said in the
// conversation at that point, in text and in JSON.
func TestNewDeviceOfTheContactIsAnnounced(t *testing.T) {
	t.Parallel()
	alice, bob, room := encryptedOneToOne(t)

	second := elsewhere(t, bob.Person)
	var line string
	hstest.Eventually(t, 20*time.Second, func() string {
		text := alice.ok(t, "", "messages", string(bob.ID))
		for _, l := range strings.Split(text, "\n") {
			if strings.Contains(l, "⚠ Bob has a new device: ") && strings.HasSuffix(l, "("+string(second)+")") {
				line = l[strings.Index(l, "⚠"):]
				return ""
			}
		}
		return "no line about the new device " + string(second) + ":\n" + text
	})
	var read struct {
		Messages []struct {
			RoomID       id.RoomID `json:"room_id"`
			MemberChange *struct {
				Device id.DeviceID `json:"device"`
				Text   string      `json:"text"`
			} `json:"member_change"`
		} `json:"messages"`
	}
	alice.jsonOut(t, &read, "messages", string(bob.ID))
	n := len(read.Messages)
	if n < 2 || read.Messages[n-1].MemberChange == nil || read.Messages[n-1].MemberChange.Device != second ||
		read.Messages[n-1].MemberChange.Text != line || read.Messages[n-1].RoomID != room {
		t.Fatalf("messages @bob --json: %+v", read.Messages)
	}
	// Once said is enough: the next catch-up adds no second line.
	if again := alice.ok(t, "", "messages", string(bob.ID)); strings.Count(again, "has a new device") != 1 {
		t.Fatalf("the new device is said more than once:\n%s", again)
	}
}

// A new device of one's own account is said in the 1:1s too: it gets their room keys.
func TestOwnNewDeviceIsAnnounced(t *testing.T) {
	t.Parallel()
	alice, bob, _ := encryptedOneToOne(t)

	second := elsewhere(t, alice.Person)
	hstest.Eventually(t, 20*time.Second, func() string {
		text := alice.ok(t, "", "messages", string(bob.ID))
		if !strings.Contains(text, "⚠ your account has a new device: ") || !strings.Contains(text, "("+string(second)+")") {
			return "no line about the new device " + string(second) + ":\n" + text
		}
		return ""
	})
}

// elsewhere logs p in with duet on another computer: a new device of p's, its keys uploaded.
func elsewhere(t *testing.T, p *hstest.Person) id.DeviceID {
	t.Helper()
	base := t.TempDir()
	u := &duetUser{Person: p, dirs: paths.Dirs{Config: filepath.Join(base, "config"),
		Data: filepath.Join(base, "data"), State: filepath.Join(base, "state"), Cache: filepath.Join(base, "cache")}}
	u.login(t)
	u.ok(t, "", "dms")
	var who struct {
		DeviceID id.DeviceID `json:"device_id"`
	}
	u.jsonOut(t, &who, "whoami")
	return who.DeviceID
}

// The hostile server cannot hide a join it makes up by handing it out as room state (as after
// a gap in the timeline) instead of in the timeline: it is said all the same.
func TestForgedJoinInStateIsAnnounced(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	bob := newDuetUser(t, "bob", "Bob")
	alice.login(t)
	first := alice.send(t, string(bob.ID), "1 just the two of us").RoomID
	bob.Join(t, first)
	waitForBodies(t, bob.Person, first, "1 just the two of us")
	hstest.Eventually(t, 20*time.Second, func() string {
		var rooms []dmRoomOut
		alice.jsonOut(t, &rooms, "dms", string(bob.ID))
		if len(rooms) != 1 || rooms[0].MemberCount != 2 {
			return fmt.Sprintf("bob's join not seen yet: %+v", rooms)
		}
		return ""
	})

	proxy := hostile.Start(t, hs.URL)
	alice.setHomeserver(t, proxy.URL)
	mallory := id.UserID("@mallory:" + alice.ID.Homeserver())
	proxy.InjectState(first, proxy.NewState(mallory, "m.room.member", string(mallory),
		map[string]any{"membership": "join", "displayname": "Mallory"}))
	line := fmt.Sprintf("⚠ Mallory (%s) joined this room — it is no longer one-to-one", mallory)
	hstest.Eventually(t, 20*time.Second, func() string {
		if text := alice.ok(t, "", "messages", string(bob.ID)); !strings.Contains(text, line) {
			return "no announcement yet:\n" + text
		}
		return ""
	})
}

// encryptedOneToOne is a 1:1 alice (duet) started with bob (an encrypting mautrix device), with
// one message each side has seen.
func encryptedOneToOne(t *testing.T) (*duetUser, *hstest.CryptoPerson, id.RoomID) {
	t.Helper()
	alice := newDuetUser(t, "alice", "Alice")
	alice.login(t)
	bob := hstest.NewPerson(t, hs, "bob", "Bob").EnableCrypto(t)
	room := alice.send(t, string(bob.ID), "1 secret").RoomID
	bob.JoinWhenInvited(t, room)
	bob.WaitMessage(t, room, "1 secret", 20*time.Second)
	alice.ok(t, "", "messages", string(bob.ID))
	return alice, bob, room
}
