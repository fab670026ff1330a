package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/internal/paths"
	"duet/internal/testkit/authtest"
	"duet/internal/testkit/hstest"
	"duet/store"
)

// browserEnv is the outside world of a login in the browser.
type browserEnv struct {
	browser     string        // $BROWSER; "" with no display: no browser can be opened
	stdin       io.Reader     // nil: empty
	stderr      *lineWriter   // nil: a new one
	timeout     time.Duration // the wait for the browser
	interactive bool          // standard input is a terminal
}

func (u *duetUser) runBrowser(t *testing.T, be browserEnv, args ...string) result {
	t.Helper()
	if be.stdin == nil {
		be.stdin = strings.NewReader("")
	}
	if be.stderr == nil {
		be.stderr = newLineWriter()
	}
	var out bytes.Buffer
	env := Env{Dirs: u.dirs, Stdin: be.stdin, Stdout: &out, Stderr: be.stderr, LoginTimeout: be.timeout,
		Getenv: func(k string) string {
			if k == "BROWSER" {
				return be.browser
			}
			return "" // no $DISPLAY: only $BROWSER opens anything
		}}
	if be.interactive {
		env.ReadPassword = func(string) (string, error) { return "", io.EOF }
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := Run(ctx, env, args)
	return result{out.String(), be.stderr.String(), code}
}

// lineWriter is standard error that a test can watch line by line while duet runs.
type lineWriter struct {
	mu    sync.Mutex
	all   bytes.Buffer
	part  []byte
	lines chan string
}

func newLineWriter() *lineWriter { return &lineWriter{lines: make(chan string, 100)} }

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all.Write(p)
	w.part = append(w.part, p...)
	for {
		i := bytes.IndexByte(w.part, '\n')
		if i < 0 {
			break
		}
		select {
		case w.lines <- string(w.part[:i]):
		default:
		}
		w.part = w.part[i+1:]
	}
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all.String()
}

// waitLine returns the first line written that starts with prefix.
func (w *lineWriter) waitLine(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case l := <-w.lines:
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			t.Fatalf("no line starting with %q on stderr: %q", prefix, w.String())
			return ""
		}
	}
}

func savedSession(t *testing.T, prof paths.Profile) *store.Session {
	t.Helper()
	sess, err := store.LoadSession(prof.SessionFile())
	if err != nil {
		t.Fatalf("session: %v", err)
	}
	return sess
}

// noSession fails when a failed login left a session file behind.
func noSession(t *testing.T, prof paths.Profile, what string) {
	t.Helper()
	if _, err := os.Stat(prof.SessionFile()); !os.IsNotExist(err) {
		t.Fatalf("%s: a session file was left behind (%v)", what, err)
	}
}

// noSecretsLogged fails when a token or code the server handed out is in duet's log.
func noSecretsLogged(t *testing.T, prof paths.Profile, a *authtest.Server) {
	t.Helper()
	data, err := os.ReadFile(prof.LogFile())
	if err != nil {
		t.Fatal(err)
	}
	secrets := a.Secrets()
	if len(secrets) == 0 {
		t.Fatal("the server handed out nothing: the check would pass vacuously")
	}
	for _, s := range secrets {
		if strings.Contains(string(data), s) {
			t.Fatalf("the log contains %q (%s…)", s[:min(len(s), 12)], strings.SplitN(s, "-", 2)[0])
		}
	}
}

// lastLine is the failure's line: the last one on stderr.
func lastLine(stderr string) string {
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	return lines[len(lines)-1]
}

type whoJSON struct {
	UserID   id.UserID   `json:"user_id"`
	DeviceID id.DeviceID `json:"device_id"`
}

