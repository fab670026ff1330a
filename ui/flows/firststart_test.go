package flows

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hstest"
	"duet/matrixsvc"
)

// Issue 24: on a new device whose first sync the server holds back for 20 s, the contacts list
// (with names) is on screen at once, from m.direct, the joined rooms and their members; a
// conversation opens (its history from /messages) and a message is sent, end-to-end encrypted
// in an encrypted DM (the room's state is fetched first: never plain text). When the sync
// lands, the list, previews and unread counts are what a device that waited for it has.
func TestFirstStartShowsContactsBeforeTheSync(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob Builder").EnableCrypto(t)
	carol := hstest.NewPerson(t, hs, "carol", "Carol Singer")
	// Alice's device must exist for bob's room key: a first login of hers, as from another
	// device, uploads nothing, so the key reaches the device duet logs in below by its own
	// key query. Bob's DM is encrypted, carol's is not.
	bobRoom := bob.CreateEncryptedDM(t, alice.ID)
	alice.Join(t, bobRoom)
	carolRoom := acceptedDM(t, carol, alice, "hello from carol", map[string][]id.RoomID{string(bob.ID): {bobRoom}})
	carol.Say(t, carolRoom, "are you there?")
	bob.SendText(t, bobRoom, "the shelf is fixed")

	proxy := hstest.NewSlowFirstSync(t, alice.Client.HomeserverURL.String(), 20*time.Second)
	began := time.Now()
	s := startVia(t, alice, proxy.URL)
	<-proxy.Held
	s.waitWithin(5*time.Second, "contacts with their names before the first sync, and what is going on",
		"Bob Builder", "Carol Singer", "○ syncing", "first sync: waiting for the server…")
	took := time.Since(began)
	t.Logf("contacts drawn %s after start, the initial sync still held", took.Round(time.Millisecond))
	if proxy.Released() {
		t.Fatal("the initial sync was let through before the list was drawn")
	}

	// Bob's DM is encrypted (and first: no activity is known yet, the list goes by user ID):
	// what alice sends there before the sync is encrypted too, its state fetched first.
	s.key(tea.KeyEnter)
	// A new device has no key for what bob said before it existed: the key would come with
	// the sync, or from a backup. It says so, rather than nothing.
	s.waitFor("bob's history before the sync", "Bob Builder: 🔒 unable to decrypt")
	s.typeText("great, thanks bob")
	s.key(tea.KeyEnter)
	got := bob.WaitMessage(t, bobRoom, "great, thanks bob", 30*time.Second)
	if !got.Decrypted {
		t.Fatalf("sent before the first sync into an encrypted DM, not encrypted: %+v", got)
	}
	for _, evt := range bob.RawEvents(t, bobRoom) {
		if strings.Contains(string(evt.Content.VeryRaw), "great, thanks bob") {
			t.Fatalf("the server has the plain text: %s", evt.Content.VeryRaw)
		}
	}

	// Carol's (plain): her history comes from /messages; answer her.
	s.key(tea.KeyEscape)
	s.key(tea.KeyDown)
	s.key(tea.KeyEnter)
	s.waitFor("carol's history before the sync", "hello from carol", "are you there?")
	s.typeText("yes, here")
	s.key(tea.KeyEnter)
	waitForBody(t, carol, carolRoom, "yes, here")
	if proxy.Released() {
		t.Fatal("the initial sync was let through before the conversations were used")
	}

	// The sync lands: the list is what a device that waited has.
	s.key(tea.KeyEscape) // back to the list, carol selected
	s.forget()
	proxy.Release()
	// Previews and activity fill in; the list re-sorts, and the selection stays on carol.
	s.waitFor("previews after the sync, carol still selected", "›Carol Singer", "you: yes, here", "you: great, thanks bob")
	second, _ := runService(t, alice, "")
	var a, b string
	// The previews of encrypted rooms differ by device, as they should: the second device has
	// no key for what the first one sent before it existed. They are compared apart.
	hstest.Eventually(t, 30*time.Second, func() string {
		a, b = listOf(t, s.svc, bobRoom), listOf(t, second, bobRoom)
		if a != b {
			return fmt.Sprintf("the list after the first sync landed:\n%s\nwhat a device that waited has:\n%s", a, b)
		}
		return ""
	})
	t.Logf("both devices list:\n%s", a)
	// Carol's history, read before the sync and then brought again by it, is there once, in
	// order, as on the device that waited.
	var x, y []string
	hstest.Eventually(t, 30*time.Second, func() string {
		x, y = bodiesOf(t, s.svc, carolRoom), bodiesOf(t, second, carolRoom)
		if !slices.Equal(x, y) {
			return fmt.Sprintf("carol's room: %q, on a device that waited %q", x, y)
		}
		return ""
	})
	if !slices.Equal(x[len(x)-3:], []string{"hello from carol", "are you there?", "yes, here"}) {
		t.Errorf("carol's room: %q", x)
	}
	if full := listOf(t, s.svc); !strings.Contains(full, `"great, thanks bob"`) {
		t.Errorf("the first device's preview of the encrypted DM is not its own last message:\n%s", full)
	}
}

// listOf is what the contacts list says, a line a contact: who, their name, room, preview and
// unread count, in order.
func listOf(t *testing.T, svc *matrixsvc.Service, hidePreview ...id.RoomID) string {
	t.Helper()
	ov, err := svc.Overview(hstest.Ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, c := range ov.Contacts {
		preview := c.Preview.Body
		if slices.Contains(hidePreview, c.Room) {
			preview = "(encrypted)"
		}
		lines = append(lines, fmt.Sprintf("%s %q %s %q unread %d", c.UserID, c.DisplayName, c.Room, preview, c.Unread))
	}
	return strings.Join(lines, "\n")
}

// bodiesOf is the text of a room's stored messages, oldest first.
func bodiesOf(t *testing.T, svc *matrixsvc.Service, room id.RoomID) []string {
	t.Helper()
	msgs, err := svc.Messages(hstest.Ctx(t), room, 50)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		if m.Body != "" {
			out = append(out, m.Body)
		}
	}
	return out
}
