// Package hstest helps integration tests drive real accounts on the test homeserver: the "other
// person" in a DM test is a plain mautrix client, never duet itself. Only tests import it.
package hstest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/homeserver"
	"duet/internal/testkit/dendrite"
)

// Main starts one homeserver for a test package and runs its tests. Start failures fail the
// package; only an explicit developer opt-out (never in CI) skips it.
func Main(m interface{ Run() int }, srv **homeserver.Server) {
	s, stop, err := dendrite.StartShared()
	if errors.Is(err, dendrite.ErrOptedOut) {
		fmt.Println(err)
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: cannot start the test homeserver:", err)
		os.Exit(1)
	}
	*srv = s
	code := m.Run()
	stop()
	os.Exit(code)
}

// OwnServer starts a homeserver for one test alone, stopped when the test ends: for tests that
// kill, restart or freeze it, which the package's shared server must never see. Its internal
// queues are on disk, as in a real deployment.
func OwnServer(t testing.TB) *dendrite.FaultServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := dendrite.BinDir(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := dendrite.StartFaulty(ctx, bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Error(err)
		}
	})
	return srv
}

// Person is a real account driven by plain mautrix calls.
type Person struct {
	*homeserver.Account
	ID     id.UserID
	Client *mautrix.Client
}

// NewPerson registers a fresh account with a random localpart.
func NewPerson(t testing.TB, srv *homeserver.Server, prefix, displayName string) *Person {
	t.Helper()
	ctx := context.Background()
	acc, err := srv.Register(ctx, dendrite.RandomLocalpart(prefix), "pw-"+dendrite.RandomLocalpart("x"), displayName)
	if err != nil {
		t.Fatalf("register %s: %v", prefix, err)
	}
	cli, err := mautrix.NewClient(srv.URL, id.UserID(acc.UserID), acc.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	cli.DeviceID = id.DeviceID(acc.DeviceID)
	return &Person{Account: acc, ID: id.UserID(acc.UserID), Client: cli}
}

// Ctx is a context for one test step.
func Ctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// DirectRaw returns the person's m.direct content exactly as the server has it (nil if none).
func (p *Person) DirectRaw(t testing.TB) []byte {
	t.Helper()
	var raw json.RawMessage
	err := p.Client.GetAccountData(Ctx(t), event.AccountDataDirectChats.Type, &raw)
	if errors.Is(err, mautrix.MNotFound) {
		return nil
	} else if err != nil {
		t.Fatalf("get m.direct of %s: %v", p.ID, err)
	}
	return raw
}

// Direct returns the person's m.direct as a map, skipping entries that are not lists of strings
// (fails the test when it is not an object).
func (p *Person) Direct(t testing.TB) map[string][]string {
	t.Helper()
	raw := p.DirectRaw(t)
	out := map[string][]string{}
	if raw == nil {
		return out
	}
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		t.Fatalf("m.direct of %s is not an object: %s", p.ID, raw)
	}
	for user, list := range entries {
		var rooms []string
		if json.Unmarshal(list, &rooms) == nil {
			out[user] = rooms
		}
	}
	return out
}

// SetDirectRaw writes m.direct content as given.
func (p *Person) SetDirectRaw(t testing.TB, raw string) {
	t.Helper()
	if err := p.Client.SetAccountData(Ctx(t), event.AccountDataDirectChats.Type, json.RawMessage(raw)); err != nil {
		t.Fatalf("set m.direct of %s: %v", p.ID, err)
	}
}

// CreateRoom creates a room with the given invitees; direct sets is_direct on the invites.
func (p *Person) CreateRoom(t testing.TB, direct bool, invite ...id.UserID) id.RoomID {
	t.Helper()
	req := &mautrix.ReqCreateRoom{Preset: "trusted_private_chat", Invite: invite, IsDirect: direct}
	resp, err := p.Client.CreateRoom(Ctx(t), req)
	if err != nil {
		t.Fatalf("%s creates a room: %v", p.ID, err)
	}
	return resp.RoomID
}

// Join joins a room.
func (p *Person) Join(t testing.TB, room id.RoomID) {
	t.Helper()
	if _, err := p.Client.JoinRoomByID(Ctx(t), room); err != nil {
		t.Fatalf("%s joins %s: %v", p.ID, room, err)
	}
}

// Leave leaves a room.
func (p *Person) Leave(t testing.TB, room id.RoomID) {
	t.Helper()
	if _, err := p.Client.LeaveRoom(Ctx(t), room); err != nil {
		t.Fatalf("%s leaves %s: %v", p.ID, room, err)
	}
}

// Upgrade upgrades room to room version 10 the way Element's /upgrade does (the server makes
// the replacement and puts a tombstone in room), and returns the replacement.
func (p *Person) Upgrade(t testing.TB, room id.RoomID) id.RoomID {
	t.Helper()
	var resp struct {
		Replacement id.RoomID `json:"replacement_room"`
	}
	url := p.Client.BuildClientURL("v3", "rooms", room, "upgrade")
	if _, err := p.Client.MakeRequest(Ctx(t), "POST", url, map[string]string{"new_version": "10"}, &resp); err != nil {
		t.Fatalf("%s upgrades %s: %v", p.ID, room, err)
	}
	return resp.Replacement
}

// Say sends a text message.
func (p *Person) Say(t testing.TB, room id.RoomID, text string) id.EventID {
	t.Helper()
	resp, err := p.Client.SendText(Ctx(t), room, text)
	if err != nil {
		t.Fatalf("%s says %q in %s: %v", p.ID, text, room, err)
	}
	return resp.EventID
}

