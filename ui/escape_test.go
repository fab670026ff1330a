package ui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"duet/matrixsvc"
)

const evil = "a\x1b]0;title\x07b\x1b[2Jc\x1b]52;c;ZXZpbA==\x07d"

// TestEscapeSequencesAreHarmless: bodies, names, previews and room names from the server never
// reach the terminal as control characters.
func TestEscapeSequencesAreHarmless(t *testing.T) {
	svc := fixture()
	svc.ov.Contacts[0].DisplayName = "Al" + evil
	svc.ov.Contacts[0].Preview.Body = "pre" + evil
	svc.ov.Groups[0].Name = "grp" + evil
	svc.ov.Invites[0].Name = "room" + evil
	svc.history[aliceRoom] = append(svc.history[aliceRoom], msg(aliceRoom, "$evil", alice, testNow, "body"+evil+"\nline two"+evil))
	h := newHarness(t, svc, 120, 30)
	openAlice(h)
	h.send(eventsMsg{events: []matrixsvc.Event{matrixsvc.SyncApplied{Messages: []matrixsvc.Message{
		msg(aliceRoom, "$evil2", alice, testNow, "live"+evil),
	}}}})
	h.send(tea.WindowSizeMsg{Width: 200, Height: 40})
	view := h.view()
	for _, bad := range []string{"\x1b", "\x07"} {
		if strings.Contains(view, bad) {
			t.Fatalf("view contains %q:\n%q", bad, view)
		}
	}
	requireContains(t, view,
		"body"+shown, "live"+shown, "line two"+shown, // bodies
		"Al"+"a␛]0;title", // the contact's name in the list and the header
		"grp"+"a␛]0;title", "room"+"a␛]0;title",
	)
	requireFits(t, view, 200, 40)
}

// shown is evil as the screen shows it.
const shown = "a␛]0;title␇b␛[2Jc␛]52;c;ZXZpbA==␇d"
