package authtest

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"duet/internal/homeserver"
)

// BuildBrowser builds cmd/fakebrowser into a temporary folder and returns its path, for
// $BROWSER: it follows the login address's redirects back to duet's listener.
func BuildBrowser(t testing.TB) string {
	t.Helper()
	root, err := homeserver.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out := filepath.Join(t.TempDir(), "fakebrowser")
	cmd := exec.Command(goBin, "build", "-o", out, "./internal/testkit/authtest/cmd/fakebrowser")
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the fake browser: %v\n%s", err, msg)
	}
	return out
}

// FinalAddress follows addr's redirects like a browser, but stops before leaving the server
// at base: it returns the address the browser would go to next (duet's redirect, which a
// browser on another machine cannot load), as a person would copy it from the address bar.
func FinalAddress(base, addr string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	var next string
	c := &http.Client{Timeout: time.Minute, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != b.Host {
			next = req.URL.String()
			return http.ErrUseLastResponse
		}
		if len(via) > 10 {
			return errors.New("too many redirects")
		}
		return nil
	}}
	resp, err := c.Get(addr)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if next == "" {
		return "", fmt.Errorf("the login page did not send the browser back (HTTP %d)", resp.StatusCode)
	}
	return next, nil
}

// Visit loads addr (a device verification page) and reports a status other than 200.
func Visit(addr string) error {
	resp, err := (&http.Client{Timeout: time.Minute}).Get(addr)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", addr, resp.StatusCode)
	}
	return nil
}