// SendEvent sends a message event of any type with content as given, in plaintext (Client has
// no encryption), and returns its ID.
func (p *Person) SendEvent(t testing.TB, room id.RoomID, typ string, content map[string]any) id.EventID {
	t.Helper()
	evtType := event.Type{Type: typ, Class: event.MessageEventType}
	resp, err := p.Client.SendMessageEvent(Ctx(t), room, evtType, content)
	if err != nil {
		t.Fatalf("%s sends a %s to %s: %v", p.ID, typ, room, err)
	}
	return resp.EventID
}

// SendState sets the room state of type typ and key stateKey to content and returns the event's
// ID.
func (p *Person) SendState(t testing.TB, room id.RoomID, typ, stateKey string, content map[string]any) id.EventID {
	t.Helper()
	evtType := event.Type{Type: typ, Class: event.StateEventType}
	resp, err := p.Client.SendStateEvent(Ctx(t), room, evtType, stateKey, content)
	if err != nil {
		t.Fatalf("%s sets %s %q in %s: %v", p.ID, typ, stateKey, room, err)
	}
	return resp.EventID
}

// RawEvents returns the newest 50 events of the room as the server hands them to p's plain
// client, oldest first: for checking what was put on the server (its type, its relation, that
// it is ciphertext). Contents are not parsed; read Content.VeryRaw.
func (p *Person) RawEvents(t testing.TB, room id.RoomID) []*event.Event {
	t.Helper()
	resp, err := p.Client.Messages(Ctx(t), room, "", "", mautrix.DirectionBackward, nil, 50)
	if err != nil {
		t.Fatalf("%s reads %s: %v", p.ID, room, err)
	}
	out := make([]*event.Event, 0, len(resp.Chunk))
	for i := len(resp.Chunk) - 1; i >= 0; i-- {
		out = append(out, resp.Chunk[i])
	}
	return out
}

// Bodies returns the text bodies of the newest messages in a room, oldest first: what can be
// read there, so deleted messages are left out.
func (p *Person) Bodies(t testing.TB, room id.RoomID) []string {
	t.Helper()
	resp, err := p.Client.Messages(Ctx(t), room, "", "", mautrix.DirectionBackward, &mautrix.FilterPart{Types: []event.Type{event.EventMessage}}, 50)
	if err != nil {
		t.Fatalf("%s reads %s: %v", p.ID, room, err)
	}
	var out []string
	for i := len(resp.Chunk) - 1; i >= 0; i-- {
		evt := resp.Chunk[i]
		if evt.Unsigned.RedactedBecause != nil {
			continue
		}
		_ = evt.Content.ParseRaw(evt.Type)
		if c, ok := evt.Content.Parsed.(*event.MessageEventContent); ok {
			out = append(out, c.Body)
		}
	}
	return out
}

// JoinedRooms lists the rooms the person is in.
func (p *Person) JoinedRooms(t testing.TB) []id.RoomID {
	t.Helper()
	resp, err := p.Client.JoinedRooms(Ctx(t))
	if err != nil {
		t.Fatalf("joined rooms of %s: %v", p.ID, err)
	}
	return resp.JoinedRooms
}

// Eventually retries check until it returns "" or timeout passes, then fails with its last
// complaint. The homeserver delivers events to other users' /sync with a small delay.
func Eventually(t testing.TB, timeout time.Duration, check func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", timeout, msg)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// WaitSynced waits until p's /sync from scratch shows what the server already has: p's
// m.direct and ignore list as the server returns them now, and each of the events given (in a
// timeline or as state). Dendrite's sync catches up with a write a moment after the write
// returns, so a test whose next sync must see a write waits here first.
func (p *Person) WaitSynced(t testing.TB, evts ...id.EventID) {
	t.Helper()
	types := []event.Type{event.AccountDataDirectChats, event.AccountDataIgnoredUserList}
	want := map[string]any{}
	for _, typ := range types {
		var raw json.RawMessage
		err := p.Client.GetAccountData(Ctx(t), typ.Type, &raw)
		if errors.Is(err, mautrix.MNotFound) {
			continue
		} else if err != nil {
			t.Fatalf("get %s of %s: %v", typ.Type, p.ID, err)
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s of %s: %v", typ.Type, p.ID, err)
		}
		want[typ.Type] = v
	}
	Eventually(t, 20*time.Second, func() string {
		resp, err := p.Client.SyncRequest(Ctx(t), 0, "", "", true, event.PresenceOffline)
		if err != nil {
			return err.Error()
		}
		synced := map[string]any{}
		for _, evt := range resp.AccountData.Events {
			if slices.Contains(types, evt.Type) {
				var v any
				if err := json.Unmarshal(evt.Content.VeryRaw, &v); err != nil {
					return err.Error()
				}
				synced[evt.Type.Type] = v
			}
		}
		if !reflect.DeepEqual(synced, want) {
			return fmt.Sprintf("%s's sync has account data %v, the server %v", p.ID, synced, want)
		}
		seen := map[id.EventID]bool{}
		for _, room := range resp.Rooms.Join {
			for _, evt := range append(room.State.Events, room.Timeline.Events...) {
				seen[evt.ID] = true
			}
		}
		for _, e := range evts {
			if !seen[e] {
				return fmt.Sprintf("%s's sync lacks %s", p.ID, e)
			}
		}
		return ""
	})
}