// OAuth 2.0 end to end through the test authorization server: registration, the browser
// ($BROWSER), the code exchange, whoami, sync and sending; a forced expiry refreshes and saves
// the new pair; the session survives restarts; logging in again reuses the client; logout
// revokes.
func TestOAuthLoginRefreshAndLogout(t *testing.T) {
	t.Parallel()
	u := newDuetUser(t, "oauth", "Olive")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	a := authtest.Start(t, hs.URL, authtest.Options{Mode: authtest.OAuth})
	a.SetAccount(string(u.ID), u.Password)
	be := browserEnv{browser: authtest.BuildBrowser(t)}
	prof, _ := u.dirs.ForProfile("default")

	r := u.runBrowser(t, be, "login", "--homeserver", a.URL, "--sso")
	if r.code != 0 {
		t.Fatalf("login --sso: exit %d, %q", r.code, r.stderr)
	}
	lines := strings.Split(r.stderr, "\n")
	i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, a.URL+"/oauth2/authorize?") })
	if i < 0 {
		t.Fatalf("the login address is not on stderr as a line of its own: %q", r.stderr)
	}
	authURL, _ := url.Parse(lines[i])
	if q := authURL.Query(); len(q.Get("state")) < 32 || strings.HasPrefix(q.Get("state"), "mautrix") ||
		q.Get("code_challenge_method") != "S256" || !strings.HasPrefix(q.Get("redirect_uri"), "http://127.0.0.1:") {
		t.Fatalf("login address %s: want a random state, PKCE S256 and a loopback redirect", lines[i])
	}
	sess := savedSession(t, prof)
	if sess.UserID != u.ID || sess.RefreshToken == "" || sess.OAuthClientID == "" || !sess.TokenExpiry.After(time.Now()) {
		t.Fatalf("session after an OAuth login: user %s, refresh token %t, client %q, expiry %v",
			sess.UserID, sess.RefreshToken != "", sess.OAuthClientID, sess.TokenExpiry)
	}
	if !strings.Contains(r.stdout, "Logged in as "+string(u.ID)+" (device "+string(sess.DeviceID)+")") {
		t.Fatalf("stdout: %q", r.stdout)
	}
	if info, err := os.Stat(prof.SessionFile()); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("session file: %v %v", info, err)
	}
	st := a.Stats()
	if st.Registrations != 1 || st.Exchanges != 1 || len(st.Scopes) != 1 ||
		!slices.Contains(strings.Fields(st.Scopes[0]), "urn:matrix:client:api:*") ||
		!slices.Contains(strings.Fields(st.Scopes[0]), "urn:matrix:client:device:"+string(sess.DeviceID)) {
		t.Fatalf("the server saw %+v; the device is %s", st, sess.DeviceID)
	}
	var who whoJSON
	u.jsonOut(t, &who, "whoami")
	if who.UserID != u.ID || who.DeviceID != sess.DeviceID {
		t.Fatalf("whoami: %+v, session device %s", who, sess.DeviceID)
	}
	sent := u.send(t, string(bob.ID), "hello over oauth")
	bob.Join(t, sent.RoomID)
	waitForBodies(t, bob, sent.RoomID, "hello over oauth")

	// The server ends the access token early: the next request refreshes and goes through.
	before := a.Stats()
	a.ExpireAccessTokens()
	sent = u.send(t, string(bob.ID), "after the expiry")
	waitForBodies(t, bob, sent.RoomID, "after the expiry")
	after := a.Stats()
	if after.SoftLogouts <= before.SoftLogouts || after.Refreshes != before.Refreshes+1 {
		t.Fatalf("forced expiry: soft logouts %d -> %d, refreshes %d -> %d", before.SoftLogouts, after.SoftLogouts, before.Refreshes, after.Refreshes)
	}
	renewed := savedSession(t, prof)
	if renewed.AccessToken == sess.AccessToken || renewed.RefreshToken == sess.RefreshToken || renewed.DeviceID != sess.DeviceID {
		t.Fatal("the refreshed tokens were not saved")
	}
	ctx := hstest.Ctx(t)
	if live, err := a.AccessTokenLive(ctx, renewed.AccessToken); err != nil || !live {
		t.Fatalf("the saved access token does not work: %v %v", live, err)
	}

	// A restart uses the saved pair; an access token about to expire is refreshed before use,
	// without the server having to refuse it first.
	renewed.TokenExpiry = time.Now().Add(2 * time.Second)
	if err := store.SaveSession(prof.SessionFile(), renewed); err != nil {
		t.Fatal(err)
	}
	before = a.Stats()
	u.jsonOut(t, &who, "whoami")
	after = a.Stats()
	if who.UserID != u.ID || after.Refreshes != before.Refreshes+1 || after.SoftLogouts != before.SoftLogouts {
		t.Fatalf("refresh before expiry: refreshes %d -> %d, soft logouts %d -> %d", before.Refreshes, after.Refreshes, before.SoftLogouts, after.SoftLogouts)
	}
	if again := savedSession(t, prof); again.AccessToken == renewed.AccessToken || !again.TokenExpiry.After(time.Now().Add(time.Minute)) {
		t.Fatal("the token refreshed before its expiry was not saved")
	}

	// Logging in again keeps the registered client.
	if r := u.runBrowser(t, be, "login", "--homeserver", a.URL, "--sso"); r.code != 0 {
		t.Fatalf("second login: exit %d, %q", r.code, r.stderr)
	}
	if st := a.Stats(); st.Registrations != 1 {
		t.Fatalf("the second login registered a new client (%d registrations)", st.Registrations)
	}
	if again := savedSession(t, prof); again.DeviceID != sess.DeviceID || again.PickleKey != sess.PickleKey {
		t.Fatalf("the second login made device %s, want the same %s with its keys", again.DeviceID, sess.DeviceID)
	}

	// logout revokes at the server and forgets the session here.
	last := savedSession(t, prof)
	before = a.Stats()
	u.ok(t, "", "logout")
	if a.Stats().Revocations != before.Revocations+1 {
		t.Fatal("logout did not revoke the tokens")
	}
	noSession(t, prof, "logout")
	if live, err := a.AccessTokenLive(ctx, last.AccessToken); err != nil || live {
		t.Fatalf("the access token still works after logout: %v %v", live, err)
	}
	noSecretsLogged(t, prof, a)
}

