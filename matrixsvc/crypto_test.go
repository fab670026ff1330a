package matrixsvc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hstest"
	"duet/store"
)

// bodies returns the texts of a room's messages as svc shows them, undecryptable ones as
// "<undecryptable: reason>".
func bodies(t *testing.T, svc *Service, room id.RoomID) []string {
	t.Helper()
	msgs, err := svc.Messages(hstest.Ctx(t), room, 50)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		if m.Encrypted {
			out = append(out, "<undecryptable: "+m.DecryptError+">")
			continue
		}
		out = append(out, m.Body)
	}
	return out
}

// waitBody syncs svc until room shows body.
func waitBody(t *testing.T, svc *Service, room id.RoomID, body string) {
	t.Helper()
	hstest.Eventually(t, 20*time.Second, func() string {
		if _, err := svc.CatchUp(hstest.Ctx(t)); err != nil {
			return err.Error()
		}
		got := bodies(t, svc, room)
		if slices.Contains(got, body) {
			return ""
		}
		return "messages: " + strings.Join(got, " | ")
	})
}

// catchUp syncs each service once (a new device uploads its keys on its first sync).
func catchUp(t testing.TB, svcs ...*Service) {
	t.Helper()
	for _, svc := range svcs {
		if _, err := svc.CatchUp(hstest.Ctx(t)); err != nil {
			t.Fatal(err)
		}
	}
}

// sharedDM is a DM alice created (encrypted: bob has a device) and bob joined.
func sharedDM(t testing.TB, alice, bob *Service) id.RoomID {
	t.Helper()
	ctx := hstest.Ctx(t)
	room, err := alice.CreateDM(ctx, bob.Me())
	if err != nil {
		t.Fatal(err)
	}
	acceptInvite(t, bob, room)
	return room
}

// acceptInvite syncs svc until the invite to room has arrived, then accepts it. Dendrite puts
// an invite in the invitee's sync stream a moment after the inviter's request returns.
func acceptInvite(t testing.TB, svc *Service, room id.RoomID) {
	t.Helper()
	ctx := hstest.Ctx(t)
	hstest.Eventually(t, 20*time.Second, func() string {
		if _, err := svc.CatchUp(ctx); err != nil {
			return err.Error()
		}
		switch err := svc.Accept(ctx, room); {
		case errors.Is(err, ErrNoInvite):
			return "the invite has not arrived"
		case err != nil:
			t.Fatal(err)
		}
		return ""
	})
}

