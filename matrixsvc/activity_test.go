package matrixsvc

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/hstest"
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

func TestPlainText(t *testing.T) {
	for _, c := range []struct{ body, html, want string }{
		{"just text", "", "just text"},
		{"**a** _b_ ~~c~~ `d`", "<strong>a</strong> <em>b</em> <del>c</del> <code>d</code>", "a b c d"},
		{"[link](https://x.example) and https://y.example", `<a href="https://x.example">link</a> and <a href="https://y.example">https://y.example</a>`, "link and https://y.example"},
		{"hi Bob", `hi <a href="https://matrix.to/#/@bob:x.example">Bob</a>`, "hi Bob"},
		{"secret", `<span data-mx-spoiler>the butler did it</span>`, "[spoiler]"},
		{"- one\n- two", "<ul><li>one</li><li>two</li></ul>", "* one\n* two"},
	} {
		if got := PlainText(c.body, c.html); got != c.want {
			t.Errorf("PlainText(%q, %q) = %q, want %q", c.body, c.html, got, c.want)
		}
	}
}

func TestLinks(t *testing.T) {
	for _, c := range []struct {
		body, html string
		want       []string
	}{
		{"no links", "", nil},
		{"see https://a.example/x and http://b.example, again https://a.example/x", "", []string{"https://a.example/x", "http://b.example"}},
		{"[map](https://m.example) and https://t.example", `<a href="https://m.example">map</a> and https://t.example`, []string{"https://m.example", "https://t.example"}},
		{"https://t.example and [map](https://m.example/a?b=1,c)", `https://t.example and <a href="https://m.example/a?b=1,c">map</a>.`, []string{"https://t.example", "https://m.example/a?b=1,c"}},
		{"evil", `<a href="file:///etc/passwd">x</a> <a href="javascript:alert(1)">y</a> <a href="https://matrix.to/#/@bob:x.example">Bob</a>`, nil},
		{"ssh://host and mailto:a@b.example and www.example.org", "", nil},
	} {
		if got := Links(c.body, c.html); !slices.Equal(got, c.want) {
			t.Errorf("Links(%q, %q) = %q, want %q", c.body, c.html, got, c.want)
		}
	}
}

// R12 from the start of a conversation: a user who exists gives their name; one who does
// not is ErrUserNotFound; a user on a server that cannot be reached is neither, and the error
// says whose server did not answer.
func TestCheckUser(t *testing.T) {
	t.Parallel()
	ctx := hstest.Ctx(t)
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob Checked")
	svc := newService(t, alice, "")
	if x, name, err := svc.CheckUser(ctx, " "+string(bob.ID)+" "); err != nil || x != bob.ID || name != "Bob Checked" {
		t.Fatalf("bob: %s %q %v", x, name, err)
	}
	nobody := id.NewUserID("nobody-"+strings.ToLower(t.Name()), bob.ID.Homeserver())
	if _, _, err := svc.CheckUser(ctx, string(nobody)); !errors.Is(err, ErrUserNotFound) {
		t.Fatalf("a user who does not exist: %v", err)
	}
	far := id.UserID("@someone:127.0.0.1:9") // the discard port: nothing answers there
	_, _, err := svc.CheckUser(ctx, string(far))
	if err == nil || errors.Is(err, ErrUserNotFound) || !Temporary(err) {
		t.Fatalf("a user on a server that cannot be reached: %v", err)
	}
	if want := "your homeserver got no answer from 127.0.0.1:9"; !strings.Contains(err.Error(), want) {
		t.Fatalf("the error %q does not say %q", err, want)
	}
}
