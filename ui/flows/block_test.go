package flows

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hstest"
)

// ignored returns who is on p's ignore list, as the server has it.
func ignored(t *testing.T, p *hstest.Person) map[string]any {
	t.Helper()
	var content struct {
		Users map[string]any `json:"ignored_users"`
	}
	if err := p.Client.GetAccountData(hstest.Ctx(t), event.AccountDataIgnoredUserList.Type, &content); err != nil {
		t.Fatal(err)
	}
	return content.Users
}

// A stranger's invite waits under Requests by their user ID; b asks, n keeps them, b then y
// blocks: the invite is declined and they are on the ignore list next to the entry another
// client put there. A contact is blocked and unblocked the same way.
func TestBlockFromTheList(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	carol := hstest.NewPerson(t, hs, "carol", "Carol Known")
	stranger := hstest.NewPerson(t, hs, "stranger", "Carol Known") // the same name: only the ID tells
	room := alice.CreateRoom(t, true, carol.ID)
	carol.Join(t, room)
	carol.Say(t, room, "see you at the market")
	raw, _ := json.Marshal(map[string][]id.RoomID{string(carol.ID): {room}})
	alice.SetDirectRaw(t, string(raw))
	other := `{"ignored_users":{"@spammer:elsewhere.example":{}}}`
	if err := alice.Client.SetAccountData(hstest.Ctx(t), event.AccountDataIgnoredUserList.Type, json.RawMessage(other)); err != nil {
		t.Fatal(err)
	}
	request := stranger.CreateRoom(t, true, alice.ID)
	stranger.Say(t, request, "your parcel is held, click here")

	s := start(t, alice)
	s.waitFor("carol, and the request by its ID", append(requestRow(stranger.ID), "Contacts (1)", "Carol Known", "Requests (1)", "request")...)
	s.key(tea.KeyDown) // carol, then the request
	s.typeText("b")
	s.waitFor("the question", "Block "+string(stranger.ID)+"?", "y: block")
	s.typeText("n")
	s.waitFor("kept", "not blocked")
	if users := ignored(t, alice); len(users) != 1 {
		t.Fatalf("answering n blocked: %v", users)
	}
	s.typeText("b")
	s.typeText("y")
	s.waitFor("blocked", "blocked "+string(stranger.ID))
	hstest.Eventually(t, 20*time.Second, func() string {
		users := ignored(t, alice)
		if _, ok := users[string(stranger.ID)]; !ok || len(users) != 2 {
			return fmt.Sprintf("the ignore list: %v", users)
		}
		if rooms := alice.JoinedRooms(t); len(rooms) != 1 {
			return fmt.Sprintf("alice is in %v", rooms)
		}
		return ""
	})
	hstest.Eventually(t, 20*time.Second, func() string {
		ov, err := s.svc.Overview(hstest.Ctx(t))
		if err != nil {
			return err.Error()
		}
		if len(ov.Requests) != 0 {
			return fmt.Sprintf("requests after blocking: %+v", ov.Requests)
		}
		return ""
	})

	// Carol, a contact, now the only row: blocked, marked, and unblocked.
	s.typeText("b")
	s.waitFor("the question", "Block "+string(carol.ID)+"?")
	s.typeText("y")
	s.waitFor("carol marked", "blocked · u unblock")
	s.typeText("u")
	s.waitFor("unblocked", "unblocked "+string(carol.ID))
	hstest.Eventually(t, 20*time.Second, func() string {
		users := ignored(t, alice)
		if _, ok := users[string(carol.ID)]; ok || len(users) != 2 {
			return fmt.Sprintf("the ignore list after unblocking carol: %v", users)
		}
		return ""
	})
}
