package flows

import (
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	ef "duet/internal/testkit/elementfmt"
	"duet/internal/testkit/hstest"
)

// Issue 25 on screen: what Bob sends from Element into the DM shows in the conversation, each
// as itself: a poll with its answers and counts, a sticker, a place, a call, an unknown type by
// its text; and a vote Bob changes moves the count while the conversation is open.
func TestEverythingElementSendsIsDrawn(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	room := acceptedDM(t, bob, alice, "hello from element", nil)
	up, err := bob.Client.UploadBytesWithName(hstest.Ctx(t), []byte("not a real png"), "image/png", "sticker.png")
	if err != nil {
		t.Fatal(err)
	}
	poll, ids := ef.PollStartUnstable("Where shall we meet?", []string{"The park", "The beach"}, true, 1)
	pollID := bob.SendEvent(t, room, ef.TypePollStartUnstable, poll)
	bob.SendEvent(t, room, ef.TypePollResponseUnstable, ef.PollResponseUnstable(pollID, ids[0]))
	bob.SendEvent(t, room, ef.TypeSticker, ef.Sticker("Drill time!", up.ContentURI.String(), 48, 48, "image/png"))
	bob.SendEvent(t, room, ef.TypeMessage, ef.Location("Location geo:51.5,-0.12", "geo:51.5,-0.12;u=10", "The pub"))
	bob.SendEvent(t, room, ef.TypeCallInvite, ef.CallInvite("c1", true))
	bob.SendEvent(t, room, "org.example.note", ef.Unknown("org.example.note", "a note from the future"))

	s := start(t, alice)
	s.waitFor("bob in the list", "live", "Bob")
	s.key(tea.KeyEnter)
	s.waitFor("each kind drawn as itself",
		"📊 Where shall we meet?", "1. The park", "2. The beach", "1 vote",
		"🏷 Sticker: Drill time!", "📍 Location: The pub", "o opens the map",
		"📞 Started a video call", "[org.example.note] a note from the future")
	s.forget()
	// Bob changes his mind: the latest vote counts, drawn at once.
	bob.SendEvent(t, room, ef.TypePollResponseUnstable, ef.PollResponseUnstable(pollID, ids[1]))
	s.waitWithin(20*time.Second, "the count moved", "○ 1. The park   ░░░░░░░░ 0", "○ 2. The beach  ████████ 1 · Bob")
	// A new poll arriving alone shows its counts at once: none yet is a count too.
	second, _ := ef.PollStartUnstable("And when?", []string{"Noon", "Evening"}, true, 1)
	bob.SendEvent(t, room, ef.TypePollStartUnstable, second)
	s.waitWithin(20*time.Second, "a new poll with its counts", "📊 And when?", "○ 1. Noon     ░░░░░░░░ 0", "0 votes")
}
