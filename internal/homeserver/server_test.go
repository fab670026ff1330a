package homeserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"duet/internal/homeserver"
	"duet/internal/testkit/dendrite"
)

// TestServerLifecycle runs the real Dendrite: start, two accounts, whoami, profile, stop.
func TestServerLifecycle(t *testing.T) {
	if dendrite.OptedOut() {
		t.Skip(dendrite.ErrOptedOut)
	}
	ctx, cancel := context.WithTimeout(context.Background(), dendrite.StartTimeout)
	defer cancel()
	root, err := homeserver.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := homeserver.Binaries(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	srv, err := homeserver.Start(ctx, homeserver.Options{BinDir: bin})
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
	accounts := make([]*homeserver.Account, len(people))
	for i, p := range people {
		localpart := dendrite.RandomLocalpart(p.prefix)
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
	var merr *homeserver.MatrixError
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
	if dendrite.OptedOut() {
		t.Skip(dendrite.ErrOptedOut)
	}
	ctx, cancel := context.WithTimeout(context.Background(), dendrite.StartTimeout)
	defer cancel()
	root, err := homeserver.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := homeserver.Binaries(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "state")
	var log lockedBuffer
	srv, err := homeserver.Start(ctx, homeserver.Options{BinDir: bin, StateDir: dir, LogWriter: &log})
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

// TestStartAgainOnStateDirAndPort checks that a server started on the StateDir and Port of a
// stopped one is that server again: same address, same accounts.
func TestStartAgainOnStateDirAndPort(t *testing.T) {
	if dendrite.OptedOut() {
		t.Skip(dendrite.ErrOptedOut)
	}
	ctx, cancel := context.WithTimeout(context.Background(), dendrite.StartTimeout)
	defer cancel()
	bin, err := dendrite.BinDir(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "state")
	first, err := homeserver.Start(ctx, homeserver.Options{BinDir: bin, StateDir: dir, DurableQueues: true})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Stop()
	if first.PID() <= 0 {
		t.Errorf("PID of a running server = %d", first.PID())
	}
	localpart := dendrite.RandomLocalpart("alice")
	acct, err := first.Register(ctx, localpart, "pw-"+localpart, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}
	if pid := first.PID(); pid != 0 {
		t.Errorf("PID after Stop = %d, want 0", pid)
	}
	port, err := strconv.Atoi(strings.TrimPrefix(first.URL, "http://127.0.0.1:"))
	if err != nil {
		t.Fatal(err)
	}

	again, err := homeserver.Start(ctx, homeserver.Options{BinDir: bin, StateDir: dir, DurableQueues: true, Port: port})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Stop()
	if again.URL != first.URL || again.ServerName != first.ServerName {
		t.Errorf("started again at %s (%s), want %s (%s)", again.URL, again.ServerName, first.URL, first.ServerName)
	}
	var who struct {
		UserID string `json:"user_id"`
	}
	getJSON(t, again.URL+"/_matrix/client/v3/account/whoami", acct.AccessToken, &who)
	if who.UserID != acct.UserID {
		t.Errorf("whoami after the restart = %q, want %s", who.UserID, acct.UserID)
	}
}
