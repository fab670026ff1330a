package matrixsvc

import (
	"testing"
	"time"

	"maunium.net/go/mautrix/event"

	"duet/internal/testkit/hostile"
	"duet/internal/testkit/hstest"
)

// We verify our own devices with to-device requests; a request in a room "from" ourselves is
// never one of ours coming back (ours in a room go to the other person), so it is the server's
// making: it must not be offered as a request from one of our own devices. Nor is a plain-text
// request "from" the other person in the encrypted DM: theirs come encrypted. Their real,
// encrypted request still is offered (the control, later in the same stream).
func TestInRoomVerificationRequestFromOurselvesIsIgnored(t *testing.T) {
	p := hstest.NewPerson(t, hs, "alice", "Alice")
	proxy := hostile.Start(t, hs.URL)
	alice := newService(t, p, proxy.URL)
	bob, room := encryptedDMWithBob(t, alice)
	events := runLoop(t, alice)

	request := func(sender, device string) hostile.Event {
		evt := proxy.NewEvent(alice.Me(), "m.room.message", map[string]any{
			"msgtype": "m.key.verification.request", "body": sender + " is requesting to verify your key",
			"to": string(alice.Me()), "from_device": device, "methods": []string{"m.sas.v1"},
			"timestamp": time.Now().UnixMilli(),
		})
		evt["sender"] = sender
		return evt
	}
	<-proxy.InjectTimeline(room, request(string(alice.Me()), "NOTMYDEVICE"))
	// In plain text in the encrypted DM, "from" bob: the server's making too.
	<-proxy.InjectTimeline(room, request(string(bob.ID), "BOBSDEVICE"))
	// bob's real request, encrypted as his client sends it in an encrypted room.
	if _, err := bob.CryptoClient.SendMessageEvent(hstest.Ctx(t), room, event.EventMessage, map[string]any{
		"msgtype": "m.key.verification.request", "body": "bob is requesting to verify your key",
		"to": string(alice.Me()), "from_device": string(bob.DeviceID()), "methods": []string{"m.sas.v1"},
		"timestamp": time.Now().UnixMilli(),
	}); err != nil {
		t.Fatal(err)
	}
	got := events("a verification request", func(e Event) bool {
		_, ok := e.(Verification)
		return ok
	}).(Verification)
	if got.User != bob.ID || got.Device != bob.DeviceID() {
		t.Fatalf("a request the server made up is offered: %+v", got)
	}
}
