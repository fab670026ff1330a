package dendrite

import (
	"context"
	"errors"
	"net/http"
	"os"
	"testing"
	"time"
)

// TestFaultServer kills, restarts, freezes and thaws a server: an account made before the kill
// is there after the restart, at the same address, and a frozen server answers nothing until it
// is thawed.
func TestFaultServer(t *testing.T) {
	if OptedOut() {
		t.Skip(ErrOptedOut)
	}
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	bin, err := BinDir(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := StartFaulty(ctx, bin)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	defer func() {
		if t.Failed() {
			t.Logf("dendrite log tail:\n%s", srv.LogTail())
		}
	}()
	acct, err := srv.Register(ctx, RandomLocalpart("alice"), "pw-alice-long-enough", "Alice")
	if err != nil {
		t.Fatal(err)
	}
	whoami := func(timeout time.Duration) (int, error) {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/_matrix/client/v3/account/whoami", nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+acct.AccessToken)
		c := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	srv.Kill()
	if srv.PID() != 0 {
		t.Errorf("PID after Kill = %d, want 0", srv.PID())
	}
	if code, err := whoami(2 * time.Second); err == nil {
		t.Errorf("a killed server answered %d", code)
	}
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if code, err := whoami(10 * time.Second); err != nil || code != http.StatusOK {
		t.Fatalf("whoami after the restart: %d, %v; want the account kept", code, err)
	}

	srv.Freeze()
	if code, err := whoami(2 * time.Second); err == nil {
		t.Errorf("a frozen server answered %d", code)
	}
	srv.Thaw()
	if code, err := whoami(10 * time.Second); err != nil || code != http.StatusOK {
		t.Fatalf("whoami after the thaw: %d, %v", code, err)
	}

	// Restart in place of a frozen server, as the crash tests do.
	srv.Freeze()
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if code, err := whoami(10 * time.Second); err != nil || code != http.StatusOK {
		t.Fatalf("whoami after restarting a frozen server: %d, %v", code, err)
	}

	dir := srv.StateDir
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state dir %s after Stop: %v, want it gone", dir, err)
	}
}
