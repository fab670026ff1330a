package matrixsvc

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/oauth"

	"duet/internal/testkit/authtest"
	"duet/internal/testkit/hstest"
	"duet/store"
)

// openOAuthService opens a service on tokens the test authorization server handed out for a
// new device, saving refreshed tokens to a session file in dir.
func openOAuthService(t *testing.T, a *authtest.Server, me *hstest.Person, expiry time.Time) (*Service, string) {
	t.Helper()
	tok, err := a.IssueTokens(hstest.Ctx(t), string(newDeviceID()))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sess := &store.Session{Homeserver: a.URL, UserID: me.ID, DeviceID: id.DeviceID(tok.DeviceID), AccessToken: tok.AccessToken,
		RefreshToken: tok.RefreshToken, TokenExpiry: expiry, OAuthClientID: tok.ClientID, PickleKey: NewPickleKey()}
	path := filepath.Join(dir, "session.json")
	if err := store.SaveSession(path, sess); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(hstest.Ctx(t), filepath.Join(dir, "duet.db"), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.CryptoStore = filepath.Join(dir, "crypto.db")
	cfg.SessionFile = path
	svc, err := New(sess, st, zerolog.Nop(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(); st.Close() })
	return svc, path
}

// The server ends the access token while the sync loop long-polls and a message waits in the
// outbox: the token is refreshed (and saved) inside the service, the sync goes on bringing
// messages, the queued message is sent once, and nobody is told they were logged out.
func TestRefreshKeepsSyncAndOutboxGoing(t *testing.T) {
	t.Parallel()
	me := hstest.NewPerson(t, hs, "me", "Me")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	a := authtest.Start(t, hs.URL, authtest.Options{Mode: authtest.OAuth})
	a.SetAccount(string(me.ID), me.Password)
	svc, path := openOAuthService(t, a, me, time.Now().Add(5*time.Minute))
	ctx := hstest.Ctx(t)
	room, err := svc.CreateDM(ctx, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	bob.Join(t, room)
	wait := runLoop(t, svc)
	loggedOut := false
	saw := func(body string) func(Event) bool {
		return func(e Event) bool {
			if _, ok := e.(LoggedOut); ok {
				loggedOut = true
				return true
			}
			if applied, ok := e.(SyncApplied); ok {
				for _, m := range applied.Messages {
					if m.Body == body {
						return true
					}
				}
			}
			return false
		}
	}
	bob.Say(t, room, "before")
	if wait("bob's first message", saw("before")); loggedOut {
		t.Fatal("logged out before the expiry")
	}
	before, _ := store.LoadSession(path)

	a.ExpireAccessTokens()
	if err := svc.Enqueue(ctx, Outgoing{Kind: KindText, Room: room, Target: bob.ID, Body: "queued across the refresh", TxnID: svc.NewTxnID()}); err != nil {
		t.Fatal(err)
	}
	bob.Say(t, room, "after")
	if wait("bob's message after the expiry", saw("after")); loggedOut {
		t.Fatal("the expired token logged the person out instead of being refreshed")
	}
	hstest.Eventually(t, 20*time.Second, func() string {
		n := 0
		for _, b := range bob.Bodies(t, room) {
			if b == "queued across the refresh" {
				n++
			}
		}
		if n != 1 {
			return fmt.Sprintf("bob has the queued message %d times", n)
		}
		return ""
	})
	st := a.Stats()
	if st.SoftLogouts == 0 || st.Refreshes == 0 {
		t.Fatalf("no soft logout or refresh happened: %+v", st)
	}
	after, err := store.LoadSession(path)
	if err != nil {
		t.Fatal(err)
	}
	if after.AccessToken == before.AccessToken || after.RefreshToken == before.RefreshToken || after.DeviceID != before.DeviceID || after.PickleKey != before.PickleKey {
		t.Fatal("the refreshed tokens were not saved over the old ones, with the rest of the session kept")
	}
	if user, device, err := svc.Whoami(ctx); err != nil || user != me.ID || device != before.DeviceID {
		t.Fatalf("whoami after the refresh: %s %s %v", user, device, err)
	}
}

// When the server refuses the refresh (the refresh token was revoked), the session is over:
// a soft logout and a token about to expire both end in ErrLoggedOut.
func TestRefusedRefreshIsLoggedOut(t *testing.T) {
	t.Parallel()
	me := hstest.NewPerson(t, hs, "me", "Me")
	a := authtest.Start(t, hs.URL, authtest.Options{Mode: authtest.OAuth})
	a.SetAccount(string(me.ID), me.Password)
	ctx := hstest.Ctx(t)

	soft, _ := openOAuthService(t, a, me, time.Now().Add(5*time.Minute))
	if _, _, err := soft.Whoami(ctx); err != nil {
		t.Fatal(err)
	}
	expiring, _ := openOAuthService(t, a, me, time.Now().Add(time.Second))
	a.ForgetRefreshTokens()
	_, _, err := soft.Whoami(ctx)
	if !errors.Is(err, ErrLoggedOut) || !IsLoggedOut(err) {
		t.Fatalf("soft logout with a refused refresh: %v", err)
	}
	_, _, err = expiring.Whoami(ctx)
	if !IsLoggedOut(err) || Explain(err) != ErrLoggedOut.Error() {
		t.Fatalf("refused refresh before expiry: %v (%s)", err, Explain(err))
	}
	// Any request's error says so too, also where the service does not wrap it.
	_, err = expiring.cli.Whoami(ctx)
	if !IsLoggedOut(err) || Explain(err) != ErrLoggedOut.Error() || Temporary(err) {
		t.Fatalf("unwrapped refused refresh: %v (%s)", err, Explain(err))
	}
}

// A network failure while refreshing is temporary: retried later, never a logout.
func TestRefreshOfflineIsTemporary(t *testing.T) {
	t.Parallel()
	me := hstest.NewPerson(t, hs, "me", "Me")
	a := authtest.Start(t, hs.URL, authtest.Options{Mode: authtest.OAuth})
	a.SetAccount(string(me.ID), me.Password)
	svc, _ := openOAuthService(t, a, me, time.Now().Add(time.Second))
	// The token endpoint moves to a closed port.
	meta, err := svc.cli.OAuthGetServerMetadata(hstest.Ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	moved := *meta
	moved.TokenEndpoint = "http://127.0.0.1:9/token"
	svc.cli.OAuthSetServerMetadata(&moved)
	_, _, err = svc.Whoami(hstest.Ctx(t))
	if err == nil || IsLoggedOut(err) || !Temporary(err) {
		t.Fatalf("refresh while the token endpoint is unreachable: %v (logged out %t, temporary %t)", err, IsLoggedOut(err), Temporary(err))
	}
}

// The answer at the loopback listener is checked before the code is used: another login's
// state, an error from the login page, a missing code. Pasted addresses read the same way.
func TestBrowserAnswers(t *testing.T) {
	for _, tc := range []struct {
		query   string
		want    error
		wantMsg string
		code    string
	}{
		{"code=abc&state=s1", nil, "", "abc"},
		{"code=abc&state=s2", ErrStateMismatch, "", ""},
		{"code=abc", ErrStateMismatch, "", ""},
		{"error=access_denied&state=s1", ErrAccessDenied, "", ""},
		{"error=access_denied&state=s2", ErrStateMismatch, "", ""},
		{"error=server_error&error_description=it%0Abroke&state=s1", nil, `the login page answered "server_error": it broke`, ""},
		{"state=s1", nil, "without a login code", ""},
	} {
		q, err := parsePasted("http://127.0.0.1/callback?" + tc.query)
		if err != nil {
			t.Fatal(err)
		}
		code, err := oauthAnswer(q, "s1")
		switch {
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s: %v, want %v", tc.query, err, tc.want)
		case tc.wantMsg != "" && (err == nil || !strings.Contains(err.Error(), tc.wantMsg)):
			t.Errorf("%s: %v, want %q", tc.query, err, tc.wantMsg)
		case tc.code != code:
			t.Errorf("%s: code %q, want %q", tc.query, code, tc.code)
		}
	}
	// The legacy single sign-on: our nonce, or a pasted bare token.
	q, _ := parsePasted("http://127.0.0.1/sso?duet_state=n1&loginToken=tok")
	if tok, err := ssoAnswer(q, "n1", true); err != nil || tok != "tok" {
		t.Errorf("pasted address: %q %v", tok, err)
	}
	if _, err := ssoAnswer(q, "n2", true); !errors.Is(err, ErrStateMismatch) {
		t.Errorf("another login's nonce: %v", err)
	}
	q, _ = parsePasted("  syt_bare_token \n")
	if tok, err := ssoAnswer(q, "n1", true); err != nil || tok != "syt_bare_token" {
		t.Errorf("bare token: %q %v", tok, err)
	}
	if _, err := ssoAnswer(q, "n1", false); !errors.Is(err, ErrStateMismatch) {
		t.Errorf("a bare token is taken only when pasted: %v", err)
	}
	for _, bad := range []string{"", "   ", "not an address with spaces", "code=abc&state=s1"} {
		if _, err := parsePasted(bad); err == nil {
			t.Errorf("pasted %q was taken", bad)
		}
	}
}

// The server's metadata must have what the login needs; https only, but for this machine.
func TestCheckMetadata(t *testing.T) {
	good := func() *oauth.ServerMetadata {
		return &oauth.ServerMetadata{
			Issuer: "https://auth.example.org/", AuthorizationEndpoint: "https://auth.example.org/authorize",
			TokenEndpoint: "https://auth.example.org/token", RegistrationEndpoint: "https://auth.example.org/register",
			RevocationEndpoint:            "https://auth.example.org/revoke",
			ResponseTypesSupported:        []oauth.ResponseType{oauth.ResponseTypeCode},
			GrantTypesSupported:           []oauth.GrantType{oauth.GrantTypeAuthorizationCode, oauth.GrantTypeRefreshToken},
			CodeChallengeMethodsSupported: []oauth.CodeChallengeMethod{oauth.CodeChallengeMethodS256},
			ResponseModesSupported:        []oauth.ResponseMode{oauth.ResponseModeQuery, oauth.ResponseModeFragment},
		}
	}
	if err := checkMetadata(good()); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(m *oauth.ServerMetadata){
		"no token_endpoint":     func(m *oauth.ServerMetadata) { m.TokenEndpoint = "" },
		"registration_endpoint": func(m *oauth.ServerMetadata) { m.RegistrationEndpoint = "http://auth.example.org/register" },
		"S256":                  func(m *oauth.ServerMetadata) { m.CodeChallengeMethodsSupported = []oauth.CodeChallengeMethod{"plain"} },
		"refresh_token":         func(m *oauth.ServerMetadata) { m.GrantTypesSupported = m.GrantTypesSupported[:1] },
		`"query"`: func(m *oauth.ServerMetadata) {
			m.ResponseModesSupported = []oauth.ResponseMode{oauth.ResponseModeFragment}
		},
		`"code"`: func(m *oauth.ServerMetadata) { m.ResponseTypesSupported = nil },
	} {
		m := good()
		edit(m)
		if err := checkMetadata(m); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
	}
	m := good()
	m.TokenEndpoint = "http://127.0.0.1:8008/token"
	if err := checkMetadata(m); err != nil {
		t.Errorf("a loopback http endpoint (a local server): %v", err)
	}
	m.DeviceAuthorizationEndpoint = "https://auth.example.org/device"
	if offersDeviceGrant(m) {
		t.Error("device grant offered without its grant type")
	}
	m.GrantTypesSupported = append(m.GrantTypesSupported, oauth.GrantTypeDeviceCode)
	if !offersDeviceGrant(m) {
		t.Error("device grant not seen")
	}
}
