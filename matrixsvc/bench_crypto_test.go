package matrixsvc

import (
	"context"
	"fmt"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"duet/internal/testkit/hstest"
)

// BenchmarkDecryptMessage measures what an encrypted message costs when it reaches duet
// (sync, history, or a late key): Megolm decryption, the sender's device lookup and turning it
// into a Message. The events are real ones a duet device sent through Dendrite.
func BenchmarkDecryptMessage(b *testing.B) {
	ctx := context.Background()
	alice := newService(b, hstest.NewPerson(b, hs, "alice", "Alice"), "")
	bob := newService(b, hstest.NewPerson(b, hs, "bob", "Bob"), "")
	catchUp(b, alice, bob)
	room := sharedDM(b, alice, bob)
	const n = 100
	for i := range n {
		if _, err := alice.SendText(ctx, room, fmt.Sprintf("message %d, with a little text to it", i), false, ""); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := bob.CatchUp(ctx); err != nil {
		b.Fatal(err)
	}
	resp, err := bob.cli.Messages(ctx, room, "", "", mautrix.DirectionBackward, &mautrix.FilterPart{Types: []event.Type{event.EventEncrypted}}, n)
	if err != nil {
		b.Fatal(err)
	}
	evts := resp.Chunk
	if len(evts) < n {
		b.Fatalf("%d encrypted events", len(evts))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		evt := *evts[i%len(evts)]
		evt.RoomID = room
		evt.Content.Parsed = nil
		msg, ok := bob.message(ctx, &evt)
		if !ok || msg.Encrypted {
			b.Fatalf("not decrypted: %+v", msg)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
