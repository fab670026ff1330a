package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

func TestSessionFileIsPrivateAndRoundTrips(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "duet", "default")
	path := filepath.Join(dir, "session.json")
	if _, err := LoadSession(path); !errors.Is(err, ErrNoSession) {
		t.Fatalf("missing session: %v, want ErrNoSession", err)
	}
	want := &Session{Homeserver: "https://hs.example", UserID: "@a:hs.example", DeviceID: "DEV", AccessToken: "secret"}
	if err := SaveSession(path, want); err != nil {
		t.Fatal(err)
	}
	for p, mode := range map[string]os.FileMode{path: 0o600, dir: 0o700} {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != mode {
			t.Errorf("%s: mode %o, want %o", p, info.Mode().Perm(), mode)
		}
	}
	got, err := LoadSession(path)
	if err != nil || *got != *want {
		t.Fatalf("LoadSession = %+v, %v", got, err)
	}
	// A logged-out session keeps its device for the next login.
	out := *want
	out.AccessToken = ""
	if err := SaveSession(path, &out); err != nil {
		t.Fatal(err)
	}
	got, err = LoadSession(path)
	if !errors.Is(err, ErrNoSession) || got == nil || got.DeviceID != "DEV" {
		t.Fatalf("logged-out session: %+v, %v", got, err)
	}
	if err := os.WriteFile(path, []byte("{broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSession(path); err == nil || errors.Is(err, ErrNoSession) {
		t.Fatalf("damaged session file: %v", err)
	}
}

func TestRoomsAccountDataAndMembers(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "duet.db")
	st, err := Open(ctx, path, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	room := &Room{ID: "!r:hs", Membership: "join", Name: "n", LastTS: 42, JoinedCount: 2, Heroes: []id.UserID{"@b:hs"},
		Unread: 3, Inviter: "@b:hs", DirectInvite: true, ServiceMembers: []id.UserID{"@bot:hs"}, Preview: "hi", PreviewSender: "@b:hs"}
	if err := st.PutRoom(ctx, room); err != nil {
		t.Fatal(err)
	}
	if err := st.SetAccountData(ctx, "m.direct", []byte(`["odd"]`)); err != nil {
		t.Fatal(err)
	}
	if err := st.State.SetMembership(ctx, "!r:hs", "@a:hs", event.MembershipJoin); err != nil {
		t.Fatal(err)
	}
	if err := st.State.SetMembership(ctx, "!r:hs", "@b:hs", event.MembershipInvite); err != nil {
		t.Fatal(err)
	}
	if err := st.State.MarkMembersFetched(ctx, "!r:hs"); err != nil {
		t.Fatal(err)
	}
	if err := st.State.SetMembership(ctx, "!unfetched:hs", "@c:hs", event.MembershipJoin); err != nil {
		t.Fatal(err)
	}
	st.Close()

	// Everything survives a restart.
	st, err = Open(ctx, path, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.Room(ctx, "!r:hs")
	if err != nil || got.Name != "n" || got.LastTS != 42 || len(got.Heroes) != 1 || !got.DirectInvite || got.ServiceMembers[0] != "@bot:hs" || got.Preview != "hi" {
		t.Fatalf("room after reopen: %+v, %v", got, err)
	}
	if _, err := st.Room(ctx, "!nope:hs"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing room: %v", err)
	}
	raw, err := st.AccountData(ctx, "m.direct")
	if err != nil || string(raw) != `["odd"]` {
		t.Fatalf("account data kept raw: %q, %v", raw, err)
	}
	members, err := st.FetchedMembers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 1 || members["!r:hs"]["@b:hs"] != event.MembershipInvite || members["!r:hs"]["@a:hs"] != event.MembershipJoin {
		t.Fatalf("fetched members: %v (rooms whose members were never fetched must not appear)", members)
	}
	// The database and SQLite's side files (the write-ahead log holds recent messages too).
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		info, err := os.Stat(f)
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("%s: mode %v, %v", f, info.Mode().Perm(), err)
		}
	}
}
