package flows

import (
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"duet/internal/testkit/hostile"
	"duet/internal/testkit/hstest"
)

// Issue 19, in the UI through a hostile server: a plain message it makes up in an encrypted DM
// is marked, its m.room.encryption event without an algorithm is a line naming who sent it,
// and what alice types next still goes out encrypted.
func TestHostileServerInTheConversation(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	proxy := hostile.Start(t, hs.URL)
	s := startVia(t, alice, proxy.URL)
	s.waitFor("live", "live")
	bob := hstest.NewPerson(t, hs, "bob", "Bob Builder").EnableCrypto(t)
	room := bob.CreateEncryptedDM(t, alice.ID)
	bob.SendText(t, room, "encrypted hello")
	s.waitFor("bob's request", append(requestRow(bob.ID), "request")...)
	s.typeText("a")
	s.waitFor("joined", "joined the conversation")
	s.key(tea.KeyEnter)
	s.waitWithin(time.Minute, "bob's encrypted message", "encrypted hello")

	s.forget()
	proxy.InjectTimeline(room, proxy.NewEvent(bob.ID, "m.room.message", map[string]any{"msgtype": "m.text", "body": "plain from the server"}))
	s.waitFor("the plain message, marked", "plain from the server", "⚠ not encrypted")

	s.forget()
	proxy.InjectTimeline(room, proxy.NewState(bob.ID, "m.room.encryption", "", map[string]any{}))
	s.waitFor("the line saying who tried to turn encryption off", "⚠ Bob Builder (@bob-", ") tried to turn", "encryption off; duet keeps")

	s.typeText("still secret")
	s.key(tea.KeyEnter)
	if m := bob.WaitMessage(t, room, "still secret", 20*time.Second); !m.Encrypted || !m.Decrypted {
		t.Fatalf("bob got %+v: sent in plain text", m)
	}
}
