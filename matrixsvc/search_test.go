package matrixsvc

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"duet/internal/testkit/hstest"
)

// The quick switcher's directory search, against Dendrite's user directory: a person on the
// server is found by a part of the name; we and the people we block are not listed.
func TestSearchUsersInTheDirectory(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob Quasimodo")
	svc := newService(t, alice, "")
	ctx := hstest.Ctx(t)
	// Sharing a room puts bob in alice's directory whatever the server's settings.
	room := bob.CreateRoom(t, false, alice.ID)
	alice.Join(t, room)
	var found []DirectoryUser
	hstest.Eventually(t, 20*time.Second, func() string {
		var err error
		if found, err = svc.SearchUsers(ctx, "Quasimo", 10); err != nil {
			return err.Error()
		}
		if !slices.ContainsFunc(found, func(u DirectoryUser) bool { return u.UserID == bob.ID }) {
			return fmt.Sprintf("bob not found yet: %+v", found)
		}
		return ""
	})
	if _, _, err := svc.Block(ctx, string(bob.ID)); err != nil {
		t.Fatal(err)
	}
	found, err := svc.SearchUsers(ctx, "Quasimo", 10)
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(found, func(u DirectoryUser) bool { return u.UserID == bob.ID || u.UserID == alice.ID }) {
		t.Fatalf("a blocked person or we are listed: %+v", found)
	}
}