// Where no browser can be opened (no $BROWSER, no display) and the server offers the device
// grant, duet prints the address and the code and polls until the person has entered it.
func TestOAuthDeviceGrant(t *testing.T) {
	t.Parallel()
	u := newDuetUser(t, "device", "Dee")
	a := authtest.Start(t, hs.URL, authtest.Options{Mode: authtest.OAuth, DeviceGrant: true})
	a.SetAccount(string(u.ID), u.Password)
	prof, _ := u.dirs.ForProfile("default")
	stderr := newLineWriter()
	done := make(chan result, 1)
	go func() { done <- u.runBrowser(t, browserEnv{stderr: stderr}, "login", "--homeserver", a.URL, "--sso") }()
	say := stderr.waitLine(t, "duet: ")
	addr := stderr.waitLine(t, a.URL+"/oauth2/device")
	code, _ := strings.CutPrefix(addr, a.URL+"/oauth2/device?user_code=")
	if code == "" || !strings.Contains(say, "enter the code "+code) {
		t.Fatalf("the code is not shown: %q then %q", say, addr)
	}
	if err := authtest.Visit(addr); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.code != 0 {
		t.Fatalf("device grant login: exit %d, %q", r.code, r.stderr)
	}
	var who whoJSON
	u.jsonOut(t, &who, "whoami")
	if sess := savedSession(t, prof); who.UserID != u.ID || who.DeviceID != sess.DeviceID || sess.RefreshToken == "" {
		t.Fatalf("whoami %+v after the device grant", who)
	}
	if st := a.Stats(); st.Authorizations != 0 || st.Exchanges != 1 {
		t.Fatalf("not the device grant: %+v", st)
	}

	// The server refuses the refresh: logged out, and the tokens are gone from the file.
	a.ForgetRefreshTokens()
	r = u.run(t, "", "whoami")
	if r.code != 1 || strings.TrimSpace(r.stderr) != "duet: logged out: run `duet login`" {
		t.Fatalf("refused refresh: exit %d, %q", r.code, r.stderr)
	}
	raw, _ := os.ReadFile(prof.SessionFile())
	if _, err := store.LoadSession(prof.SessionFile()); err != store.ErrNoSession || strings.Contains(string(raw), "refresh_token") {
		t.Fatalf("after a refused refresh the session is %v: %s", err, raw)
	}
}

