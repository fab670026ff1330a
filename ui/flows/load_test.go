package flows

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"golang.org/x/sync/errgroup"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hstest"
)

// A burst while you type: bob sends 1,000 messages into one DM and 100 people send 10 each into
// their DMs, while you type into a third conversation. No keystroke is lost, every badge ends
// right, and the time duet takes to catch up after the last send is logged.
func TestBurstWhileTyping(t *testing.T) {
	// Not parallel: 2,000 sends would slow the other flows' homeserver past their waits.
	// The scale (DUET_LOAD_FULL=1): 1,000 into one DM and 10 into each of 100. CI runs
	// a fifth of it: Dendrite takes 80 s for the full burst on a 2-core machine.
	people, each, fromBob := 20, 10, 200
	if os.Getenv("DUET_LOAD_FULL") != "" {
		people, fromBob = 100, 1000
	}
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	carol := hstest.NewPerson(t, hs, "carol", "Carol Quiet")
	bob := hstest.NewPerson(t, hs, "bob", "Bob Burst")
	others := make([]*hstest.Person, people)
	g := new(errgroup.Group)
	g.SetLimit(8)
	for i := range others {
		g.Go(func() error {
			others[i] = hstest.NewPerson(t, hs, "p", fmt.Sprintf("Person %03d", i))
			return nil
		})
	}
	_ = g.Wait()

	// alice's DMs exist before duet starts: one per person, recorded in m.direct.
	everyone := append([]*hstest.Person{carol, bob}, others...)
	rooms := make([]id.RoomID, len(everyone))
	g = new(errgroup.Group)
	g.SetLimit(8)
	for i, p := range everyone {
		g.Go(func() error {
			rooms[i] = alice.CreateRoom(t, true, p.ID)
			p.Join(t, rooms[i])
			return nil
		})
	}
	_ = g.Wait()
	direct := map[string][]id.RoomID{}
	for i, p := range everyone {
		direct[string(p.ID)] = []id.RoomID{rooms[i]}
	}
	raw, _ := json.Marshal(direct)
	alice.SetDirectRaw(t, string(raw))

	s := start(t, alice)
	s.waitFor("live", "live")
	s.waitFor("the list", fmt.Sprintf("Contacts (%d)", len(everyone)))
	// Open carol's conversation: type there while the others write.
	s.typeText("n")
	s.waitFor("the prompt", "User ID")
	s.typeText(string(carol.ID))
	s.key(tea.KeyEnter)
	s.waitFor("carol's conversation", "Carol Quiet ·")

	typed := "through the storm, in order: 0123456789"
	var typing sync.WaitGroup
	typing.Add(1)
	go func() {
		defer typing.Done()
		for _, r := range typed {
			s.tm.Send(tea.KeyPressMsg{Code: r, Text: string(r)})
			time.Sleep(15 * time.Millisecond)
		}
	}()

	began := time.Now()
	g = new(errgroup.Group)
	g.SetLimit(16)
	for n := range fromBob {
		g.Go(func() error {
			_, err := bob.Client.SendText(context.Background(), rooms[1], fmt.Sprintf("burst %d", n))
			return err
		})
	}
	for i, p := range others {
		for n := range each {
			g.Go(func() error {
				_, err := p.Client.SendText(context.Background(), rooms[i+2], fmt.Sprintf("hello %d from %d", n, i))
				return err
			})
		}
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	typing.Wait()

	// Caught up: every conversation shows a message of the burst, on top of the list, with no
	// badge above what was sent.
	want := map[id.UserID]int{bob.ID: fromBob}
	for _, p := range others {
		want[p.ID] = each
	}
	var caughtUp time.Duration
	var exact, shown, wantSum int
	hstest.Eventually(t, 60*time.Second, func() string {
		ov, err := s.svc.Overview(context.Background())
		if err != nil {
			return err.Error()
		}
		behind, exactNow, shownNow, wantNow := 0, 0, 0, 0
		var example string
		for _, c := range ov.Contacts {
			n, ok := want[c.UserID]
			if !ok {
				continue
			}
			fromBurst := strings.HasPrefix(c.Preview.Body, "burst ") || strings.HasPrefix(c.Preview.Body, "hello ")
			if !fromBurst || c.Unread > n {
				behind++
				example = fmt.Sprintf("%s shows %q with %d unread", c.DisplayName, c.Preview.Body, c.Unread)
			}
			if c.Unread == n {
				exactNow++
			}
			shownNow, wantNow = shownNow+c.Unread, wantNow+n
		}
		if len(ov.Contacts) != len(everyone) || behind > 0 {
			return fmt.Sprintf("%d contacts, %d behind (%s)", len(ov.Contacts), behind, example)
		}
		caughtUp, exact, shown, wantSum = time.Since(sent), exactNow, shownNow, wantNow
		return ""
	})
	t.Logf("%d messages sent in %s; duet caught up %s after the last send; %d of %d badges exact, showing %d unread of %d",
		fromBob+people*each, sent.Sub(began).Round(time.Millisecond), caughtUp.Round(time.Millisecond), exact, len(want), shown, wantSum)

	// Then every badge is exact: the server's live counts lag the burst, and duet asks again
	// once the account is quiet (matrixsvc/recount.go).
	hstest.Eventually(t, 30*time.Second, func() string {
		ov, err := s.svc.Overview(context.Background())
		if err != nil {
			return err.Error()
		}
		for _, c := range ov.Contacts {
			if n, ok := want[c.UserID]; ok && c.Unread != n {
				return fmt.Sprintf("%s shows %d unread, want %d", c.DisplayName, c.Unread, n)
			}
		}
		return ""
	})
	t.Logf("every badge exact %s after the last send", time.Since(sent).Round(time.Millisecond))

	// Every keystroke arrived, in order, in the composer; and the list shows bob's badge.
	s.waitFor("the typed text", typed)
	s.waitFor("bob's conversation on top of the list", "Bob Burst")
}
