package matrixsvc

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tidwall/gjson"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hstest"
)

// reactionsText is a message's reactions as "key:sender,sender" items, ours marked with *.
func reactionsText(m Message) []string {
	var out []string
	for _, r := range m.Reactions {
		s := r.Key + ":"
		for i, u := range r.Senders {
			if i > 0 {
				s += ","
			}
			s += string(u)
		}
		if r.Mine != "" {
			s += "*"
		}
		out = append(out, s)
	}
	return out
}

// flush sends what the outbox holds and fails the test unless want messages went.
func flush(t *testing.T, svc *Service, want int) {
	t.Helper()
	if sent, err := svc.FlushOutbox(hstest.Ctx(t)); sent != want || err != nil {
		t.Fatalf("flush: sent %d of %d, %v", sent, want, err)
	}
}

// Replies and reactions against Dendrite, with another client on the other side: what duet
// sends is what the spec says (m.in_reply_to with a mention and no fallback; m.reaction with
// m.annotation), and what the other client sends shows in duet as a reply that knows what it
// answers, and as reactions grouped by key that go away when taken back.
func TestRepliesAndReactions(t *testing.T) {
	t.Parallel()
	svc, alice, bob, room := acceptedDM(t)
	ctx := hstest.Ctx(t)
	question := bob.Say(t, room, "lunch at noon?")
	waitForCopy(t, svc, room, byID(question), func(Message) string { return "" })

	// Our reply and our reaction, as bob's client gets them.
	if err := svc.Enqueue(ctx, Outgoing{Kind: KindReply, Room: room, Target: bob.ID, Body: "yes, **noon**", ReplyTo: question}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Enqueue(ctx, Outgoing{Kind: KindReaction, Room: room, Of: question, Key: "👍"}); err != nil {
		t.Fatal(err)
	}
	flush(t, svc, 2)
	var answer, like id.EventID
	hstest.Eventually(t, 20*time.Second, func() string {
		resp, err := bob.Client.Messages(ctx, room, "", "", mautrix.DirectionBackward, nil, 20)
		if err != nil {
			return err.Error()
		}
		answer, like = "", ""
		for _, evt := range resp.Chunk {
			raw := evt.Content.VeryRaw
			switch evt.Type {
			case event.EventMessage:
				if gjson.GetBytes(raw, `m\.relates_to.m\.in_reply_to.event_id`).Str != string(question) {
					continue
				}
				if body := gjson.GetBytes(raw, "body").Str; body != "yes, **noon**" {
					t.Fatalf("the reply's body has a fallback or lost its text: %q", body)
				}
				if !slices.ContainsFunc(gjson.GetBytes(raw, `m\.mentions.user_ids`).Array(), func(r gjson.Result) bool { return r.Str == string(bob.ID) }) {
					t.Fatalf("the reply does not mention bob: %s", raw)
				}
				if html := gjson.GetBytes(raw, "formatted_body").Str; html != "yes, <strong>noon</strong>" {
					t.Fatalf("the reply's HTML: %q", html)
				}
				answer = evt.ID
			case event.EventReaction:
				f := gjson.GetManyBytes(raw, `m\.relates_to.rel_type`, `m\.relates_to.event_id`, `m\.relates_to.key`)
				if f[0].Str != "m.annotation" || f[1].Str != string(question) || f[2].Str != "👍" {
					t.Fatalf("the reaction as bob gets it: %s", raw)
				}
				like = evt.ID
			}
		}
		if answer == "" || like == "" {
			return fmt.Sprintf("bob has reply %q, reaction %q", answer, like)
		}
		return ""
	})

	// Bob answers our reply and reacts to it twice; we see what it answers and who reacted.
	bobReply := &event.MessageEventContent{MsgType: event.MsgText, Body: "great",
		RelatesTo: &event.RelatesTo{InReplyTo: &event.InReplyTo{EventID: answer}}}
	resp, err := bob.Client.SendMessageEvent(ctx, room, event.EventMessage, bobReply)
	if err != nil {
		t.Fatal(err)
	}
	party, err := bob.Client.SendMessageEvent(ctx, room, event.EventReaction, reactionContent(answer, "🎉"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Client.SendMessageEvent(ctx, room, event.EventReaction, reactionContent(question, "👍")); err != nil {
		t.Fatal(err)
	}
	waitForCopy(t, svc, room, byID(resp.EventID), func(m Message) string {
		if m.ReplyTo != answer || m.Reply == nil || m.Reply.Sender != alice.ID || m.Reply.Body != "yes, noon" /* its text, not its Markdown */ {
			return fmt.Sprintf("bob's reply: %+v quote %+v", m, m.Reply)
		}
		return ""
	})
	waitForCopy(t, svc, room, byID(question), func(m Message) string {
		if got := reactionsText(m); !slices.Equal(got, []string{"👍:" + string(alice.ID) + "," + string(bob.ID) + "*"}) {
			return fmt.Sprintf("reactions to the question: %v", got)
		}
		return ""
	})
	waitForCopy(t, svc, room, byID(answer), func(m Message) string {
		if got := reactionsText(m); !slices.Equal(got, []string{"🎉:" + string(bob.ID)}) {
			return fmt.Sprintf("reactions to the answer: %v", got)
		}
		return ""
	})

	// Bob takes his back, and we take ours back through the outbox: sync says the messages
	// changed, and they show no reactions.
	if _, err := bob.Client.RedactEvent(ctx, room, party.EventID); err != nil {
		t.Fatal(err)
	}
	if err := svc.Enqueue(ctx, Outgoing{Kind: KindRedaction, Room: room, Of: like}); err != nil {
		t.Fatal(err)
	}
	flush(t, svc, 1)
	hstest.Eventually(t, 20*time.Second, func() string {
		applied, err := svc.CatchUp(ctx)
		if err != nil {
			return err.Error()
		}
		for _, m := range applied.Changed {
			if m.EventID == answer && len(m.Reactions) == 0 {
				return ""
			}
		}
		return "sync did not say the answer lost its reaction"
	})
	waitForCopy(t, svc, room, byID(question), func(m Message) string {
		if got := reactionsText(m); !slices.Equal(got, []string{"👍:" + string(bob.ID)}) {
			return fmt.Sprintf("reactions to the question after ours went: %v", got)
		}
		return ""
	})
	if err := svc.Enqueue(ctx, Outgoing{Kind: KindReaction, Room: room, Of: question}); err == nil {
		t.Fatal("an empty reaction was queued")
	}
}

// Between two duets in an encrypted DM: replies and reactions go encrypted, and each side
// reads the other's.
func TestEncryptedRepliesAndReactions(t *testing.T) {
	t.Parallel()
	ctx := hstest.Ctx(t)
	alice := newService(t, hstest.NewPerson(t, hs, "alice", "Alice"), "")
	bobP := hstest.NewPerson(t, hs, "bob", "Bob")
	bob := newService(t, bobP, "")
	catchUp(t, alice, bob)
	room := sharedDM(t, alice, bob)
	first, err := alice.SendText(ctx, room, "the secret plan", false, "")
	if err != nil {
		t.Fatal(err)
	}
	waitBody(t, bob, room, "the secret plan")
	if err := bob.Enqueue(ctx, Outgoing{Kind: KindReply, Room: room, Target: alice.Me(), Body: "count me in", ReplyTo: first}); err != nil {
		t.Fatal(err)
	}
	if err := bob.Enqueue(ctx, Outgoing{Kind: KindReaction, Room: room, Of: first, Key: "🤫"}); err != nil {
		t.Fatal(err)
	}
	flush(t, bob, 2)
	waitBody(t, alice, room, "count me in")
	msgs, err := alice.Messages(ctx, room, 10)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(msgs, func(m Message) bool { return m.Body == "count me in" })
	if r := msgs[i]; r.ReplyTo != first || r.Reply == nil || r.Reply.Body != "the secret plan" || !r.E2E {
		t.Fatalf("bob's encrypted reply: %+v quote %+v", r, r.Reply)
	}
	waitForCopy(t, alice, room, byID(first), func(m Message) string {
		if got := reactionsText(m); !slices.Equal(got, []string{"🤫:" + string(bob.Me())}) {
			return fmt.Sprintf("reactions: %v", got)
		}
		return ""
	})
	types := serverEventTypes(t, bobP.Client, room)
	if slices.Contains(types, event.EventReaction.Type) || slices.Contains(types, event.EventMessage.Type) {
		t.Fatalf("the homeserver must hold only encrypted events, it has: %v", types)
	}
}
