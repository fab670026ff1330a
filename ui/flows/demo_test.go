package flows

import (
	"context"
	"path/filepath"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"duet/internal/demo"
	"duet/matrixsvc"
	"duet/store"
	"duet/ui"
)

// The demo as a newcomer meets it: Carol's pending invite is on top; accepting it and opening
// the conversation shows what she wrote before; Alice answers what you send.
func TestDemoWalkthrough(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d, err := demo.Start(ctx, demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "duet.db"), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sess := &store.Session{Homeserver: d.Server.URL, UserID: id.UserID(d.You.UserID), DeviceID: id.DeviceID(d.You.DeviceID), AccessToken: d.You.AccessToken}
	svc, err := matrixsvc.New(sess, st, testLog(t), withCrypto(sess, dir))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	done := make(chan struct{})
	go func() { defer close(done); svc.Run(ctx) }()
	defer func() { cancel(); <-done }()
	s := newScreen(t, svc, ui.New(svc, ui.Options{Context: ctx}))
	defer s.tm.Quit()

	// Carol shares no room with you: her invite waits under Requests, by her user ID (R24).
	s.waitFor("the seeded list", "Requests (1)", "@carol", "Alice Liddell", "Bob Builder", "Group DMs", "request")
	for range 3 { // Bob, Alice, the group, then Carol's request
		s.key(tea.KeyDown)
	}
	// Open it while the accept is still under way, as a quick hand does.
	s.typeText("a")
	s.key(tea.KeyEnter)
	s.waitFor("joined", "joined the conversation")
	s.waitFor("what carol wrote before", "green scarf")
	s.key(tea.KeyEscape)
	s.typeText("/Alice L") // the list's order follows the seeding's clock: find her by name
	s.key(tea.KeyEnter)
	s.key(tea.KeyEnter)
	s.waitFor("alice's history", "Tea or coffee?", "😂 Alice Liddell") // her reaction to the cat line, too
	s.typeText("hello alice")
	s.key(tea.KeyEnter)
	s.waitFor("alice answers, as a reply", `You said "hello alice"`, "↳ you: hello alice")
	// Alice's DM is encrypted: what went to the server was ciphertext, both ways.
	s.waitFor("the encrypted mark", "encrypted")
	// Bob upgraded his DM: duet followed him, and both rooms read as one conversation.
	s.key(tea.KeyEscape)
	s.key(tea.KeyEscape) // the filter off
	s.typeText("/Bob B")
	s.key(tea.KeyEnter)
	s.key(tea.KeyEnter)
	s.waitFor("bob's two rooms in one timeline", "Can we fix it?", "room upgraded ·", "Bringing my drill")
	s.waitFor("bob's photo of the shelf", "🖼 shelf.png (image/png")
}
