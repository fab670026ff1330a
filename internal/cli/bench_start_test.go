package cli_test

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"duet/internal/cli"
	"duet/internal/paths"
	"duet/internal/testkit/fixture"
	"duet/store"
	"duet/ui/contacts"
	"duet/ui/conversation"
	"duet/ui/styles"
)

// warmProfile is a profile logged in to a fixture server of spec whose store has caught up with
// it once (the initial sync), as after any earlier run of duet.
func warmProfile(b *testing.B, spec fixture.Spec) (cli.Env, paths.Profile, *fixture.Server) {
	b.Helper()
	ctx := context.Background()
	base := b.TempDir()
	env := cli.Env{
		Dirs: paths.Dirs{Config: filepath.Join(base, "config"), Data: filepath.Join(base, "data"),
			State: filepath.Join(base, "state"), Cache: filepath.Join(base, "cache")},
		Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard,
	}
	prof, err := env.Dirs.ForProfile("bench")
	if err != nil {
		b.Fatal(err)
	}
	srv := fixture.NewServer(spec, fixture.Options{})
	b.Cleanup(srv.Close)
	if err := store.SaveSession(prof.SessionFile(), srv.Session()); err != nil {
		b.Fatal(err)
	}
	app, err := cli.OpenApp(ctx, env, prof)
	if err != nil {
		b.Fatal(err)
	}
	defer app.Close()
	if _, err := app.Svc.CatchUp(ctx); err != nil {
		b.Fatalf("populate the store: %v", err)
	}
	return env, prof, srv
}

func msPerOp(b *testing.B, d time.Duration, unit string) {
	b.ReportMetric(float64(d.Microseconds())/1000/float64(b.N), unit)
}

// BenchmarkStartToContacts is process start to the contacts list drawn, warm store, 1,000 DMs
// (issue 4, goal <= 50 ms). One op is what duet does before its first frame, with no network:
// OpenApp (session file, log file, store.Open with its migrations check, matrixsvc.New),
// Overview from the store, and the contacts pane built and rendered at 100x40; then the store is
// closed again. start-ms is the time to the rendered pane (open-ms + overview-ms + render-ms);
// ns/op also counts the close. Go runtime start and terminal setup are not included.
func BenchmarkStartToContacts(b *testing.B) {
	const dms = 1000
	env, prof, srv := warmProfile(b, fixture.Spec{DMs: dms, Msgs: 10})
	ctx := context.Background()
	var open, overview, render time.Duration
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		app, err := cli.OpenApp(ctx, env, prof)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		ov, err := app.Svc.Overview(ctx)
		if err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		list := contacts.New(contacts.DefaultKeyMap(), styles.Default().Contacts, time.Now)
		list.SetSize(100, 40)
		list.Focus()
		list.SetOverview(ov, app.Svc.Me())
		view := list.View()
		t3 := time.Now()
		app.Close()
		open += t1.Sub(t0)
		overview += t2.Sub(t1)
		render += t3.Sub(t2)
		if len(ov.Contacts) != dms || !strings.Contains(view, fixture.ContactName(0)[:8]) {
			b.Fatalf("%d contacts; the pane shows:\n%s", len(ov.Contacts), view)
		}
	}
	if u := srv.Unexpected(); len(u) > 0 {
		b.Fatalf("requests outside the fixture: %v", u)
	}
	msPerOp(b, open+overview+render, "start-ms/op")
	msPerOp(b, open, "open-ms/op")
	msPerOp(b, overview, "overview-ms/op")
	msPerOp(b, render, "render-ms/op")
}

// BenchmarkOpenCachedDM is opening a conversation whose history is stored (goal <= 30 ms, no
// network on the path): the UI's first page (50 messages) from the store, whether the room is
// encrypted, and the conversation pane rendered at 80x38. The benchmark fails if any of it
// asks the server.
func BenchmarkOpenCachedDM(b *testing.B) {
	const dms, page = 1000, 50
	spec := fixture.Spec{DMs: dms, Msgs: 100}
	env, prof, srv := warmProfile(b, spec)
	ctx := context.Background()
	app, err := cli.OpenApp(ctx, env, prof)
	if err != nil {
		b.Fatal(err)
	}
	defer app.Close()
	me := app.Svc.Me()
	st := styles.Default()
	// Open each of the first rooms once: their history is then stored, and opening them again
	// must need no network at all.
	const cached = 50
	for i := range cached {
		if _, _, err := app.Svc.History(ctx, spec.Room(i), "", page); err != nil {
			b.Fatal(err)
		}
	}
	requests := srv.Served("messages")
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		room := spec.Room(i % cached)
		msgs, _, err := app.Svc.History(ctx, room, "", page)
		if err != nil {
			b.Fatal(err)
		}
		_ = app.Svc.RoomEncrypted(ctx, room)
		conv := conversation.New(conversation.DefaultKeyMap(), st.Conversation, me, time.Now)
		conv.SetSize(80, 38)
		conv.SetName(spec.Contact(i%cached), fixture.ContactName(i%cached))
		conv.AddPage(msgs, false)
		view := conv.View()
		if len(msgs) != page {
			b.Fatalf("a page of %d messages, want %d", len(msgs), page)
		}
		if newest := msgs[page-1].Body; !strings.Contains(view, newest[:min(len(newest), 10)]) {
			b.Fatalf("the newest message %q is not shown:\n%s", newest, view)
		}
		i++
	}
	if u := srv.Unexpected(); len(u) > 0 {
		b.Fatalf("requests outside the fixture: %v", u)
	}
	if n := srv.Served("messages") - requests; n != 0 {
		b.Fatalf("opening stored conversations made %d /messages requests", n)
	}
}
