package flows

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hstest"
	"duet/ui"
)

// sentBy waits until body is in room and checks who sent it.
func sentBy(t *testing.T, reader *hstest.Person, room id.RoomID, body string, want id.UserID) {
	t.Helper()
	waitForBody(t, reader, room, body)
	for _, evt := range reader.RawEvents(t, room) {
		if b, _ := evt.Content.Raw["body"].(string); b == body && evt.Sender != want {
			t.Fatalf("%q in %s came from %s, want %s", body, room, evt.Sender, want)
		}
	}
}

// open opens the first row whose name has name in it, from wherever the keyboard is.
func (s *screen) open(name string) {
	s.key(tea.KeyEscape) // to the list
	s.key(tea.KeyEscape) // the filter cleared
	s.typeText("/" + name)
	s.key(tea.KeyEnter)
	s.key(tea.KeyEnter)
}

// Two accounts on two real homeservers in one window: both lists in one, a message from each
// conversation goes from its own account, a new DM from the second account, search across both,
// and the second homeserver killed while the first keeps working.
func TestTwoHomeserversInOneWindow(t *testing.T) {
	work := hstest.OwnServer(t)
	meHome := hstest.NewPerson(t, hs, "me", "Me")
	bob := hstest.NewPerson(t, hs, "bob", "Bob Home")
	meWork := hstest.NewPerson(t, work.Server, "me", "Me at work")
	dana := hstest.NewPerson(t, work.Server, "dana", "Dana Work")
	erin := hstest.NewPerson(t, work.Server, "erin", "Erin Work")

	bobRoom := acceptedDM(t, bob, meHome, "lunch on friday?", nil)
	danaRoom := acceptedDM(t, dana, meWork, "the friday release is late", nil)

	homeSvc, ctx := runService(t, meHome, "")
	workSvc, _ := runService(t, meWork, "")
	m := ui.NewAccounts([]ui.Profile{{Name: "default", Tag: "home", Svc: homeSvc}, {Name: "work", Svc: workSvc}}, ui.Options{Context: ctx})
	s := newScreen(t, homeSvc, m)
	t.Cleanup(func() { _ = s.tm.Quit() })

	// One list: each row marked with its account; both connections live.
	s.waitFor("both accounts' contacts", "Bob Home", "home lunch on friday?", "Dana Work", "work the friday release", "● home ● work")

	// Dana's row is the newest: the first. A message there goes from the work account.
	s.key(tea.KeyEnter)
	s.waitFor("Dana's conversation", "Message Dana Work as "+string(meWork.ID))
	s.typeText("from my work account")
	s.key(tea.KeyEnter)
	sentBy(t, dana, danaRoom, "from my work account", meWork.ID)

	// Bob's: from the home account.
	s.forget()
	s.open("Bob")
	s.waitFor("Bob's conversation", "Message Bob Home as "+string(meHome.ID))
	s.typeText("from my home account")
	s.key(tea.KeyEnter)
	sentBy(t, bob, bobRoom, "from my home account", meHome.ID)

	// A new DM by user ID: the account on the ID's server (work) is offered, and it is the
	// work account that creates the room and sends.
	s.key(tea.KeyEscape)
	s.typeText("n")
	s.typeText(string(erin.ID))
	s.waitFor("the account asked", "From: "+string(meWork.ID)+" (work)")
	s.key(tea.KeyEnter)
	s.waitFor("Erin's conversation", "Message Erin Work as "+string(meWork.ID))
	s.typeText("welcome erin")
	s.key(tea.KeyEnter)
	var erinRoom id.RoomID
	hstest.Eventually(t, 20*time.Second, func() string {
		for _, r := range meWork.JoinedRooms(t) {
			if r != danaRoom {
				erinRoom = r
				return ""
			}
		}
		return "the work account has not created Erin's room"
	})
	hstest.Eventually(t, 20*time.Second, func() string { // the invite follows the room
		if _, err := erin.Client.JoinRoomByID(hstest.Ctx(t), erinRoom); err != nil {
			return err.Error()
		}
		return ""
	})
	sentBy(t, erin, erinRoom, "welcome erin", meWork.ID)
	// Nothing crosses between the accounts' stores: each finds its own messages alone.
	if found, _, err := homeSvc.Search(ctx, "release", "", 10); err != nil || len(found) != 0 {
		t.Fatalf("the home store has work's messages: %v, %v", found, err)
	}
	if found, _, err := workSvc.Search(ctx, "lunch", "", 10); err != nil || len(found) != 0 {
		t.Fatalf("the work store has home's messages: %v, %v", found, err)
	}
	if rooms := meHome.JoinedRooms(t); len(rooms) != 1 {
		t.Fatalf("the home account is in %d rooms, want Bob's only: %v", len(rooms), rooms)
	}

	// Search across both accounts: "friday" is in one conversation of each; each result
	// names its account.
	s.key(tea.KeyEscape)
	s.forget()
	s.tm.Send(tea.KeyPressMsg{Code: 'f', Mod: tea.ModCtrl})
	s.key(tea.KeyTab) // every conversation, not Bob's alone
	s.typeText("friday")
	s.waitFor("results from both accounts", "Bob Home · home", "Dana Work · work")
	s.key(tea.KeyEscape)

	// The work homeserver dies: the status bar says so for work alone, and the home account
	// keeps chatting.
	work.Kill()
	s.forget()
	s.waitWithin(60*time.Second, "work offline, home not", "● home ✗ work offline")
	s.open("Bob")
	s.typeText("still here at home")
	s.key(tea.KeyEnter)
	sentBy(t, bob, bobRoom, "still here at home", meHome.ID)
	bob.Say(t, bobRoom, "good to hear")
	s.waitFor("Bob's answer while work is down", "good to hear")
	if strings.Contains(s.out.String()[s.floor:], "✗ home") {
		t.Fatal("the home account was shown offline")
	}
}