// Over SSH: --paste prints the address and takes the address the browser ended on.
func TestOAuthPaste(t *testing.T) {
	t.Parallel()
	u := newDuetUser(t, "paste", "Pat")
	a := authtest.Start(t, hs.URL, authtest.Options{Mode: authtest.OAuth, DeviceGrant: true})
	a.SetAccount(string(u.ID), u.Password)
	r := u.pasteLogin(t, a, func(final string) string { return final }, "login", "--homeserver", a.URL, "--sso", "--paste", "--user", string(u.ID))
	if r.code != 0 {
		t.Fatalf("login --sso --paste: exit %d, %q", r.code, r.stderr)
	}
	var who whoJSON
	u.jsonOut(t, &who, "whoami")
	if who.UserID != u.ID {
		t.Fatalf("whoami: %+v", who)
	}
	if st := a.Stats(); st.Exchanges != 1 || len(st.LoginHints) != 1 || st.LoginHints[0] != "mxid:"+string(u.ID) {
		t.Fatalf("the server saw %+v", st)
	}
}

// pasteLogin runs a login with --paste, playing the person: it opens the printed address in
// a "browser" elsewhere and pastes what paste makes of the address it ended on.
func (u *duetUser) pasteLogin(t *testing.T, a *authtest.Server, paste func(final string) string, args ...string) result {
	t.Helper()
	stdin, typed := io.Pipe()
	stderr := newLineWriter()
	done := make(chan result, 1)
	go func() { done <- u.runBrowser(t, browserEnv{stdin: stdin, stderr: stderr}, args...) }()
	addr := stderr.waitLine(t, a.URL+"/")
	stderr.waitLine(t, "duet: the browser then goes to")
	final, err := authtest.FinalAddress(a.URL, addr)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(final, "http://127.0.0.1/") {
		t.Fatalf("the browser was sent to %q, not a loopback address that needs no listener", final)
	}
	go func() { _, _ = io.WriteString(typed, paste(final)+"\n") }()
	r := <-done
	typed.Close()
	return r
}

// Each failure of the browser flow is one line saying what to do, exit 1, no session, and no
// token in the log.
func TestOAuthLoginFailures(t *testing.T) {
	t.Parallel()
	browser := authtest.BuildBrowser(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() }) // after the parallel subtests
	busyPort := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
	for _, tc := range []struct {
		name    string
		consent authtest.Consent
		opts    authtest.Options
		args    []string
		want    string
	}{
		{name: "denied", consent: authtest.Deny, want: "access was denied on the login page"},
		{name: "wrong state", consent: authtest.WrongState, want: "state does not match"},
		{name: "timeout", consent: authtest.Ignore, want: "no answer from the browser in time (2s)"},
		{name: "malformed metadata", opts: authtest.Options{Metadata: func(m map[string]any) { delete(m, "token_endpoint") }},
			want: "OAuth 2.0 metadata is malformed (no token_endpoint): tell its administrator"},
		{name: "metadata not https", opts: authtest.Options{Metadata: func(m map[string]any) { m["authorization_endpoint"] = "http://example.org/auth" }},
			want: "is not an https address"},
		{name: "port taken", args: []string{"--port", busyPort}, want: "port " + busyPort + " on 127.0.0.1 is taken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := newDuetUser(t, "fail", "Fay")
			a := authtest.Start(t, hs.URL, tc.opts)
			a.SetAccount(string(u.ID), u.Password)
			a.SetConsent(tc.consent)
			prof, _ := u.dirs.ForProfile("default")
			start := time.Now()
			r := u.runBrowser(t, browserEnv{browser: browser, timeout: 2 * time.Second},
				append([]string{"login", "--homeserver", a.URL, "--sso"}, tc.args...)...)
			line := lastLine(r.stderr)
			if r.code != 1 || !strings.HasPrefix(line, "duet: ") || !strings.Contains(line, tc.want) {
				t.Fatalf("exit %d, last line %q; want exit 1 and %q (stderr %q)", r.code, line, tc.want, r.stderr)
			}
			if tc.consent == authtest.Ignore && time.Since(start) < 2*time.Second {
				t.Fatalf("gave up after %v, before the timeout", time.Since(start))
			}
			noSession(t, prof, tc.name)
			if len(a.Secrets()) > 0 {
				noSecretsLogged(t, prof, a)
			}
		})
	}
}

