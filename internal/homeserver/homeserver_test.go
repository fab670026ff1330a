package homeserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestServerLifecycle runs the real Dendrite: start, two accounts, whoami, profile, stop.
func TestServerLifecycle(t *testing.T) {
	if optedOut() {
		t.Skip(ErrOptedOut)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startForTestsTimeout)
	defer cancel()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := Binaries(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	srv, err := Start(ctx, Options{BinDir: bin})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("dendrite answered after %s at %s, state in %s", time.Since(began).Round(time.Millisecond), srv.URL, srv.StateDir)
	stopped := false
	defer func() {
		if !stopped {
			_ = srv.Stop()
		}
	}()
	defer func() {
		if t.Failed() {
			t.Logf("dendrite log tail:\n%s", srv.LogTail())
		}
	}()

	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") || srv.ServerName != "localhost:"+strings.TrimPrefix(srv.URL, "http://127.0.0.1:") {
		t.Errorf("URL %q and ServerName %q do not name the same loopback port", srv.URL, srv.ServerName)
	}
	if srv.SharedSecret == "" || srv.SharedSecret == "complement" {
		t.Errorf("SharedSecret = %q, want a fresh random secret", srv.SharedSecret)
	}

	people := []struct{ prefix, name string }{{"alice", "Alice Liddell"}, {"bob", "Bob ✓"}}
	accounts := make([]*Account, len(people))
	for i, p := range people {
		localpart := RandomLocalpart(p.prefix)
		acct, err := srv.Register(ctx, localpart, "pw-"+localpart, p.name)
		if err != nil {
			t.Fatal(err)
		}
		if want := "@" + localpart + ":" + srv.ServerName; acct.UserID != want {
			t.Errorf("registered %s, want %s", acct.UserID, want)
		}
		if acct.AccessToken == "" || acct.DeviceID == "" || acct.Password != "pw-"+localpart {
			t.Errorf("account %+v lacks a token, device or password", acct)
		}
		accounts[i] = acct
	}
	if accounts[0].AccessToken == accounts[1].AccessToken {
		t.Error("two accounts share an access token")
	}

	for i, acct := range accounts {
		var who struct {
			UserID   string `json:"user_id"`
			DeviceID string `json:"device_id"`
		}
		getJSON(t, srv.URL+"/_matrix/client/v3/account/whoami", acct.AccessToken, &who)
		if who.UserID != acct.UserID || who.DeviceID != acct.DeviceID {
			t.Errorf("whoami with %s's token = %+v, want %s %s", acct.UserID, who, acct.UserID, acct.DeviceID)
		}
		var profile struct {
			DisplayName string `json:"displayname"`
		}
		// Read each profile with the other account's token: the name is visible to others.
		other := accounts[1-i]
		getJSON(t, srv.URL+"/_matrix/client/v3/profile/"+url.PathEscape(acct.UserID)+"/displayname", other.AccessToken, &profile)
		if profile.DisplayName != people[i].name {
			t.Errorf("display name of %s = %q, want %q", acct.UserID, profile.DisplayName, people[i].name)
		}
	}

	// Registering a taken name is the server's error, typed.
	_, err = srv.Register(ctx, strings.TrimPrefix(strings.Split(accounts[0].UserID, ":")[0], "@"), "long enough password", "")
	var merr *MatrixError
	if !errors.As(err, &merr) || merr.ErrCode != "M_USER_IN_USE" {
		t.Errorf("registering a taken localpart: %v, want M_USER_IN_USE", err)
	}

	stopped = true
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	client := &http.Client{Timeout: 2 * time.Second}
	if resp, err := client.Get(srv.URL + "/_matrix/client/versions"); err == nil {
		resp.Body.Close()
		t.Errorf("after Stop %s still answers %s", srv.URL, resp.Status)
	}
	if _, err := os.Stat(srv.StateDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Stop state dir %s: %v, want it gone", srv.StateDir, err)
	}
}

// TestStartKeepsGivenStateDir checks that a caller's StateDir and LogWriter are used and kept.
func TestStartKeepsGivenStateDir(t *testing.T) {
	if optedOut() {
		t.Skip(ErrOptedOut)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startForTestsTimeout)
	defer cancel()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := Binaries(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "state")
	var log lockedBuffer
	srv, err := Start(ctx, Options{BinDir: bin, StateDir: dir, LogWriter: &log})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"dendrite.yaml", "matrix_key.pem", "dendrite_userapi.db"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("given state dir after Stop: %v", err)
		}
	}
	if !strings.Contains(log.String(), "Dendrite version") {
		t.Errorf("LogWriter got no startup log; got %q", log.String())
	}
}

// TestBinariesConcurrent checks that parallel callers (like test packages) all get the
// binaries, through the lock, without error.
func TestBinariesConcurrent(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startForTestsTimeout)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = Binaries(ctx, root)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	current, err := binariesCurrent(filepath.Join(root, "tools", "homeserver"), filepath.Join(root, ".bin"))
	if err != nil || !current {
		t.Fatalf("binaries current = %v, %v after Binaries", current, err)
	}
}

func TestLockFileExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".lock")
	unlock, err := lockFile(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := lockFile(ctx, path); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second lock while held: %v, want it to wait until the deadline", err)
	}
	unlock()
	unlock2, err := lockFile(context.Background(), path)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock2()
}

// A trimmed copy of what `generate-config -ci -dir /state -server localhost:1` writes.
const sampleConfig = `version: 2
global:
  server_name: localhost:1
  private_key: matrix_key.pem
  database:
    connection_string: ""
  disable_federation: false
  trusted_third_party_id_servers:
  - matrix.org
  jetstream:
    storage_path: /state
    in_memory: true
  metrics:
    enabled: false
  sentry:
    enabled: false
  report_stats:
    enabled: false
client_api:
  registration_disabled: false
  registration_shared_secret: complement
  enable_registration_captcha: false
  rate_limiting:
    enabled: false
federation_api:
  database:
    connection_string: file:/state/dendrite_federationapi.db
  key_perspectives: []
media_api:
  base_path: /state/media
  thumbnail_sizes:
  - width: 32
    height: 32
sync_api:
  database:
    connection_string: file:/state/dendrite_syncapi.db
  search:
    enabled: true
    index_path: /state/searchindex
logging:
- type: std
  level: trace
  params:
    path: /state/log
`

func TestEditConfig(t *testing.T) {
	edits := []configEdit{
		{"global.private_key", yamlString("/state/matrix_key.pem")},
		{"global.disable_federation", "true"},
		{"client_api.registration_shared_secret", yamlString("s3cret")},
		{"sync_api.search.enabled", "false"},
		{"logging.level", yamlString("info")},
	}
	got, err := editConfig(sampleConfig, edits)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"\n  private_key: \"/state/matrix_key.pem\"\n",
		"\n  disable_federation: true\n",
		"\n  registration_shared_secret: \"s3cret\"\n",
		"\n  search:\n    enabled: false\n",
		"\n  level: \"info\"\n",
		"\n  rate_limiting:\n    enabled: false\n", // untouched sibling of the same key name
		"\n  - width: 32\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("edited config lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "\n"); n != strings.Count(sampleConfig, "\n") {
		t.Errorf("edited config has %d lines, want %d", n, strings.Count(sampleConfig, "\n"))
	}
	if err := checkConfig(got, "/state", false); err != nil {
		t.Errorf("checkConfig(edited): %v", err)
	}
	if err := checkConfig(sampleConfig, "/state", false); err == nil {
		t.Error("checkConfig accepted a config with federation on")
	}
	if err := checkConfig(got, "/elsewhere", false); err == nil {
		t.Error("checkConfig accepted databases outside the state dir")
	}

	for _, bad := range []configEdit{
		{"global.no_such_key", "1"},
		{"global.database", "x"}, // a section, not a value
		{"enabled", "false"},     // not a full path
		{"database.connection_string", "x"},
	} {
		if _, err := editConfig(sampleConfig, []configEdit{bad}); err == nil {
			t.Errorf("editConfig(%s) succeeded, want an error", bad.path)
		}
	}
}

func TestRandomLocalpart(t *testing.T) {
	seen := map[string]bool{}
	for _, prefix := range []string{"alice", "Bob Smith", "", "ünï", "a.b_c=d-e"} {
		for range 50 {
			lp := RandomLocalpart(prefix)
			if seen[lp] {
				t.Fatalf("RandomLocalpart(%q) repeated %q", prefix, lp)
			}
			seen[lp] = true
			for _, r := range lp {
				if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("._=-", r)) {
					t.Fatalf("RandomLocalpart(%q) = %q has %q", prefix, lp, r)
				}
			}
		}
	}
	if lp := RandomLocalpart("Bob Smith"); !strings.HasPrefix(lp, "bob_smith-") {
		t.Errorf("RandomLocalpart(\"Bob Smith\") = %q, want prefix bob_smith-", lp)
	}
}

func TestOptOut(t *testing.T) {
	for _, tc := range []struct {
		skip, ci string
		want     bool
	}{
		{"", "", false},
		{"1", "", true},
		{"1", "true", false},
		{"1", "TRUE", false},
		{"0", "", false},
		{"yes", "", false},
	} {
		t.Setenv("DUET_SKIP_HOMESERVER", tc.skip)
		t.Setenv("CI", tc.ci)
		if got := optedOut(); got != tc.want {
			t.Errorf("DUET_SKIP_HOMESERVER=%q CI=%q: optedOut = %v, want %v", tc.skip, tc.ci, got, tc.want)
		}
		if tc.want {
			if _, _, err := StartForTests(); !errors.Is(err, ErrOptedOut) {
				t.Errorf("StartForTests when opted out: %v, want ErrOptedOut", err)
			}
		}
	}
}

func getJSON(t *testing.T, u, token string, out any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
