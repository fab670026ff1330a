package matrixsvc

import (
	"fmt"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hstest"
)

// A reaction, its deletion, a topic and an edit in bob's DM leave carol's newer message first
// in the list and bob's time at his message (the edit changes its text); a new message from
// bob moves him up, and its deletion empties his preview.
func TestOnlyMessagesAndMembershipMoveAContactUp(t *testing.T) {
	t.Parallel()
	ctx := hstest.Ctx(t)
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	carol := hstest.NewPerson(t, hs, "carol", "Carol")
	svc := newService(t, alice, "")
	bobRoom := bob.CreateRoom(t, true, alice.ID)
	carolRoom := carol.CreateRoom(t, true, alice.ID)
	acceptInvite(t, svc, bobRoom)
	acceptInvite(t, svc, carolRoom)
	said := bob.Say(t, bobRoom, "from bob")
	waitBody(t, svc, bobRoom, "from bob") // carol's comes a sync later: a later timestamp
	carol.Say(t, carolRoom, "from carol, later")

	// list syncs and returns who is first, and bob's row.
	list := func() (id.UserID, *ContactView) {
		catchUp(t, svc)
		ov, err := svc.Overview(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ov.Contacts) != 2 {
			t.Fatalf("contacts: %+v", ov.Contacts)
		}
		return ov.Contacts[0].UserID, contactOf(t, svc, bob.ID)
	}
	var bobSaid int64
	hstest.Eventually(t, 20*time.Second, func() string {
		first, b := list()
		if first != carol.ID || b.Preview.Body != "from bob" {
			return fmt.Sprintf("first %s, bob's preview %+v", first, b.Preview)
		}
		bobSaid = b.Preview.TS
		return ""
	})

	send := func(typ event.Type, content any) id.EventID {
		t.Helper()
		resp, err := bob.Client.SendMessageEvent(ctx, bobRoom, typ, content)
		if err != nil {
			t.Fatal(err)
		}
		return resp.EventID
	}
	thumbs := send(event.EventReaction, map[string]any{"m.relates_to": map[string]any{"rel_type": "m.annotation", "event_id": said, "key": "👍"}})
	if _, err := bob.Client.RedactEvent(ctx, bobRoom, thumbs); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Client.SendStateEvent(ctx, bobRoom, event.StateTopic, "", map[string]any{"topic": "shelves"}); err != nil {
		t.Fatal(err)
	}
	send(event.EventMessage, map[string]any{"msgtype": "m.text", "body": "* from bob, edited",
		"m.new_content": map[string]any{"msgtype": "m.text", "body": "from bob, edited"},
		"m.relates_to":  map[string]any{"rel_type": "m.replace", "event_id": said}})
	// The edit came last: once it shows, the others have arrived.
	hstest.Eventually(t, 20*time.Second, func() string {
		first, b := list()
		msgs, _, err := svc.History(ctx, bobRoom, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 || msgs[len(msgs)-1].Body != "from bob, edited" {
			return fmt.Sprintf("the edit has not arrived: %+v", msgs)
		}
		if first != carol.ID || b.Preview.TS != bobSaid || b.Preview.Body != "from bob, edited" {
			t.Fatalf("after a reaction, a deletion, a topic and an edit: first %s, bob's row %+v (his message at %d)", first, b.Preview, bobSaid)
		}
		return ""
	})

	// A formatted message moves bob up, and shows as its text; deleted, it shows as nothing.
	again := send(event.EventMessage, map[string]any{"msgtype": "m.text", "body": "**bob** again, [see](https://example.org)",
		"format": "org.matrix.custom.html", "formatted_body": `<strong>bob</strong> again, <a href="https://example.org">see</a>`})
	hstest.Eventually(t, 20*time.Second, func() string {
		if first, b := list(); first != bob.ID || b.Preview.Body != "bob again, see" || b.Preview.TS <= bobSaid {
			return fmt.Sprintf("after bob's new message: first %s, bob's row %+v", first, b.Preview)
		}
		return ""
	})
	if _, err := bob.Client.RedactEvent(ctx, bobRoom, again); err != nil {
		t.Fatal(err)
	}
	hstest.Eventually(t, 20*time.Second, func() string {
		if _, b := list(); b.Preview.Body != "" {
			return fmt.Sprintf("after bob deleted his message, his row %+v", b.Preview)
		}
		return ""
	})
}