// The legacy single sign-on: m.login.sso's redirect with a chosen identity provider, the
// loginToken back at the listener, m.login.token; then whoami, sending and logout.
func TestSSOLoginAndLogout(t *testing.T) {
	t.Parallel()
	u := newDuetUser(t, "sso", "Sol")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	a := authtest.Start(t, hs.URL, authtest.Options{Mode: authtest.SSO,
		Providers: []authtest.Provider{{ID: "oidc-google", Name: "Google"}, {ID: "oidc-github", Name: "GitHub"}}})
	a.SetAccount(string(u.ID), u.Password)
	browser := authtest.BuildBrowser(t)
	prof, _ := u.dirs.ForProfile("default")

	// Several identity providers: the person picks one at the terminal.
	r := u.runBrowser(t, browserEnv{browser: browser, interactive: true, stdin: strings.NewReader("2\n")}, "login", "--homeserver", a.URL, "--sso")
	if r.code != 0 {
		t.Fatalf("login --sso: exit %d, %q", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "2. GitHub (--idp oidc-github)") || !strings.Contains(r.stderr, "single sign-on with GitHub") {
		t.Fatalf("no choice offered: %q", r.stderr)
	}
	if st := a.Stats(); !slices.Equal(st.Providers, []string{"oidc-github"}) || st.LoginTokens != 1 {
		t.Fatalf("the server saw %+v", st)
	}
	sess := savedSession(t, prof)
	if sess.RefreshToken != "" || sess.OAuthClientID != "" {
		t.Fatal("a legacy single sign-on session has OAuth tokens")
	}
	var who whoJSON
	u.jsonOut(t, &who, "whoami")
	if who.UserID != u.ID || who.DeviceID != sess.DeviceID {
		t.Fatalf("whoami: %+v", who)
	}
	sent := u.send(t, string(bob.ID), "hello over sso")
	bob.Join(t, sent.RoomID)
	waitForBodies(t, bob, sent.RoomID, "hello over sso")

	// --idp chooses without asking; logging in again keeps the device.
	r = u.runBrowser(t, browserEnv{browser: browser}, "login", "--homeserver", a.URL, "--sso", "--idp", "oidc-google")
	if r.code != 0 {
		t.Fatalf("login --sso --idp: exit %d, %q", r.code, r.stderr)
	}
	again := savedSession(t, prof)
	if st := a.Stats(); !slices.Equal(st.Providers, []string{"oidc-github", "oidc-google"}) || again.DeviceID != sess.DeviceID {
		t.Fatalf("providers %q, device %s then %s", st.Providers, sess.DeviceID, again.DeviceID)
	}
	r = u.runBrowser(t, browserEnv{browser: browser}, "login", "--homeserver", a.URL, "--sso", "--idp", "saml")
	if r.code != 1 || !strings.Contains(r.stderr, `no identity provider "saml"; it offers "oidc-google" (Google), "oidc-github" (GitHub)`) {
		t.Fatalf("unknown --idp: exit %d, %q", r.code, r.stderr)
	}

	u.ok(t, "", "logout")
	noSession(t, prof, "logout")
	if live, err := a.AccessTokenLive(hstest.Ctx(t), again.AccessToken); err != nil || live {
		t.Fatalf("the access token still works after logout: %v %v", live, err)
	}
	noSecretsLogged(t, prof, a)
}

// The legacy single sign-on over SSH: the pasted address, or the bare login token.
func TestSSOPaste(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		paste func(final string) string
	}{
		{"address", func(final string) string { return "  " + final + "  " }},
		{"bare token", func(final string) string {
			i := strings.Index(final, "loginToken=")
			tok, _, _ := strings.Cut(final[i+len("loginToken="):], "&")
			return tok
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := newDuetUser(t, "ssopaste", "Sam")
			a := authtest.Start(t, hs.URL, authtest.Options{Mode: authtest.SSO, Providers: []authtest.Provider{{ID: "saml", Name: "Work"}}})
			a.SetAccount(string(u.ID), u.Password)
			r := u.pasteLogin(t, a, tc.paste, "login", "--homeserver", a.URL, "--sso", "--paste")
			if r.code != 0 {
				t.Fatalf("login --sso --paste: exit %d, %q", r.code, r.stderr)
			}
			var who whoJSON
			u.jsonOut(t, &who, "whoami")
			if who.UserID != u.ID || a.Stats().LoginTokens != 1 {
				t.Fatalf("whoami %+v, server %+v", who, a.Stats())
			}
		})
	}
}

