package matrixsvc

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hstest"
)

// In an encrypted DM, a poll from bob's mautrix device is answered by duet encrypted: the
// server holds only m.room.encrypted, and bob's device decrypts it to a poll response for his
// poll. Bob's encrypted vote counts; a vote made up in plain text (as a server could) does not.
func TestVoteInAnEncryptedDMIsEncrypted(t *testing.T) {
	ctx := hstest.Ctx(t)
	alice := newService(t, hstest.NewPerson(t, hs, "alice", "Alice"), "")
	bob, room := encryptedDMWithBob(t, alice)

	pollType := event.Type{Type: "org.matrix.msc3381.poll.start", Class: event.MessageEventType}
	sent, err := bob.CryptoClient.SendMessageEvent(ctx, room, pollType, map[string]any{
		"org.matrix.msc3381.poll.start": map[string]any{
			"kind": "org.matrix.msc3381.poll.disclosed", "max_selections": 1,
			"question": map[string]any{"org.matrix.msc1767.text": "Secret lunch?"},
			"answers": []map[string]any{
				{"id": "pizza", "org.matrix.msc1767.text": "Pizza"},
				{"id": "soup", "org.matrix.msc1767.text": "Soup"},
			},
		},
		"org.matrix.msc1767.text": "Secret lunch?\n1. Pizza\n2. Soup",
	})
	if err != nil {
		t.Fatal(err)
	}
	poll := sent.EventID
	waitBody(t, alice, room, "Secret lunch?")

	respType := event.Type{Type: "org.matrix.msc3381.poll.response", Class: event.MessageEventType}
	response := func(answer string) map[string]any {
		return map[string]any{
			"org.matrix.msc3381.poll.response": map[string]any{"answers": []string{answer}},
			"m.relates_to":                     map[string]any{"rel_type": "m.reference", "event_id": poll},
		}
	}
	if _, err := bob.CryptoClient.SendMessageEvent(ctx, room, respType, response("pizza")); err != nil {
		t.Fatal(err)
	}
	// Later, in plain text from bob's account: a server could send this in his name.
	if _, err := bob.Client.SendMessageEvent(ctx, room, respType, response("soup")); err != nil {
		t.Fatal(err)
	}

	txn := alice.NewTxnID()
	if err := alice.Enqueue(ctx, Outgoing{Kind: KindVote, Room: room, Of: poll, Answers: []string{"soup"}, TxnID: txn}); err != nil {
		t.Fatal(err)
	}
	_, vote, err := alice.Deliver(ctx, txn)
	if err != nil {
		t.Fatal(err)
	}

	// On the server: ciphertext only. (Dendrite may answer 404 for a moment after the send:
	// its reading side catches up with its writing side.)
	var raw *event.Event
	hstest.Eventually(t, 20*time.Second, func() string {
		raw, err = bob.Client.GetEvent(ctx, room, vote)
		if err != nil {
			return err.Error()
		}
		return ""
	})
	if raw.Type != event.EventEncrypted {
		t.Fatalf("the vote is on the server as %s: %s", raw.Type.Type, raw.Content.VeryRaw)
	}
	types := serverEventTypes(t, bob.Client, room)
	plainResponses := 0
	for _, typ := range types {
		if typ == "org.matrix.msc3381.poll.response" {
			plainResponses++
		}
	}
	if slices.Contains(types, "org.matrix.msc3381.poll.start") || plainResponses != 1 {
		t.Fatalf("plain poll events on the server besides bob's made-up one: %v", types)
	}

	// Bob's device reads it as alice's vote for soup on his poll.
	hstest.Eventually(t, 20*time.Second, func() string {
		evt, err := bob.Client.GetEvent(ctx, room, vote)
		if err != nil {
			return err.Error()
		}
		if err := evt.Content.ParseRaw(evt.Type); err != nil {
			return err.Error()
		}
		dec, err := bob.Machine().DecryptMegolmEvent(ctx, evt)
		if err != nil {
			return "bob's device cannot decrypt the vote yet: " + err.Error()
		}
		var content struct {
			Response struct {
				Answers []string `json:"answers"`
			} `json:"org.matrix.msc3381.poll.response"`
			Rel struct {
				Type    string     `json:"rel_type"`
				EventID id.EventID `json:"event_id"`
			} `json:"m.relates_to"`
		}
		if err := json.Unmarshal(dec.Content.VeryRaw, &content); err != nil {
			return err.Error()
		}
		if dec.Type.Type != "org.matrix.msc3381.poll.response" || dec.Sender != alice.Me() || content.Rel.Type != "m.reference" ||
			content.Rel.EventID != poll || !slices.Equal(content.Response.Answers, []string{"soup"}) {
			t.Fatalf("bob decrypted %s from %s: %s", dec.Type.Type, dec.Sender, dec.Content.VeryRaw)
		}
		return ""
	})

	// Alice counts her vote and bob's encrypted one, not the plain one.
	hstest.Eventually(t, 20*time.Second, func() string {
		if _, err := alice.CatchUp(ctx); err != nil {
			return err.Error()
		}
		m, err := alice.PollMessage(ctx, room, poll)
		if err != nil {
			return err.Error()
		}
		p := m.Poll
		got := fmt.Sprintf("pizza=%d soup=%d voters=%d mine=%v", p.Answers[0].Count, p.Answers[1].Count, p.Voters, p.Mine)
		if got != "pizza=1 soup=1 voters=2 mine=[soup]" {
			return got
		}
		return ""
	})
}