// serverEventTypes lists the types of the non-state events the homeserver stored in a room.
func serverEventTypes(t *testing.T, cli *mautrix.Client, room id.RoomID) []string {
	t.Helper()
	resp, err := cli.Messages(hstest.Ctx(t), room, "", "", mautrix.DirectionBackward, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, evt := range resp.Chunk {
		if evt.StateKey == nil {
			types = append(types, evt.Type.Type)
		}
	}
	return types
}

func TestEncryptedDMBetweenDuets(t *testing.T) {
	ctx := hstest.Ctx(t)
	alice := newService(t, hstest.NewPerson(t, hs, "alice", "Alice"), "")
	bobP := hstest.NewPerson(t, hs, "bob", "Bob")
	bob := newService(t, bobP, "")
	catchUp(t, alice, bob)
	room, err := alice.CreateDM(ctx, bob.Me())
	if err != nil {
		t.Fatal(err)
	}
	if !alice.RoomEncrypted(ctx, room) {
		t.Fatal("a DM with someone who has a device must be encrypted (R10)")
	}
	if _, err := alice.SendText(ctx, room, "hello bob, secretly", false, ""); err != nil {
		t.Fatal(err)
	}
	acceptInvite(t, bob, room)
	waitBody(t, bob, room, "hello bob, secretly")
	if _, err := bob.SendText(ctx, room, "hi alice, also secretly", false, ""); err != nil {
		t.Fatal(err)
	}
	waitBody(t, alice, room, "hi alice, also secretly")

	types := serverEventTypes(t, bobP.Client, room)
	if slices.Contains(types, event.EventMessage.Type) || !slices.Contains(types, event.EventEncrypted.Type) {
		t.Fatalf("the homeserver must hold only encrypted messages, it has: %v", types)
	}
	// What the UI shows comes decrypted and marked as such.
	msgs, err := alice.Messages(ctx, room, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if !m.E2E || m.Encrypted {
			t.Fatalf("message %+v should be decrypted end-to-end", m)
		}
	}
}

func TestEncryptedRoomNeverGetsPlainText(t *testing.T) {
	ctx := hstest.Ctx(t)
	alice := newService(t, hstest.NewPerson(t, hs, "alice", "Alice"), "")
	bob := newService(t, hstest.NewPerson(t, hs, "bob", "Bob"), "")
	catchUp(t, alice, bob)
	room, err := alice.CreateDM(ctx, bob.Me())
	if err != nil {
		t.Fatal(err)
	}
	// The same account on a build without a crypto store must refuse, not send plain text.
	plainCfg := DefaultConfig()
	plain, err := New(&store.Session{Homeserver: alice.Homeserver(), UserID: alice.me, DeviceID: alice.cli.DeviceID,
		AccessToken: alice.cli.AccessToken}, alice.store, alice.log, plainCfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = plain.SendText(context.Background(), room, "must not leak", false, "")
	if err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Fatalf("sending without crypto to an encrypted room: err = %v", err)
	}
}

func TestDuetAnswersAnElementStyleDM(t *testing.T) {
	ctx := hstest.Ctx(t)
	alice := newService(t, hstest.NewPerson(t, hs, "alice", "Alice"), "")
	if _, err := alice.CatchUp(ctx); err != nil { // the device's keys are uploaded
		t.Fatal(err)
	}
	bob := hstest.NewPerson(t, hs, "bob", "Bob").EnableCrypto(t)
	room := bob.CreateEncryptedDM(t, alice.Me())
	bob.SendText(t, room, "hello from a mautrix device")
	acceptInvite(t, alice, room)
	waitBody(t, alice, room, "hello from a mautrix device")
	if _, err := alice.SendText(ctx, room, "hello back from duet", false, ""); err != nil {
		t.Fatal(err)
	}
	got := bob.WaitMessage(t, room, "hello back from duet", 20*time.Second)
	if !got.Decrypted || got.Sender != alice.Me() {
		t.Fatalf("bob got %+v, want a decrypted message from alice", got)
	}
	if types := serverEventTypes(t, bob.Client, room); slices.Contains(types, event.EventMessage.Type) {
		t.Fatalf("plain text on the server: %v", types)
	}
}

// encryptedDMWithBob sets up a DM that bob's mautrix device created and alice's duet device
// joined, with one message from bob read.
func encryptedDMWithBob(t *testing.T, alice *Service) (*hstest.CryptoPerson, id.RoomID) {
	t.Helper()
	ctx := hstest.Ctx(t)
	if _, err := alice.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	bob := hstest.NewPerson(t, hs, "bob", "Bob").EnableCrypto(t)
	room := bob.CreateEncryptedDM(t, alice.Me())
	bob.SendText(t, room, "first, from bob")
	acceptInvite(t, alice, room)
	waitBody(t, alice, room, "first, from bob")
	return bob, room
}

func TestEncryptedHistorySurvivesRestart(t *testing.T) {
	ctx := hstest.Ctx(t)
	p := hstest.NewPerson(t, hs, "alice", "Alice")
	sess, err := Login(ctx, LoginParams{Homeserver: hs.URL, User: string(p.ID), Password: p.Password}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	alice := openService(t, sess, dir)
	bob, room := encryptedDMWithBob(t, alice)
	alice.Close()
	alice.store.Close()

	again := openService(t, sess, dir)
	// The old message is there at once, decrypted, from the local store.
	if got := bodies(t, again, room); !slices.Contains(got, "first, from bob") {
		t.Fatalf("after a restart: %v", got)
	}
	// The same device (same keys) reads what comes next.
	bob.SendText(t, room, "second, after the restart")
	waitBody(t, again, room, "second, after the restart")
	if _, err := again.SendText(ctx, room, "still me", false, ""); err != nil {
		t.Fatal(err)
	}
	bob.WaitMessage(t, room, "still me", 20*time.Second)
}

// A UI draws its first frame before the crypto machine is loaded (the sync loop, which loads
// it, starts after that frame): a message sent in an encrypted room meanwhile waits for the
// machine and goes encrypted, never as plain text.
func TestSendBeforeCryptoIsLoadedGoesEncrypted(t *testing.T) {
	ctx := hstest.Ctx(t)
	p := hstest.NewPerson(t, hs, "alice", "Alice")
	sess, err := Login(ctx, LoginParams{Homeserver: hs.URL, User: string(p.ID), Password: p.Password}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	alice := openService(t, sess, dir)
	bob, room := encryptedDMWithBob(t, alice)
	alice.Close()
	alice.store.Close()

	again := openService(t, sess, dir)
	if again.crypt.Load() != nil {
		t.Fatal("the crypto machine is loaded before anything needs it")
	}
	if _, err := again.SendText(ctx, room, "sent before the first sync", false, ""); err != nil {
		t.Fatal(err)
	}
	got := bob.WaitMessage(t, room, "sent before the first sync", 20*time.Second)
	if !got.Decrypted {
		t.Fatalf("bob got %+v, want it decrypted", got)
	}
	if types := serverEventTypes(t, bob.Client, room); slices.Contains(types, event.EventMessage.Type) {
		t.Fatalf("plain text on the server: %v", types)
	}
}

func TestLateKeyDecryptsInPlace(t *testing.T) {
	ctx := hstest.Ctx(t)
	p := hstest.NewPerson(t, hs, "alice", "Alice")
	first := newService(t, p, "")
	bob, room := encryptedDMWithBob(t, first)

	// A second device of alice's logs in: bob's message was encrypted before it existed.
	second := newService(t, p, "")
	if _, err := second.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	msgs, err := second.Messages(ctx, room, 10)
	if err != nil {
		t.Fatal(err)
	}
	var waiting *Message
	for i := range msgs {
		if msgs[i].Encrypted {
			waiting = &msgs[i]
		}
	}
	if waiting == nil || waiting.DecryptError != "waiting for the key" {
		t.Fatalf("the new device should wait for the key, it shows %+v", msgs)
	}
	events := runLoop(t, second)

	// Bob's device forwards the room key to it, as it would answer a key request.
	mach := bob.Machine()
	sess, err := mach.CryptoStore.GetGroupSession(ctx, room, id.SessionID(waiting.sessionID))
	if err != nil || sess == nil {
		t.Fatalf("bob's session: %v %v", sess, err)
	}
	exported, err := sess.Internal.Export(sess.Internal.FirstKnownIndex())
	if err != nil {
		t.Fatal(err)
	}
	dev, err := mach.GetOrFetchDevice(ctx, second.Me(), second.DeviceID())
	if err != nil {
		t.Fatal(err)
	}
	fwd := &event.ForwardedRoomKeyEventContent{
		RoomKeyEventContent: event.RoomKeyEventContent{Algorithm: id.AlgorithmMegolmV1, RoomID: room,
			SessionID: sess.ID(), SessionKey: string(exported)},
		SenderKey: sess.SenderKey, SenderClaimedKey: sess.SigningKey, ForwardingKeyChain: []string{},
	}
	if err := mach.SendEncryptedToDevice(ctx, dev, event.ToDeviceForwardedRoomKey, event.Content{Parsed: fwd}); err != nil {
		t.Fatal(err)
	}
	events("the stored message decrypted", func(e Event) bool {
		sa, ok := e.(SyncApplied)
		return ok && slices.Contains(sa.Redecrypted, room)
	})
	if got := bodies(t, second, room); !slices.Contains(got, "first, from bob") {
		t.Fatalf("after the key came: %v", got)
	}
}

func TestRecoveryKeyRestoresHistoryOnANewDevice(t *testing.T) {
	ctx := hstest.Ctx(t)
	p := hstest.NewPerson(t, hs, "alice", "Alice")
	first := newService(t, p, "")
	if _, err := first.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, err := first.HasRecovery(ctx); err != nil || ok {
		t.Fatalf("a new account has no recovery yet: %v %v", ok, err)
	}
	if _, err := first.SetUpRecovery(ctx, "wrong password", ""); err == nil {
		t.Fatal("setting up cross-signing with a wrong password must fail")
	}
	recoveryKey, err := first.SetUpRecovery(ctx, p.Password, "")
	if err != nil {
		t.Fatal(err)
	}
	bob, room := encryptedDMWithBob(t, first)
	_ = bob
	ownWords, err := first.SendText(ctx, room, "my own words", false, "")
	if err != nil {
		t.Fatal(err)
	}
	runLoop(t, first) // the key worker backs up bob's room key and ours
	hstest.Eventually(t, 20*time.Second, func() string {
		v, err := first.cli.GetKeyBackupLatestVersion(ctx)
		if err != nil {
			return err.Error()
		}
		if v.Count < 2 {
			return fmt.Sprintf("%d keys in the backup", v.Count)
		}
		return ""
	})

	p.WaitSynced(t, ownWords) // the new device's first sync has it
	second := newService(t, p, "")
	if _, err := second.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if got := bodies(t, second, room); slices.Contains(got, "first, from bob") {
		t.Fatalf("a new device cannot read old messages before recovery: %v", got)
	}
	if _, err := second.VerifyWithRecoveryKey(ctx, "EsTj 3yST y93F SLpB jJsz eAXc 2XzA ygD3 w69H fGaN TKBj jXEd"); !errors.Is(err, ErrWrongRecoveryKey) {
		t.Fatalf("a wrong recovery key: err = %v", err)
	}
	res, err := second.VerifyWithRecoveryKey(ctx, recoveryKey)
	if err != nil {
		t.Fatal(err)
	}
	if !res.BackupFound || res.Restored < 2 || res.Decrypted < 1 {
		t.Fatalf("recovery result %+v", res)
	}
	got := bodies(t, second, room)
	if !slices.Contains(got, "first, from bob") || !slices.Contains(got, "my own words") {
		t.Fatalf("history after recovery: %v", got)
	}
	// The new device is cross-signed: the first one sees it as verified.
	hstest.Eventually(t, 20*time.Second, func() string {
		// The first device's sync loop is running: it learns of the signature by itself.
		trust, err := first.PeerTrust(ctx, first.Me())
		if err != nil {
			return err.Error()
		}
		if slices.Contains(trust.Unverified, second.DeviceID()) || trust.Devices == 0 {
			return fmt.Sprintf("trust of our devices: %+v", trust)
		}
		return ""
	})
	if trust, err := second.PeerTrust(ctx, second.Me()); err != nil || !trust.Verified {
		t.Fatalf("the recovered device should be verified: %+v %v", trust, err)
	}
}

func TestEmojiVerificationBetweenDuetDevices(t *testing.T) {
	ctx := hstest.Ctx(t)
	p := hstest.NewPerson(t, hs, "alice", "Alice")
	first, second := newService(t, p, ""), newService(t, p, "")
	catchUp(t, first, second)
	// Like a person who set up Element: the account has cross-signing, from the first device.
	if _, err := first.SetUpRecovery(ctx, p.Password, ""); err != nil {
		t.Fatal(err)
	}
	w1, w2 := runLoop(t, first), runLoop(t, second)
	stage := func(txn string, want VerifyStage) func(Event) bool {
		return func(e Event) bool {
			v, ok := e.(Verification)
			return ok && (txn == "" || v.Txn == txn) && v.Stage == want
		}
	}
	exchange := func() (txn string, emoji1, emoji2 []SASEmoji) {
		txn, err := first.StartVerification(ctx, first.Me())
		if err != nil {
			t.Fatal(err)
		}
		req := w2("a verification request", stage(txn, VerifyRequested)).(Verification)
		if req.User != first.Me() || req.Device != first.DeviceID() {
			t.Fatalf("request from %s %s", req.User, req.Device)
		}
		if err := second.AcceptVerification(ctx, txn); err != nil {
			t.Fatal(err)
		}
		e1 := w1("emoji on the first device", stage(txn, VerifyEmoji)).(Verification)
		e2 := w2("emoji on the second device", stage(txn, VerifyEmoji)).(Verification)
		return txn, e1.Emoji, e2.Emoji
	}

	txn, e1, e2 := exchange()
	if len(e1) != 7 || !slices.Equal(e1, e2) || e1[0].Name == "" {
		t.Fatalf("emoji differ: %v vs %v", e1, e2)
	}
	if err := first.ConfirmVerification(ctx, txn); err != nil {
		t.Fatal(err)
	}
	if err := second.ConfirmVerification(ctx, txn); err != nil {
		t.Fatal(err)
	}
	w1("done on the first device", stage(txn, VerifyDone))
	w2("done on the second device", stage(txn, VerifyDone))
	if trust, err := first.PeerTrust(ctx, first.Me()); err != nil || slices.Contains(trust.Unverified, second.DeviceID()) {
		t.Fatalf("after verification: %+v %v", trust, err)
	}

	// The second device says the emoji differ: both sides end cancelled.
	txn, _, _ = exchange()
	if err := second.CancelVerification(ctx, txn, true); err != nil {
		t.Fatal(err)
	}
	c := w1("cancelled on the first device", stage(txn, VerifyCancelled)).(Verification)
	if !strings.Contains(c.Reason, "did not match") {
		t.Fatalf("reason %q", c.Reason)
	}
}

// Verifying another person happens in the DM (encrypted here), as Element does it.
func TestEmojiVerificationWithAnotherPersonInTheDM(t *testing.T) {
	ctx := hstest.Ctx(t)
	alice := newService(t, hstest.NewPerson(t, hs, "alice", "Alice"), "")
	bobP := hstest.NewPerson(t, hs, "bob", "Bob")
	bob := newService(t, bobP, "")
	catchUp(t, alice, bob)
	room := sharedDM(t, alice, bob)
	if trust, err := alice.PeerTrust(ctx, bob.Me()); err != nil || trust.Verified || trust.Devices != 1 {
		t.Fatalf("before: %+v %v", trust, err)
	}
	wa, wb := runLoop(t, alice), runLoop(t, bob)
	stage := func(want VerifyStage) func(Event) bool {
		return func(e Event) bool { v, ok := e.(Verification); return ok && v.Stage == want }
	}
	txn, err := alice.StartVerification(ctx, bob.Me())
	if err != nil {
		t.Fatal(err)
	}
	req := wb("the request, in the DM", stage(VerifyRequested)).(Verification)
	if req.User != alice.Me() {
		t.Fatalf("request from %s", req.User)
	}
	if err := bob.AcceptVerification(ctx, req.Txn); err != nil {
		t.Fatal(err)
	}
	ea := wa("alice's emoji", stage(VerifyEmoji)).(Verification)
	eb := wb("bob's emoji", stage(VerifyEmoji)).(Verification)
	if !slices.Equal(ea.Emoji, eb.Emoji) || ea.Txn != txn {
		t.Fatalf("emoji differ: %v / %v", ea.Emoji, eb.Emoji)
	}
	if err := alice.ConfirmVerification(ctx, txn); err != nil {
		t.Fatal(err)
	}
	if err := bob.ConfirmVerification(ctx, req.Txn); err != nil {
		t.Fatal(err)
	}
	wa("done for alice", stage(VerifyDone))
	wb("done for bob", stage(VerifyDone))
	if trust, err := alice.PeerTrust(ctx, bob.Me()); err != nil || !trust.Verified || len(trust.Unverified) != 0 {
		t.Fatalf("after: %+v %v", trust, err)
	}
	// Bob logs in somewhere new and does not verify it: alice is told.
	newer := newService(t, bobP, "")
	if _, err := newer.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	hstest.Eventually(t, 20*time.Second, func() string {
		trust, err := alice.PeerTrust(ctx, bob.Me())
		if err != nil {
			return err.Error()
		}
		if !trust.Verified || !slices.Equal(trust.Unverified, []id.DeviceID{newer.DeviceID()}) {
			return fmt.Sprintf("alice's view of bob: %+v", trust)
		}
		return ""
	})
	// The verification events went through the room encrypted, and are not shown as messages.
	for _, typ := range serverEventTypes(t, bob.cli, room) {
		if strings.HasPrefix(typ, "m.key.verification") {
			t.Fatalf("a verification event in the clear: %s", typ)
		}
	}
}

// alice (duet) starts the DM with bob, whose device is a mautrix client: encrypted, read both
// ways, ciphertext only on the server.
func TestDuetStartsAnEncryptedDMWithAMautrixDevice(t *testing.T) {
	ctx := hstest.Ctx(t)
	alice := newService(t, hstest.NewPerson(t, hs, "alice", "Alice"), "")
	if _, err := alice.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	bob := hstest.NewPerson(t, hs, "bob", "Bob").EnableCrypto(t)
	room, err := alice.CreateDM(ctx, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !alice.RoomEncrypted(ctx, room) {
		t.Fatal("not encrypted although bob has a device")
	}
	if _, err := alice.SendText(ctx, room, "hi bob, from duet", false, ""); err != nil {
		t.Fatal(err)
	}
	bob.JoinWhenInvited(t, room)
	if m := bob.WaitMessage(t, room, "hi bob, from duet", 20*time.Second); !m.Decrypted {
		t.Fatalf("bob got %+v", m)
	}
	bob.SendText(t, room, "hi alice, from mautrix")
	waitBody(t, alice, room, "hi alice, from mautrix")
	types := serverEventTypes(t, bob.Client, room)
	if slices.Contains(types, event.EventMessage.Type) || !slices.Contains(types, event.EventEncrypted.Type) {
		t.Fatalf("the homeserver must hold only encrypted messages, it has: %v", types)
	}
}

func TestWellKnownCanTurnEncryptionOff(t *testing.T) {
	for body, off := range map[string]bool{
		`{"m.homeserver":{"base_url":"x"},"io.element.e2ee":{"default":false}}`: true,
		`{"m.homeserver":{"base_url":"x"},"io.element.e2ee":{"default":true}}`:  false,
		`{"m.homeserver":{"base_url":"x"}}`:                                     false,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(body)) }))
		got, ok := fetchE2EEDefaultOff(context.Background(), srv.URL+"/.well-known/matrix/client")
		srv.Close()
		if !ok || got != off {
			t.Errorf("%s: off=%v ok=%v, want off=%v", body, got, ok, off)
		}
	}
	if _, ok := fetchE2EEDefaultOff(context.Background(), "http://127.0.0.1:9/.well-known/matrix/client"); ok {
		t.Error("an unreachable .well-known must leave encryption on")
	}
}

func TestVerificationRequestIsNotAMessage(t *testing.T) {
	for _, parsed := range []bool{false, true} {
		evt := &event.Event{Type: event.EventMessage, ID: "$x", Sender: "@a:b",
			Content: event.Content{VeryRaw: []byte(`{"msgtype":"m.key.verification.request","body":"@a:b is requesting to verify","to":"@c:d","from_device":"D","methods":["m.sas.v1"]}`)}}
		if parsed {
			_ = evt.Content.ParseRaw(evt.Type)
		}
		if _, ok := toMessage(evt); ok {
			t.Fatalf("a verification request (parsed %v) is shown as a message", parsed)
		}
	}
}