// Failures of the legacy single sign-on, and servers that offer neither way.
func TestSSOFailures(t *testing.T) {
	t.Parallel()
	browser := authtest.BuildBrowser(t)
	u := newDuetUser(t, "ssofail", "Sid")
	prof, _ := u.dirs.ForProfile("default")
	for _, tc := range []struct {
		consent authtest.Consent
		want    string
	}{
		{authtest.Deny, "access was denied on the login page"},
		{authtest.WrongState, "state does not match"},
		{authtest.Ignore, "no answer from the browser in time (2s)"},
	} {
		a := authtest.Start(t, hs.URL, authtest.Options{Mode: authtest.SSO})
		a.SetAccount(string(u.ID), u.Password)
		a.SetConsent(tc.consent)
		r := u.runBrowser(t, browserEnv{browser: browser, timeout: 2 * time.Second}, "login", "--homeserver", a.URL, "--sso")
		if line := lastLine(r.stderr); r.code != 1 || !strings.HasPrefix(line, "duet: ") || !strings.Contains(line, tc.want) {
			t.Fatalf("exit %d, last line %q; want %q", r.code, line, tc.want)
		}
		noSession(t, prof, tc.want)
		if a.Stats().LoginTokens != 0 {
			t.Fatalf("%s: a login token was exchanged", tc.want)
		}
	}

	// Dendrite alone has neither.
	r := u.runBrowser(t, browserEnv{browser: browser}, "login", "--homeserver", hs.URL, "--sso")
	if r.code != 1 || !strings.Contains(r.stderr, "offers neither OAuth 2.0 nor single sign-on: log in with a password") {
		t.Fatalf("neither offered: exit %d, %q", r.code, r.stderr)
	}
	// A server without passwords says to use --sso.
	a := authtest.Start(t, hs.URL, authtest.Options{Mode: authtest.SSO})
	r = u.run(t, u.Password, "login", "--homeserver", a.URL, "--user", string(u.ID), "--password-stdin")
	if r.code != 1 || !strings.Contains(r.stderr, "does not take passwords") || !strings.Contains(r.stderr, "--sso") {
		t.Fatalf("password on an SSO-only server: exit %d, %q", r.code, r.stderr)
	}
	noSession(t, prof, "password refused")
	// Typed at a terminal, the password is not even asked for.
	var out, errb bytes.Buffer
	asked := false
	env := Env{Dirs: u.dirs, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		ReadPassword: func(string) (string, error) { asked = true; return u.Password, nil }}
	if code := Run(hstest.Ctx(t), env, []string{"login", "--homeserver", a.URL, "--user", string(u.ID)}); code != 1 || asked ||
		!strings.Contains(errb.String(), "--sso") {
		t.Fatalf("interactive password on an SSO-only server: exit %d, asked %v, %q", code, asked, errb.String())
	}

	for _, args := range [][]string{
		{"login", "--homeserver", hs.URL, "--paste"},
		{"login", "--sso"},
		{"login", "--homeserver", hs.URL, "--sso", "--paste", "--port", "8080"},
		{"login", "--homeserver", hs.URL, "--sso", "--password-stdin"},
	} {
		if r := u.run(t, "", args...); r.code != 2 {
			t.Fatalf("duet %s: exit %d, want 2 (%q)", strings.Join(args, " "), r.code, r.stderr)
		}
	}
}

// The session file's token fields are what the service reads back.
func TestSessionKeepsOAuthFields(t *testing.T) {
	path := t.TempDir() + "/session.json"
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	in := &store.Session{Homeserver: "https://hs", UserID: "@a:hs", DeviceID: "D", AccessToken: "at",
		RefreshToken: "rt", TokenExpiry: exp, OAuthClientID: "c"}
	if err := store.SaveSession(path, in); err != nil {
		t.Fatal(err)
	}
	out, err := store.LoadSession(path)
	if err != nil {
		t.Fatal(err)
	}
	if out.RefreshToken != "rt" || !out.TokenExpiry.Equal(exp) || out.OAuthClientID != "c" {
		t.Fatalf("read back %+v", out)
	}
	raw, _ := os.ReadFile(path)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	if _, ok := m["token_expiry"]; !ok {
		t.Fatalf("no token_expiry in %s", raw)
	}
	// A password session has none of them in its file.
	if err := store.SaveSession(path, &store.Session{Homeserver: "https://hs", UserID: "@a:hs", AccessToken: "at"}); err != nil {
		t.Fatal(err)
	}
	raw, _ = os.ReadFile(path)
	if strings.Contains(string(raw), "token_expiry") || strings.Contains(string(raw), "refresh_token") {
		t.Fatalf("a password session carries OAuth fields: %s", raw)
	}
}

