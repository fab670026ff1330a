package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/internal/config"
	"duet/internal/flock"
	"duet/internal/paths"
	"duet/internal/testkit/hstest"
	"duet/store"
)

// writeSession makes a profile folder with a session file; logged in when token is set.
func writeSession(t *testing.T, dirs paths.Dirs, name, token string) {
	t.Helper()
	prof, err := dirs.ForProfile(name)
	if err != nil {
		t.Fatal(err)
	}
	sess := &store.Session{Homeserver: "https://" + name + ".example", UserID: id.UserID("@me:" + name + ".example"), DeviceID: "D", AccessToken: token}
	if err := store.SaveSession(prof.SessionFile(), sess); err != nil {
		t.Fatal(err)
	}
}

func profileNames(profs []paths.Profile) []string {
	var names []string
	for _, p := range profs {
		names = append(names, p.Name)
	}
	return names
}

// The profiles the UI opens: the --profile names, else the config's, else every logged-in one
// ("default" first), else "default" for the login form.
func TestUIProfiles(t *testing.T) {
	base := t.TempDir()
	dirs := paths.Dirs{Config: base + "/config", Data: base + "/data", State: base + "/state", Cache: base + "/cache"}
	env := Env{Dirs: dirs}
	none := config.Config{}

	profs, err := uiProfiles(env, nil, none)
	if err != nil || !slices.Equal(profileNames(profs), []string{"default"}) {
		t.Fatalf("nobody logged in: %v, %v; want the login form on default", profileNames(profs), err)
	}

	writeSession(t, dirs, "zeta", "t")
	writeSession(t, dirs, "work", "t")
	writeSession(t, dirs, "default", "t")
	writeSession(t, dirs, "alpha", "t") // before "default" by name: default comes first all the same
	writeSession(t, dirs, "old", "")    // logged out: the session file has no access token
	if err := os.MkdirAll(filepath.Join(dirs.Data, "duet", "empty"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dirs.Data, "duet", "not a profile"), 0o700); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		named, cfg []string
		want       []string
		err        string // what the error says; "" none
		usage      bool   // the error is bad usage
	}{
		{want: []string{"default", "alpha", "work", "zeta"}},
		{named: []string{"work"}, want: []string{"work"}},
		{named: []string{"new"}, want: []string{"new"}}, // one not logged in: its login form
		{named: []string{"zeta", "work", "zeta"}, want: []string{"zeta", "work"}},
		{named: []string{"work", "old"}, err: "profile \"old\" is not logged in: run `duet login --profile old`"},
		{named: []string{"work", "a/b"}, err: "profile \"a/b\"", usage: true},
		{named: []string{"work"}, cfg: []string{"zeta"}, want: []string{"work"}}, // --profile wins
		{cfg: []string{"zeta", "default"}, want: []string{"zeta", "default"}},
		{cfg: []string{"work", "empty"}, err: "profile \"empty\" (in the config's profiles) is not logged in: run `duet login --profile empty`"},
		{cfg: []string{"nowhere"}, err: "duet login --profile nowhere"},
		{cfg: []string{"a b"}, err: "config: profiles: profile \"a b\""},
	}
	for _, c := range cases {
		profs, err := uiProfiles(env, c.named, config.Config{Profiles: c.cfg})
		name := fmt.Sprintf("--profile %v, config profiles %v", c.named, c.cfg)
		var ue usageError
		switch {
		case c.err == "" && (err != nil || !slices.Equal(profileNames(profs), c.want)):
			t.Errorf("%s: %v, %v; want %v", name, profileNames(profs), err, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: %v, %v; want an error saying %q", name, profileNames(profs), err, c.err)
		case c.err != "" && errors.As(err, &ue) != c.usage:
			t.Errorf("%s: %v is bad usage: %v, want %v", name, err, !c.usage, c.usage)
		}
	}
}

// A command runs on one profile: two --profile are bad usage, and so is --all with a profile
// or a person; `duet profiles` lists them all and takes none.
func TestRepeatedProfileIsBadUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--profile", "a", "--profile", "b", "send", "@bob:example.org", "hi"}, "send takes one --profile"},
		{[]string{"--profile", "a", "whoami", "--profile", "b"}, "whoami takes one --profile"},
		{[]string{"--profile", "a", "--profile", "b", "login", "--homeserver", "https://example.org", "--user", "x"}, "login takes one --profile"},
		{[]string{"--profile", "a", "--profile", "a", "dms"}, "dms takes one --profile"},
		{[]string{"dms", "--all", "@bob:example.org"}, "dms --all lists every profile's contacts"},
		{[]string{"--profile", "work", "dms", "--all"}, "dms --all lists every logged-in profile; leave out --profile"},
		{[]string{"--profile", "work", "profiles"}, "profiles lists every profile"},
	} {
		r := runOffline(t, c.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, c.want) || r.stdout != "" {
			t.Errorf("duet %s: exit %d, stdout %q, stderr %q; want exit 2 saying %q", strings.Join(c.args, " "), r.code, r.stdout, r.stderr, c.want)
		}
	}
}

