package matrixsvc

import (
	"errors"
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hostile"
	"duet/internal/testkit/hstest"
)

// roomKeysFor counts the Megolm sessions for room that a device holds.
func roomKeysFor(t *testing.T, c *hstest.CryptoPerson, room id.RoomID) int {
	t.Helper()
	sessions, err := c.Machine().CryptoStore.GetGroupSessionsForRoom(hstest.Ctx(t), room).AsList()
	if err != nil {
		t.Fatal(err)
	}
	return len(sessions)
}

// injectMember has the hostile server claim, in room's timeline, that user's membership is
// now membership, and syncs svc until the claim has been handed out.
func injectMember(t *testing.T, svc *Service, proxy *hostile.Proxy, room id.RoomID, user id.UserID, membership string) {
	t.Helper()
	done := proxy.InjectTimeline(room, proxy.NewState(user, "m.room.member", string(user),
		map[string]any{"membership": membership, "displayname": "Mallory"}))
	for {
		if _, err := svc.CatchUp(hstest.Ctx(t)); err != nil {
			t.Fatal(err)
		}
		select {
		case <-done:
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// A server that claims a stranger joined a 1:1 DM gets no room key to the stranger: the
// message for Bob goes to a room with only Bob in it, and the stranger's real device never
// receives a key for the DM.
func TestForgedMemberGetsNoRoomKey(t *testing.T) {
	ctx := hstest.Ctx(t)
	proxy := hostile.Start(t, hs.URL)
	alice := newService(t, hstest.NewPerson(t, hs, "alice", "Alice"), proxy.URL)
	bob, room := encryptedDMWithBob(t, alice)
	bob.AcceptInvitesAutomatically(t)
	mallory := hstest.NewPerson(t, hs, "mallory", "Mallory").EnableCrypto(t)

	// A first message: the room key for the two of them, the member list loaded.
	txn := alice.NewTxnID()
	if err := alice.Enqueue(ctx, Outgoing{Kind: KindText, Room: room, Target: bob.ID, Body: "before the stranger", TxnID: txn}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := alice.Deliver(ctx, txn); err != nil {
		t.Fatal(err)
	}
	bob.WaitMessage(t, room, "before the stranger", 20*time.Second)

	injectMember(t, alice, proxy, room, mallory.ID, "join")

	txn = alice.NewTxnID()
	if err := alice.Enqueue(ctx, Outgoing{Kind: KindText, Room: room, Target: bob.ID, Body: "only for bob", TxnID: txn}); err != nil {
		t.Fatal(err)
	}
	sentTo, _, err := alice.Deliver(ctx, txn)
	if err != nil {
		t.Fatalf("the message for bob was not delivered: %v", err)
	}
	bob.WaitMessage(t, sentTo, "only for bob", 30*time.Second)
	// Bob's key came in the same request as any key for mallory: give her sync a moment.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if n := roomKeysFor(t, mallory, room); n > 0 {
			t.Fatalf("mallory's device received %d room key(s) for alice's 1:1 with bob after the server forged her join", n)
		}
		if n := roomKeysFor(t, mallory, sentTo); n > 0 {
			t.Fatalf("mallory's device received %d room key(s) for the room the message went to", n)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if sentTo == room {
		t.Fatalf("the message for bob went to %s, where the server says mallory joined", room)
	}
	// Sent straight to the room m.direct lists as the 1:1: refused, not shared with mallory.
	if _, err := alice.SendText(ctx, room, "straight to the old room", false, ""); !errors.Is(err, ErrNotOneToOne) {
		t.Fatalf("sending to the 1:1 the server put mallory in: got %v, want ErrNotOneToOne", err)
	}
	if n := roomKeysFor(t, mallory, room); n > 0 {
		t.Fatalf("mallory's device received %d room key(s) for the 1:1", n)
	}
}

// R6 for the outbox: a message queued for bob in the 1:1 goes to a room of their own when a
// third person is invited into the 1:1 before it is sent.
func TestQueuedMessageLeavesARoomWithAThirdMember(t *testing.T) {
	ctx := hstest.Ctx(t)
	alice := newService(t, hstest.NewPerson(t, hs, "alice", "Alice"), "")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	carol := hstest.NewPerson(t, hs, "carol", "Carol")
	catchUp(t, alice)
	room, err := alice.CreateDM(ctx, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	bob.Join(t, room)
	txn := alice.NewTxnID()
	if err := alice.Enqueue(ctx, Outgoing{Kind: KindText, Room: room, Target: bob.ID, Body: "queued for bob alone", TxnID: txn}); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Client.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: carol.ID}); err != nil {
		t.Fatal(err)
	}
	hstest.Eventually(t, 20*time.Second, func() string {
		catchUp(t, alice)
		if m, err := alice.store.State.TryGetMember(ctx, room, carol.ID); err != nil || m == nil || m.Membership != event.MembershipInvite {
			return "alice has not seen carol's invite"
		}
		return ""
	})
	sentTo, _, err := alice.Deliver(ctx, txn)
	if err != nil {
		t.Fatal(err)
	}
	if sentTo == room {
		t.Fatalf("the message queued for bob went to %s, where carol is invited", room)
	}
	if got := bob.Bodies(t, room); slices.Contains(got, "queued for bob alone") {
		t.Fatalf("the old room has it: %v", got)
	}
}

// A 1:1 that someone else came into stays in the conversation ("shared"), so that it shows
// where that happened; a room that had three members from before stays out (R22).
func TestConversationKeepsARoomThatWasShared(t *testing.T) {
	me, x, z := id.UserID("@me:x"), id.UserID("@x:x"), id.UserID("@z:x")
	join := event.MembershipJoin
	three := map[id.UserID]event.Membership{me: join, x: join, z: join}
	rooms := map[id.RoomID]*RoomInfo{
		"!new:x":    {Membership: join, Members: map[id.UserID]event.Membership{me: join, x: join}, LastActivity: 3},
		"!shared:x": {Membership: join, Members: three, LastActivity: 2, SharedSince: 2},
		"!three:x":  {Membership: join, Members: three, LastActivity: 1},
	}
	d := Direct{x: {"!new:x", "!shared:x", "!three:x"}}
	got := ConversationWith(me, x, d, rooms)
	want := []ConversationRoom{{"!new:x", "", 3}, {"!shared:x", "shared", 2}}
	if !slices.Equal(got, want) {
		t.Fatalf("conversation: %+v, want %+v", got, want)
	}
}

// A room key that mautrix's own sharing gave a member the server made up (a verification step
// sent into the room is encrypted by the client, for every member the state store lists) is
// not used for the next message to bob: that one gets a key mallory does not have.
func TestKeySharedWithAForgedMemberIsNotReused(t *testing.T) {
	ctx := hstest.Ctx(t)
	proxy := hostile.Start(t, hs.URL)
	alice := newService(t, hstest.NewPerson(t, hs, "alice", "Alice"), proxy.URL)
	bob, room := encryptedDMWithBob(t, alice)
	mallory := hstest.NewPerson(t, hs, "mallory", "Mallory").EnableCrypto(t)
	if _, err := alice.SendText(ctx, room, "before the stranger", false, ""); err != nil {
		t.Fatal(err)
	}
	bob.WaitMessage(t, room, "before the stranger", 20*time.Second)
	injectMember(t, alice, proxy, room, mallory.ID, "join")

	// What requestInRoom does for a verification request: the client encrypts it.
	if _, err := alice.cli.SendMessageEvent(ctx, room, event.EventMessage,
		&event.MessageEventContent{MsgType: event.MsgNotice, Body: "a step of a verification"}); err != nil {
		t.Fatal(err)
	}
	hstest.Eventually(t, 20*time.Second, func() string {
		if roomKeysFor(t, mallory, room) == 0 {
			return "mallory has no key from the client's own sharing yet"
		}
		return ""
	})

	if _, err := alice.SendText(ctx, room, "for bob alone", false, ""); !errors.Is(err, ErrNotOneToOne) {
		t.Fatalf("sending to the 1:1 the server put mallory in: got %v, want ErrNotOneToOne", err)
	}
	// The member list is loaded again from the server, which has no mallory: she is gone from
	// the state store without a member event, so mautrix keeps the session she has.
	if _, err := alice.cli.Members(ctx, room); err != nil {
		t.Fatal(err)
	}
	evt, err := alice.SendText(ctx, room, "for bob alone", false, "")
	if err != nil {
		t.Fatal(err)
	}
	bob.WaitMessage(t, room, "for bob alone", 20*time.Second)
	raw, err := bob.Client.GetEvent(ctx, room, evt)
	if err != nil {
		t.Fatal(err)
	}
	session := id.SessionID(raw.Content.Raw["session_id"].(string))
	if got, err := mallory.Machine().CryptoStore.GetGroupSession(ctx, room, session); err != nil || got != nil {
		t.Fatalf("mallory holds the key of the message for bob alone (session %s): %v", session, err)
	}
}
