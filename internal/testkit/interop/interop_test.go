package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"duet/internal/homeserver"
	"duet/internal/testkit/hstest"
)

var hs *homeserver.Server

func TestMain(m *testing.M) {
	hstest.Main(m, &hs)
}

// startClient starts the matrix-js-sdk client for p and stops it when the test ends, showing its
// stderr when the test failed.
func startClient(ctx context.Context, t *testing.T, p *hstest.Person) (*Client, error) {
	c, err := Start(ctx, hs.URL, string(p.ID), p.Password)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("closing the client of %s: %v", p.ID, err)
		}
		if t.Failed() {
			t.Logf("stderr of the client of %s:\n%s", p.ID, c.Stderr())
		}
	})
	return c, nil
}

func do(t *testing.T, c *Client, cmd map[string]any) map[string]any {
	t.Helper()
	reply, err := c.Do(hstest.Ctx(t), cmd)
	if err != nil {
		t.Fatal(err)
	}
	return reply
}

// Two clients on Element's SDK talk in an encrypted DM that one of them created the way Element
// does: each reads the other's message decrypted, and the server stores only ciphertext.
func TestEncryptedDMBetweenTwoJSClients(t *testing.T) {
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")

	var a, b *Client
	g, gctx := errgroup.WithContext(hstest.Ctx(t))
	g.Go(func() (err error) { a, err = startClient(gctx, t, alice); return err })
	g.Go(func() (err error) { b, err = startClient(gctx, t, bob); return err })
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if a.DeviceID == "" || a.DeviceID == alice.DeviceID || b.DeviceID == "" {
		t.Fatalf("device IDs: alice's client %q (registration device %q), bob's client %q", a.DeviceID, alice.DeviceID, b.DeviceID)
	}

	room, _ := do(t, a, map[string]any{"cmd": "create_dm", "user": string(bob.ID)})["room_id"].(string)
	if room == "" {
		t.Fatal("create_dm answered no room_id")
	}
	if got := alice.Direct(t)[string(bob.ID)]; !slices.Contains(got, room) {
		t.Errorf("alice's m.direct lists %v for bob, want it to contain %s", got, room)
	}

	hstest.Eventually(t, 20*time.Second, func() string {
		raw, _ := json.Marshal(do(t, b, map[string]any{"cmd": "invites"})["invites"])
		var invites []struct {
			RoomID   string `json:"room_id"`
			Inviter  string `json:"inviter"`
			IsDirect bool   `json:"is_direct"`
		}
		_ = json.Unmarshal(raw, &invites)
		for _, inv := range invites {
			if inv.RoomID == room {
				if inv.Inviter != string(alice.ID) || !inv.IsDirect {
					t.Fatalf("bob's invite to %s: inviter %q, is_direct %v; want %s, true", room, inv.Inviter, inv.IsDirect, alice.ID)
				}
				return ""
			}
		}
		return fmt.Sprintf("bob's invites %s do not include %s", raw, room)
	})
	do(t, b, map[string]any{"cmd": "join", "room": room})

	sent := map[string]string{} // event ID -> body
	exchange := func(from, to *Client, fromPerson *hstest.Person, body string) {
		t.Helper()
		reply := do(t, from, map[string]any{"cmd": "send", "room": room, "body": body})
		eventID, _ := reply["event_id"].(string)
		if reply["encrypted"] != true || eventID == "" {
			t.Fatalf("send %q: %v; want an event ID and encrypted true", body, reply)
		}
		sent[eventID] = body
		got := do(t, to, map[string]any{"cmd": "wait_message", "room": room, "body": body, "timeout_ms": 20000})
		if got["sender"] != string(fromPerson.ID) || got["event_id"] != eventID || got["was_encrypted"] != true {
			t.Errorf("received %q: %v; want sender %s, event_id %s, was_encrypted true", body, got, fromPerson.ID, eventID)
		}
	}
	exchange(a, b, alice, "hello bob, from alice's js client")
	exchange(b, a, bob, "hi alice, bob here")

	// A message that arrived before the command counts; a timeout names what was seen.
	first := do(t, b, map[string]any{"cmd": "wait_message", "room": room, "body": "hello bob, from alice's js client", "timeout_ms": 1000})
	if first["sender"] != string(alice.ID) {
		t.Errorf("waiting again for alice's message: %v", first)
	}
	_, err := b.Do(hstest.Ctx(t), map[string]any{"cmd": "wait_message", "room": room, "body": "never sent", "timeout_ms": 300})
	if err == nil || !strings.Contains(err.Error(), `"hi alice, bob here"`) {
		t.Errorf("waiting for a message never sent: %v; want a timeout listing the bodies seen", err)
	}
	raw, _ := json.Marshal(do(t, a, map[string]any{"cmd": "messages", "room": room})["messages"])
	var seen []struct {
		Body         string  `json:"body"`
		Sender       string  `json:"sender"`
		WasEncrypted bool    `json:"was_encrypted"`
		Undecrypted  *string `json:"undecryptable"`
	}
	if err := json.Unmarshal(raw, &seen); err != nil || len(seen) != 2 {
		t.Fatalf("alice's client sees messages %s; want the two sent", raw)
	}
	for _, m := range seen {
		if m.Undecrypted != nil || !m.WasEncrypted || !slices.Contains(slices.Collect(maps.Values(sent)), m.Body) {
			t.Errorf("alice's client sees %+v; want one of the sent bodies, decrypted, was_encrypted", m)
		}
	}

	// A device of bob's that did not exist when alice sent was given no key: it sees the message
	// and cannot read it, and wait_message says so.
	late, err := startClient(hstest.Ctx(t), t, bob)
	if err != nil {
		t.Fatal(err)
	}
	_, err = late.Do(hstest.Ctx(t), map[string]any{"cmd": "wait_message", "room": room, "body": "hello bob, from alice's js client", "timeout_ms": 2000})
	if err == nil || !strings.Contains(err.Error(), "<undecryptable: ") {
		t.Errorf("bob's new device waits for alice's earlier message: %v; want a timeout listing it as undecryptable", err)
	}

	// What the homeserver stores: ciphertext only.
	events := roomMessages(t, alice, room)
	encrypted := map[string]bool{}
	for _, evt := range events {
		switch evt.Type {
		case "m.room.message":
			t.Errorf("the server stores a plaintext m.room.message %s from %s", evt.EventID, evt.Sender)
		case "m.room.encrypted":
			encrypted[evt.EventID] = true
		}
	}
	for eventID, body := range sent {
		if !encrypted[eventID] {
			t.Errorf("%q (%s) is not an m.room.encrypted event in the room's stored timeline", body, eventID)
		}
	}
}

type rawEvent struct {
	Type    string `json:"type"`
	EventID string `json:"event_id"`
	Sender  string `json:"sender"`
}

// roomMessages reads a room's timeline from the server with a plain /messages request, newest
// first, as p (with the access token of p's registration).
func roomMessages(t *testing.T, p *hstest.Person, room string) []rawEvent {
	t.Helper()
	u := hs.URL + "/_matrix/client/v3/rooms/" + url.PathEscape(room) + "/messages?dir=b&limit=100"
	req, err := http.NewRequestWithContext(hstest.Ctx(t), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+p.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Chunk []rawEvent `json:"chunk"`
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /messages: HTTP %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatalf("GET /messages: %v", err)
	}
	if len(page.Chunk) == 0 {
		t.Fatal("GET /messages: no events")
	}
	return page.Chunk
}