// startUI runs `duet ARGS` (the UI, its model run by a stand-in that waits) in the background,
// and returns once the UI runs; stop quits it and returns what it printed.
func (u *duetUser) startUI(t *testing.T, args ...string) (stop func() result) {
	t.Helper()
	var out, errb bytes.Buffer
	ready, quit, done := make(chan struct{}), make(chan struct{}), make(chan int, 1)
	var started sync.Once
	env := Env{Dirs: u.dirs, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		RunUI: func(ctx context.Context, m tea.Model) error {
			started.Do(func() { close(ready) })
			select {
			case <-quit:
			case <-ctx.Done():
			}
			return nil
		}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	go func() { done <- Run(ctx, env, args) }()
	var once sync.Once
	var res result
	stop = func() result {
		once.Do(func() {
			close(quit)
			res.code = <-done
			cancel()
			res.stdout, res.stderr = out.String(), errb.String()
		})
		return res
	}
	t.Cleanup(func() { stop() })
	select {
	case <-ready:
	case code := <-done:
		t.Fatalf("duet %s ended before its UI ran: exit %d, %q", strings.Join(args, " "), code, errb.String())
	case <-time.After(time.Minute):
		t.Fatalf("duet %s: the UI did not start in a minute", strings.Join(args, " "))
	}
	return stop
}

type profileOut struct {
	Profile    string    `json:"profile"`
	LoggedIn   bool      `json:"logged_in"`
	UserID     id.UserID `json:"user_id"`
	Homeserver string    `json:"homeserver"`
	Default    bool      `json:"default"`
	UI         bool      `json:"ui"`
	InUse      bool      `json:"in_use"`
	PID        string    `json:"pid"`
	Window     bool      `json:"window"`
}

// `duet profiles` lists every profile with its account, marks the default and the ones the UI
// opens, and says which ones a duet holds; the UI, started without --profile, holds every
// logged-in profile.
func TestProfiles(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	bob := newDuetUser(t, "bob", "Bob")
	bob.dirs = alice.dirs // one person with two accounts
	alice.login(t)
	bob.ok(t, bob.Password+"\n", "--profile", "work", "login", "--homeserver", hs.URL, "--user", string(bob.ID), "--password-stdin")
	old, _ := alice.dirs.ForProfile("old")
	if err := os.MkdirAll(old.Data, 0o700); err != nil { // a profile that never logged in
		t.Fatal(err)
	}

	var rows []profileOut
	alice.jsonOut(t, &rows, "profiles")
	want := []profileOut{
		{Profile: "default", LoggedIn: true, UserID: alice.ID, Homeserver: hs.URL, Default: true, UI: true},
		{Profile: "old"},
		{Profile: "work", LoggedIn: true, UserID: bob.ID, Homeserver: hs.URL, UI: true},
	}
	if !slices.Equal(rows, want) {
		t.Fatalf("profiles --json:\n%s\nwant\n%s", mustJSON(rows), mustJSON(want))
	}

	stop := alice.startUI(t)
	pid := fmt.Sprint(os.Getpid())
	for _, name := range []string{"default", "work"} {
		prof, _ := alice.dirs.ForProfile(name)
		if held, _ := flock.Held(lockFile(prof)); !held {
			t.Fatalf("the UI does not hold profile %s", name)
		}
	}
	text := alice.ok(t, "", "profiles")
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "PROFILE") {
		t.Fatalf("profiles: %q", text)
	}
	for i, want := range [][]string{
		{"default", string(alice.ID), hs.URL, "default,ui", "open in duet's window (process " + pid + ")"},
		{"old", "not logged in", "-"},
		{"work", string(bob.ID), hs.URL, " ui ", "open in duet's window (process " + pid + ")"},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i+1], w) {
				t.Errorf("profiles line %d %q lacks %q", i+1, lines[i+1], w)
			}
		}
	}
	if strings.Contains(lines[2], "window") || strings.Contains(lines[2], "ui") {
		t.Errorf("old is neither opened by the UI nor in use: %q", lines[2])
	}
	if r := stop(); r.code != 0 {
		t.Fatalf("the UI: exit %d, %q", r.code, r.stderr)
	}

	// The config's profiles are the UI's (one it names that has no folder is listed too: the UI
	// would fail on it); a command holds its profile as a command.
	if err := os.MkdirAll(old.Config, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(old.ConfigFile(), []byte("profiles = [\"work\", \"ghost\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	work, _ := alice.dirs.ForProfile("work")
	unlock, err := lockProfile(work)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	rows = nil
	alice.jsonOut(t, &rows, "profiles")
	want[0].UI = false
	want[2].InUse, want[2].PID = true, pid
	want = slices.Insert(want, 1, profileOut{Profile: "ghost", UI: true})
	if !slices.Equal(rows, want) {
		t.Fatalf("profiles --json with profiles = [\"work\", \"ghost\"] and work in use:\n%s\nwant\n%s", mustJSON(rows), mustJSON(want))
	}
	if text := alice.ok(t, "", "profiles"); !strings.Contains(text, "in use by process "+pid) {
		t.Fatalf("profiles does not say work is in use: %q", text)
	}

	// A config duet cannot read does not hide the list: a warning says why.
	if err := os.WriteFile(old.ConfigFile(), []byte("profiles = 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := alice.run(t, "", "profiles")
	if r.code != 0 || !strings.Contains(r.stderr, "warning: config ") || !strings.Contains(r.stdout, string(bob.ID)) {
		t.Fatalf("profiles with a broken config: exit %d, %q, %q", r.code, r.stdout, r.stderr)
	}
}

// When duet's window holds a profile, a command on it is refused with a line that says so and
// what to do, and nothing is sent.
func TestSendWhileTheUIHoldsTheProfile(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	bob := newDuetUser(t, "bob", "Bob")
	alice.login(t)
	first := alice.send(t, string(bob.ID), "before the window")

	stop := alice.startUI(t)
	r := alice.run(t, "", "send", string(bob.ID), "while the window is open")
	want := fmt.Sprintf("profile \"default\" is open in duet's window (process %d): send from there, or quit it first", os.Getpid())
	if r.code != exitFail || !strings.Contains(r.stderr, want) || r.stdout != "" {
		t.Fatalf("send while the UI runs: exit %d, stdout %q, stderr %q; want exit 1 saying %q", r.code, r.stdout, r.stderr, want)
	}
	r = alice.run(t, "", "whoami")
	if r.code != exitFail || !strings.Contains(r.stderr, "is open in duet's window") || !strings.Contains(r.stderr, "use that window, or quit it first") {
		t.Fatalf("whoami while the UI runs: exit %d, %q", r.code, r.stderr)
	}
	if r := stop(); r.code != 0 {
		t.Fatalf("the UI: exit %d, %q", r.code, r.stderr)
	}

	// Nothing went out, then or later: the next command has no queued message to send, and
	// the room holds the first message only.
	if r := alice.run(t, "", "whoami"); r.code != 0 || strings.Contains(r.stderr, "queued") {
		t.Fatalf("whoami after the UI: exit %d, %q", r.code, r.stderr)
	}
	var msgs struct {
		Messages []struct {
			Body string `json:"body"`
		} `json:"messages"`
	}
	alice.jsonOut(t, &msgs, "messages", string(first.RoomID))
	for _, m := range msgs.Messages {
		if m.Body == "while the window is open" {
			t.Fatalf("the refused message was sent: %s", mustJSON(msgs))
		}
	}
}

type dmsAllOut struct {
	Profile  string        `json:"profile"`
	UserID   id.UserID     `json:"user_id"`
	Contacts []contactJSON `json:"contacts"`
	Synced   bool          `json:"synced"`
}

// `dms --all` lists the contacts of every logged-in profile, each with its profile; one that a
// running duet holds is skipped with a line on stderr, the others listed, and the exit status
// is 1.
func TestDMsAll(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	bob := newDuetUser(t, "bob", "Bob")
	bob.dirs = alice.dirs // one person with two accounts: default and work
	carol := newDuetUser(t, "carol", "Carol")
	dave := newDuetUser(t, "dave", "Dave")
	alice.login(t)
	bob.ok(t, bob.Password+"\n", "--profile", "work", "login", "--homeserver", hs.URL, "--user", string(bob.ID), "--password-stdin")
	toCarol := alice.send(t, string(carol.ID), "hi carol")
	r := bob.run(t, "", "--profile", "work", "send", string(dave.ID), "hi dave", "--json")
	var sent sendOut
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &sent) != nil {
		t.Fatalf("send on work: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	empty, _ := alice.dirs.ForProfile("empty")
	if err := os.MkdirAll(empty.Data, 0o700); err != nil { // not logged in: not listed
		t.Fatal(err)
	}

	var lists []dmsAllOut
	alice.jsonOut(t, &lists, "dms", "--all")
	if len(lists) != 2 || lists[0].Profile != "default" || lists[0].UserID != alice.ID || lists[1].Profile != "work" || lists[1].UserID != bob.ID {
		t.Fatalf("dms --all --json: %s", mustJSON(lists))
	}
	if c := lists[0].Contacts; len(c) != 1 || c[0].UserID != carol.ID || c[0].RoomID != toCarol.RoomID {
		t.Fatalf("default's contacts: %s", mustJSON(lists[0]))
	}
	if c := lists[1].Contacts; len(c) != 1 || c[0].UserID != dave.ID || c[0].RoomID != sent.RoomID {
		t.Fatalf("work's contacts: %s", mustJSON(lists[1]))
	}

	text := alice.ok(t, "", "dms", "--all")
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "PROFILE") || !strings.HasPrefix(lines[1], "default ") || !strings.Contains(lines[1], string(carol.ID)) ||
		!strings.HasPrefix(lines[2], "work ") || !strings.Contains(lines[2], string(dave.ID)) {
		t.Fatalf("dms --all:\n%s", text)
	}

	// The UI holds work: default is listed, work is skipped, and the status says so.
	work, _ := alice.dirs.ForProfile("work")
	unlock, err := lockProfileAs(work, holderUI)
	if err != nil {
		t.Fatal(err)
	}
	r = alice.run(t, "", "dms", "--all")
	skipped := fmt.Sprintf("duet: profile work: in use by duet's window (process %d); skipped\n", os.Getpid())
	if r.code != exitFail || !strings.Contains(r.stderr, skipped) || !strings.Contains(r.stdout, string(carol.ID)) || strings.Contains(r.stdout, string(dave.ID)) {
		t.Fatalf("dms --all with work in use: exit %d, stdout %q, stderr %q; want exit 1, carol listed, and %q", r.code, r.stdout, r.stderr, skipped)
	}
	unlock()
	unlock, err = lockProfile(work)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	r = alice.run(t, "", "dms", "--all", "--json")
	if r.code != exitFail || !strings.Contains(r.stderr, fmt.Sprintf("profile work: in use by duet (process %d); skipped", os.Getpid())) {
		t.Fatalf("dms --all --json with work in use: exit %d, %q", r.code, r.stderr)
	}
	if err := json.Unmarshal([]byte(r.stdout), &lists); err != nil || len(lists) != 1 || lists[0].Profile != "default" {
		t.Fatalf("dms --all --json with work in use printed %q (%v)", r.stdout, err)
	}
}

// With several profiles, one that another duet holds (a script's command) is left out and said
// in the status bar, and the window opens on the others.
func TestUIOpensTheProfilesNotHeld(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	bob := newDuetUser(t, "bob", "Bob")
	bob.dirs = alice.dirs
	alice.login(t)
	bob.ok(t, bob.Password+"\n", "--profile", "work", "login", "--homeserver", hs.URL, "--user", string(bob.ID), "--password-stdin")
	work, _ := alice.dirs.ForProfile("work")
	unlock, err := lockProfile(work)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()

	var screen string
	env := Env{Dirs: alice.dirs, Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard,
		RunUI: func(ctx context.Context, m tea.Model) error {
			m.(interface{ Init() tea.Cmd }).Init()
			next, _ := m.Update(tea.WindowSizeMsg{Width: 160, Height: 20})
			screen = next.View().Content
			def, _ := alice.dirs.ForProfile("default")
			if held, _ := flock.Held(lockFile(def)); !held {
				t.Error("the window does not hold default")
			}
			return nil
		}}
	if code := Run(hstest.Ctx(t), env, nil); code != 0 {
		t.Fatalf("exit %d", code)
	}
	want := fmt.Sprintf("profile \"work\" not opened: another duet (process %d) is using it", os.Getpid())
	if !strings.Contains(screen, want) {
		t.Fatalf("the status bar lacks %q:\n%s", want, screen)
	}
}
