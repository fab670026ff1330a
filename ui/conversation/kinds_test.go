package conversation

import (
	"strings"
	"testing"
	"time"

	"duet/matrixsvc"
	"duet/ui/styles"
)

// Every kind is drawn as itself, from the sender's words made inert: an unknown type's label
// (the sender's word too) is cut and its control characters shown, a call and a place say
// what they are, a sticker with no text still says it is one.
func TestKindsAreDrawnInert(t *testing.T) {
	m := New(DefaultKeyMap(), styles.Default().Conversation, me, func() time.Time { return now })
	m.SetSize(100, 30)
	m.SetName(alice, "Alice")
	at := func(min int) time.Time { return now.Add(time.Duration(min-60) * time.Minute) }
	other := text("$o", alice, at(1), "the fallback \x1b]52;c;aGk=\a")
	other.Kind, other.OtherType = matrixsvc.KindOther, "org.example."+strings.Repeat("x", 300)+"\x1b[2J"
	call := text("$c", alice, at(2), "")
	call.Kind, call.Call = matrixsvc.KindCallInvite, &matrixsvc.Call{Video: true}
	place := text("$p", alice, at(3), "Location geo:1,2")
	place.Kind, place.Location = matrixsvc.KindLocation, &matrixsvc.Location{URI: "geo:1,2", Description: "Home\x1b[31m"}
	sticker := text("$s", alice, at(4), "")
	sticker.Kind = matrixsvc.KindSticker
	m.AddPage([]matrixsvc.Message{other, call, place, sticker}, false)
	v := m.View()
	for _, want := range []string{"[org.example.xxxx", "…] the fallback ␛]52;c;aGk=", "📞 Started a video call (duet cannot take calls)",
		"📍 Location: Home␛[31m", "1.00000, 2.00000 · o opens the map", "🏷 Sticker: a sticker"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "\x1b]") || strings.Contains(v, "\x1b[2J") || strings.Contains(v, strings.Repeat("x", 100)) {
		t.Errorf("a control character, or the whole long type, reached the view:\n%q", v)
	}
}

// An end of a poll by someone who did not make it ends nothing, and the line says so.
func TestAPollEndByAnotherEndsNothing(t *testing.T) {
	m := New(DefaultKeyMap(), styles.Default().Conversation, me, func() time.Time { return now })
	m.SetSize(100, 20)
	m.SetName(alice, "Alice")
	poll := text("$poll", me, now.Add(-3*time.Minute), "Lunch?")
	poll.Kind, poll.Poll = matrixsvc.KindPoll, &matrixsvc.Poll{Question: "Lunch?", Disclosed: true, MaxSelections: 1,
		Answers: []matrixsvc.PollAnswer{{ID: "a", Text: "Pizza"}, {ID: "b", Text: "Soup"}}}
	theirs := text("$end1", alice, now.Add(-2*time.Minute), "The poll has ended")
	theirs.Kind, theirs.Rel = matrixsvc.KindPollEnd, "$poll"
	ours := text("$end2", me, now.Add(-time.Minute), "The poll has ended")
	ours.Kind, ours.Rel = matrixsvc.KindPollEnd, "$poll"
	m.AddPage([]matrixsvc.Message{poll, theirs, ours}, false)
	v := m.View()
	for _, want := range []string{"Alice: 📊 Tried to end the poll: Lunch? (only whoever made it can)", "you: 📊 Ended the poll: Lunch?"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
}