// The login screen's ctrl+o runs the same login in the browser for real: the address is
// shown on the screen, nothing is printed behind the UI, and the UI goes on logged in.
func TestLoginScreenSingleSignOnForReal(t *testing.T) {
	t.Parallel()
	u := newDuetUser(t, "tui", "Tui")
	a := authtest.Start(t, hs.URL, authtest.Options{Mode: authtest.OAuth})
	a.SetAccount(string(u.ID), u.Password)
	browser := authtest.BuildBrowser(t)
	prof, _ := u.dirs.ForProfile("default")
	var out, errb bytes.Buffer
	var final tea.Model
	var notices []string
	env := Env{Dirs: u.dirs, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string {
			if k == "BROWSER" {
				return browser
			}
			return ""
		},
		RunUI: func(ctx context.Context, m tea.Model) error {
			f := &loginForm{m: m}
			done, next, err := f.startSSO(string(u.ID), a.URL, 24)
			if err != nil {
				return err
			}
			notices = append(notices, f.screen())
			f.step(<-done)
			for next != nil { // the rest go nowhere once logged in
				msg := next()
				if msg == nil {
					break
				}
				next = f.step(msg)
			}
			final = f.m
			return nil
		}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if code := Run(ctx, env, nil); code != 0 {
		t.Fatalf("the UI: exit %d, %q", code, errb.String())
	}
	if fmt.Sprintf("%T", final) != "*ui.Model" {
		t.Fatalf("still on %T after the login in the browser", final)
	}
	if len(notices) == 0 || !strings.Contains(notices[0], a.URL+"/oauth2/authorize?client_id=") || !strings.Contains(notices[0], "&state=") {
		t.Fatalf("the address was not shown on the screen: %q", notices)
	}
	if errb.Len() > 0 || out.Len() > 0 {
		t.Fatalf("printed behind the UI: %q %q", out.String(), errb.String())
	}
	if sess := savedSession(t, prof); sess.UserID != u.ID || sess.RefreshToken == "" {
		t.Fatalf("session after the UI's login: %s, refresh token %t", sess.UserID, sess.RefreshToken != "")
	}
}

// Tokens that live only seconds are refreshed before each use, the login's whoami included,
// and the newest pair is what the session file holds.
func TestOAuthShortLivedTokens(t *testing.T) {
	t.Parallel()
	u := newDuetUser(t, "short", "Shorty")
	a := authtest.Start(t, hs.URL, authtest.Options{Mode: authtest.OAuth, ExpiresIn: 5 * time.Second})
	a.SetAccount(string(u.ID), u.Password)
	prof, _ := u.dirs.ForProfile("default")
	if r := u.runBrowser(t, browserEnv{browser: authtest.BuildBrowser(t)}, "login", "--homeserver", a.URL, "--sso"); r.code != 0 {
		t.Fatalf("login: exit %d, %q", r.code, r.stderr)
	}
	if st := a.Stats(); st.Refreshes != 1 || st.SoftLogouts != 0 {
		t.Fatalf("the login's whoami did not refresh the short-lived token first: %+v", st)
	}
	for i := range 2 {
		before := a.Stats().Refreshes
		sess := savedSession(t, prof)
		if live, err := a.AccessTokenLive(hstest.Ctx(t), sess.AccessToken); err != nil || !live {
			t.Fatalf("run %d: the saved access token is not the live one (%v)", i, err)
		}
		var who whoJSON
		u.jsonOut(t, &who, "whoami")
		if who.UserID != u.ID {
			t.Fatalf("whoami: %+v", who)
		}
		// Shorter than mautrix's margin (10 s), such a token is refreshed before every request.
		if st := a.Stats(); st.Refreshes <= before || st.SoftLogouts != 0 {
			t.Fatalf("run %d: refreshes %d -> %d, soft logouts %d", i, before, st.Refreshes, st.SoftLogouts)
		}
	}
	if live, err := a.AccessTokenLive(hstest.Ctx(t), savedSession(t, prof).AccessToken); err != nil || !live {
		t.Fatalf("the last saved access token is not the live one (%v)", err)
	}
}

// Over SSH no browser opens and a listener here is out of the person's browser's reach: the
// login screen shows the address and takes the one the browser ended on, pasted into it
// (single sign-on; OAuth without the device grant goes the same way).
func TestLoginScreenPasteOverSSH(t *testing.T) {
	t.Parallel()
	u := newDuetUser(t, "tuipaste", "Paste")
	a := authtest.Start(t, hs.URL, authtest.Options{Mode: authtest.SSO})
	a.SetAccount(string(u.ID), u.Password)
	prof, _ := u.dirs.ForProfile("default")
	var out, errb bytes.Buffer
	var final tea.Model
	var asked string
	env := Env{Dirs: u.dirs, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(string) string { return "" }, // no $BROWSER, no display
		RunUI: func(ctx context.Context, m tea.Model) error {
			f := &loginForm{m: m}
			done, _, err := f.startSSO(string(u.ID), a.URL, 30) // the instruction, with the paste field
			if err != nil {
				return err
			}
			asked = f.screen()
			i := strings.Index(asked, a.URL+"/")
			j := strings.Index(asked[max(i, 0):], "duet: the browser then goes to")
			if i < 0 || j < 0 {
				return fmt.Errorf("no address to open and paste prompt on the screen: %q", asked)
			}
			addr, err := authtest.FinalAddress(a.URL, asked[i:i+j])
			if err != nil {
				return err
			}
			f.typeText(addr)
			if paste := f.step(tea.KeyPressMsg{Code: tea.KeyEnter}); paste != nil {
				f.step(paste())
			}
			select {
			case msg := <-done:
				f.step(msg)
			case <-ctx.Done():
				return errors.New("the login did not take the pasted address")
			}
			final = f.m
			return nil
		}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if code := Run(ctx, env, nil); code != 0 {
		t.Fatalf("the UI: exit %d, %q", code, errb.String())
	}
	if !strings.Contains(asked, "paste the address and press enter") {
		t.Fatalf("the screen did not ask for the address: %q", asked)
	}
	if fmt.Sprintf("%T", final) != "*ui.Model" {
		t.Fatalf("still on %T after pasting", final)
	}
	if errb.Len() > 0 || out.Len() > 0 {
		t.Fatalf("printed behind the UI: %q %q", out.String(), errb.String())
	}
	if sess := savedSession(t, prof); sess.UserID != u.ID || a.Stats().LoginTokens != 1 {
		t.Fatalf("session after pasting: %s, server %+v", sess.UserID, a.Stats())
	}
}

// loginForm drives the login screen as a person at the keyboard would.
type loginForm struct{ m tea.Model }

func (f *loginForm) step(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	f.m, cmd = f.m.Update(msg)
	return cmd
}

func (f *loginForm) typeText(s string) {
	for _, r := range s {
		f.step(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// screen is what the form shows, its lines joined without their trailing blanks, so that a
// wrapped address reads whole.
func (f *loginForm) screen() string {
	var lines []string
	for _, l := range strings.Split(f.m.View().Content, "\n") {
		lines = append(lines, strings.TrimRight(l, " "))
	}
	return strings.Join(lines, "")
}

// startSSO fills in the user ID and the homeserver on a screen of the given height and
// presses ctrl+o. The login runs on its own and ends on done; its first instruction is on the
// screen, and next brings the ones after it.
func (f *loginForm) startSSO(user, homeserver string, height int) (done <-chan tea.Msg, next tea.Cmd, err error) {
	f.step(tea.WindowSizeMsg{Width: 80, Height: height})
	f.typeText(user)
	f.step(tea.KeyPressMsg{Code: tea.KeyTab})
	f.typeText(homeserver)
	cmd := f.step(tea.KeyPressMsg{Code: 'o', Mod: tea.ModCtrl})
	batch, ok := f.step(cmd())().(tea.BatchMsg)
	if !ok {
		return nil, nil, errors.New("ctrl+o started no login")
	}
	result := make(chan tea.Msg, 1)
	go func() { result <- batch[0]() }() // the login itself
	return result, f.step(batch[1]()), nil
}
