package matrixsvc

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/oauth"

	"duet/store"
)

// BrowserLoginTimeout is how long a login waits for the browser (or the pasted address, or
// the device code) by default.
const BrowserLoginTimeout = 5 * time.Minute

// ClientURI is the web page a homeserver shows for duet when it registers as an OAuth 2.0
// client (it must be https).
const ClientURI = "https://github.com/duet-chat/duet"

// The browser comes back to pasteHost (with the listener's port) on these paths. With --paste
// nothing listens: the address need not load, only show in the address bar to be copied.
const (
	oauthCallbackPath = "/callback"
	ssoCallbackPath   = "/sso"
	pasteHost         = "http://127.0.0.1"
)

// BrowserLoginParams are what a login in the browser needs: the OAuth 2.0 API when the
// homeserver has it, else the legacy single sign-on (m.login.sso).
type BrowserLoginParams struct {
	Homeserver string      // base URL; empty: discovered from User's server
	User       string      // optional: a hint for the login page, and how to find the server
	DeviceID   id.DeviceID // reuse this device; empty: a new one
	DeviceName string

	// KnownClient returns the OAuth 2.0 client ID duet registered at this homeserver before
	// ("" registers a new one).
	KnownClient func(homeserver string) string
	// Provider is the identity provider to use for the legacy single sign-on; empty: the one
	// PickProvider returns when there are several, or the server's own choice page.
	Provider     string
	PickProvider func([]IdentityProvider) (string, error)

	// Browser opens an address in the person's browser; nil when none can be opened here.
	Browser func(url string) error
	// Paste, when set, reads the address the browser ended on (or a bare login token) from
	// the person instead of listening for it: for a browser on another machine.
	Paste func() (string, error)
	// PasteWithoutBrowser is Paste for when no browser can be opened here (Browser is nil)
	// and the server offers no device authorization: in the UI over SSH, where a listener on
	// this machine cannot be reached from the person's browser.
	PasteWithoutBrowser func() (string, error)
	// Port is the loopback port to listen on; 0 takes a free one.
	Port int
	// Tell shows the person what to do: the address to open, a code to enter.
	Tell func(BrowserPrompt)
	// Timeout bounds the wait for the browser; 0 is BrowserLoginTimeout.
	Timeout time.Duration
}

// BrowserPrompt is what the person has to do to log in.
type BrowserPrompt struct {
	URL         string // the address to open
	UserCode    string // device authorization: the code to enter at URL (URL may carry it)
	Paste       bool   // paste the address the browser ends on
	Opening     bool   // duet is opening a browser with URL
	BrowserErr  error  // opening the browser failed: open URL by hand
	Provider    string // legacy single sign-on through this identity provider
	SingleLogin bool   // legacy single sign-on (m.login.sso) rather than OAuth 2.0
}

// Failures of a browser login that are the person's or the browser's, not the server's.
var (
	ErrAccessDenied  = errors.New("access was denied on the login page")
	ErrStateMismatch = errors.New("the browser came back from another login (its state does not match this one)")
	ErrLoginTimedOut = errors.New("no answer from the browser in time")
)

// LoginWithBrowser logs in where a password is not enough and returns the new session; it
// does not save it. The homeserver's OAuth 2.0 API is used when it has one (registration as a
// native client, authorization code with PKCE, or the device authorization grant when no
// browser can be opened here), else m.login.sso with an m.login.token exchange.
func LoginWithBrowser(ctx context.Context, p BrowserLoginParams, log zerolog.Logger) (*store.Session, error) {
	if p.Tell == nil {
		return nil, errors.New("login: nowhere to show the login address")
	}
	if p.Timeout <= 0 {
		p.Timeout = BrowserLoginTimeout
	}
	if p.DeviceName == "" {
		p.DeviceName = DefaultConfig().DeviceName
	}
	hs := strings.TrimSpace(p.Homeserver)
	if hs == "" {
		var err error
		if hs, _, err = resolveHomeserver(ctx, discoveryClient, "", p.User); err != nil {
			return nil, err
		}
	}
	hs = strings.TrimRight(hs, "/")
	cli, err := homeserverClient(ctx, hs, log)
	if err != nil {
		return nil, err
	}
	methods, err := discoverAuth(ctx, cli)
	if err != nil {
		return nil, err
	}
	var sess *store.Session
	switch {
	case methods.OAuth != nil:
		sess, err = oauthLogin(ctx, cli, hs, methods.OAuth, p)
	case methods.SSO:
		sess, err = ssoLogin(ctx, cli, hs, methods.IdPs, p)
	default:
		return nil, fmt.Errorf("%s offers neither OAuth 2.0 nor single sign-on: log in with a password (duet login --homeserver %s --user @you:server)", hs, hs)
	}
	if err != nil {
		return nil, timedOutAs(err, p.Timeout)
	}
	return sess, nil
}

// timedOutAs says what a login that waited too long means.
func timedOutAs(err error, d time.Duration) error {
	if errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, ErrLoginTimedOut) {
		return fmt.Errorf("%w (%s): nothing was changed; run the login again (from SSH: duet login --sso --paste)", ErrLoginTimedOut, minutes(d))
	}
	return err
}

func minutes(d time.Duration) string {
	if d >= time.Minute && d%time.Minute == 0 {
		if d == time.Minute {
			return "1 minute"
		}
		return fmt.Sprintf("%d minutes", d/time.Minute)
	}
	return d.String()
}

// oauthLogin is the OAuth 2.0 API's login: a registered client, then a code from the browser
// or the device grant, then whoami for the user and device the tokens belong to.
func oauthLogin(ctx context.Context, cli *mautrix.Client, hs string, meta *oauth.ServerMetadata, p BrowserLoginParams) (*store.Session, error) {
	device := p.DeviceID
	if device == "" {
		device = newDeviceID()
	}
	scopes := oauth.ScopeList{oauth.ScopeClientAPI, oauth.ScopeDevice(device)}
	useDeviceGrant := p.Paste == nil && p.Browser == nil && p.Port == 0 && offersDeviceGrant(meta)
	if !useDeviceGrant && p.Paste == nil && p.Browser == nil {
		p.Paste = p.PasteWithoutBrowser
	}
	clientID, err := oauthClient(ctx, cli, hs, meta, p)
	if err != nil {
		return nil, err
	}
	waitCtx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	hint := id.UserID("")
	if strings.HasPrefix(p.User, "@") && strings.Contains(p.User, ":") {
		hint = id.UserID(p.User)
	}
	start := time.Now()
	var tok *oauth.TokenResponse
	if useDeviceGrant {
		tok, err = deviceGrant(waitCtx, cli, clientID, scopes, hint, p)
	} else {
		tok, err = codeGrant(waitCtx, cli, clientID, scopes, hint, p)
	}
	if err != nil {
		return nil, err
	}
	if tok.AccessToken == "" {
		return nil, errors.New("the homeserver's token endpoint gave no access token: tell its administrator")
	}
	sess := &store.Session{
		Homeserver:    hs,
		AccessToken:   tok.AccessToken,
		RefreshToken:  tok.RefreshToken,
		TokenExpiry:   tokenExpiry(start, tok.ExpiresIn.Duration),
		OAuthClientID: clientID,
	}
	// A token that lives only seconds is refreshed before whoami already.
	cli.SaveNewToken = func(_ context.Context, refreshToken, accessToken string, expiry time.Time) error {
		sess.RefreshToken, sess.AccessToken, sess.TokenExpiry = refreshToken, accessToken, expiry.Round(0).UTC()
		return nil
	}
	cli.OAuthSetTokens(clientID, tok.RefreshToken, tok.AccessToken, clientExpiry(sess.TokenExpiry))
	who, err := cli.Whoami(ctx)
	if err != nil {
		// The tokens are live at the server but unusable here: give them back.
		_ = cli.OAuthRevokeToken(context.WithoutCancel(ctx))
		return nil, explainf(err, "logged in, but the homeserver does not accept the new token")
	}
	sess.UserID, sess.DeviceID = who.UserID, who.DeviceID
	return sess, nil
}

// oauthClient returns duet's client ID at the homeserver, registering duet as a native client
// (no secret, loopback redirects, PKCE) when it has none yet.
func oauthClient(ctx context.Context, cli *mautrix.Client, hs string, meta *oauth.ServerMetadata, p BrowserLoginParams) (string, error) {
	if p.KnownClient != nil {
		if known := p.KnownClient(hs); known != "" {
			return known, nil
		}
	}
	grants := []oauth.GrantType{oauth.GrantTypeAuthorizationCode, oauth.GrantTypeRefreshToken}
	if offersDeviceGrant(meta) {
		grants = append(grants, oauth.GrantTypeDeviceCode)
	}
	resp, err := cli.OAuthRegisterClient(ctx, &oauth.ClientMetadata{
		ApplicationType:         oauth.ApplicationTypeNative,
		ClientName:              "duet",
		ClientURI:               ClientURI,
		GrantTypes:              grants,
		RedirectURIs:            []string{pasteHost + oauthCallbackPath},
		ResponseTypes:           []oauth.ResponseType{oauth.ResponseTypeCode},
		TokenEndpointAuthMethod: oauth.AuthMethodNone,
	})
	if err != nil {
		return "", explainOAuthf(err, "the homeserver would not register duet as an OAuth 2.0 client")
	}
	if resp == nil || resp.ClientID == "" {
		return "", errors.New("the homeserver registered duet as an OAuth 2.0 client but gave no client ID: tell its administrator")
	}
	return resp.ClientID, nil
}

// codeGrant is the authorization code flow with PKCE S256: the browser logs in and comes back
// to the loopback listener (or the person pastes where it ended), and the code is exchanged.
func codeGrant(ctx context.Context, cli *mautrix.Client, clientID string, scopes oauth.ScopeList, hint id.UserID, p BrowserLoginParams) (*oauth.TokenResponse, error) {
	var state atomic.Pointer[string]
	check := func(q url.Values) error {
		want := state.Load()
		if want == nil {
			return ErrStateMismatch
		}
		_, err := oauthAnswer(q, *want)
		return err
	}
	redirect := pasteHost + oauthCallbackPath
	var lb *loopback
	if p.Paste == nil {
		var err error
		if lb, err = listenLoopback(p.Port, oauthCallbackPath, check); err != nil {
			return nil, err
		}
		defer lb.close()
		redirect = lb.redirectURI()
	}
	auth, err := cli.OAuthGetAuthorizationURL(ctx, oauth.GetAuthorizationURLParams{
		RedirectURI:  redirect,
		Scopes:       scopes,
		UserIDHint:   hint,
		ClientID:     clientID,
		ResponseMode: oauth.ResponseModeQuery,
	})
	if err != nil {
		return nil, fmt.Errorf("build the login address: %w", err)
	}
	if err := unguessableState(auth); err != nil {
		return nil, err
	}
	state.Store(&auth.State)
	q, err := askBrowser(ctx, auth.URL, lb, p, BrowserPrompt{})
	if err != nil {
		return nil, err
	}
	code, err := oauthAnswer(q, auth.State)
	if err != nil {
		return nil, err
	}
	tok, err := cli.OAuthExchangeToken(ctx, oauth.ExchangeTokenParams{
		CodeVerifier: auth.CodeVerifier,
		RedirectURI:  redirect,
		Code:         code,
		ClientID:     clientID,
	})
	if err != nil {
		return nil, explainOAuthf(err, "the homeserver did not take the login code")
	}
	return tok, nil
}

// unguessableState replaces mautrix's state (a transaction ID: a counter and the time) with a
// random one, so that no other page can forge the browser's answer.
func unguessableState(auth *oauth.AuthorizationCodeResponse) error {
	u, err := url.Parse(auth.URL)
	if err != nil {
		return fmt.Errorf("build the login address: %w", err)
	}
	q := u.Query()
	auth.State = randomToken(24)
	q.Set("state", auth.State)
	u.RawQuery = q.Encode()
	auth.URL = u.String()
	return nil
}

// oauthAnswer checks the browser's answer and returns its code.
func oauthAnswer(q url.Values, state string) (string, error) {
	if e := q.Get("error"); e != "" {
		if q.Get("state") != state {
			return "", fmt.Errorf("%w: nothing was changed; start the login again", ErrStateMismatch)
		}
		if e == "access_denied" {
			return "", fmt.Errorf("%w: nothing was changed; run the login again to retry", ErrAccessDenied)
		}
		return "", fmt.Errorf("the login page answered %q: %s", e, oneLineText(q.Get("error_description")))
	}
	if q.Get("state") != state {
		return "", fmt.Errorf("%w: nothing was changed; start the login again", ErrStateMismatch)
	}
	code := q.Get("code")
	if code == "" {
		return "", errors.New("the browser came back without a login code: paste the whole address it ended on")
	}
	return code, nil
}

// deviceGrant is the device authorization grant: the person opens an address on any device
// and enters a code while duet polls the token endpoint.
func deviceGrant(ctx context.Context, cli *mautrix.Client, clientID string, scopes oauth.ScopeList, hint id.UserID, p BrowserLoginParams) (*oauth.TokenResponse, error) {
	dc, err := cli.OAuthGenerateDeviceCode(ctx, oauth.GenerateDeviceCodeParams{Scopes: scopes, UserIDHint: hint, ClientID: clientID})
	if err != nil {
		return nil, explainOAuthf(err, "the homeserver gave no device code")
	}
	shown := dc.VerificationURIComplete
	if shown == "" {
		shown = dc.VerificationURI
	}
	p.Tell(BrowserPrompt{URL: shown, UserCode: dc.UserCode})
	interval := dc.Interval.Duration
	if interval <= 0 {
		interval = 5 * time.Second
	}
	if dc.ExpiresIn.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, dc.ExpiresIn.Duration)
		defer cancel()
	}
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(interval):
		}
		tok, err := cli.OAuthPollDeviceCode(ctx, oauth.PollDeviceCodeParams{DeviceCode: dc.DeviceCode, ClientID: clientID})
		switch oauthErrCode(err) {
		case "":
			if err != nil {
				return nil, explainOAuthf(err, "waiting for the code to be entered")
			}
			return tok, nil
		case "authorization_pending":
		case "slow_down":
			interval += 5 * time.Second
		case "access_denied":
			return nil, fmt.Errorf("%w: nothing was changed; run the login again to retry", ErrAccessDenied)
		case "expired_token":
			return nil, errors.New("the code expired before it was entered: run the login again")
		default:
			return nil, explainOAuthf(err, "waiting for the code to be entered")
		}
	}
}

// ssoLogin is the legacy single sign-on: the browser logs in at the server's SSO redirect and
// comes back with a loginToken, exchanged with m.login.token for a session.
func ssoLogin(ctx context.Context, cli *mautrix.Client, hs string, idps []IdentityProvider, p BrowserLoginParams) (*store.Session, error) {
	idp, err := chooseProvider(idps, p)
	if err != nil {
		return nil, err
	}
	if p.Paste == nil && p.Browser == nil {
		p.Paste = p.PasteWithoutBrowser
	}
	waitCtx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	// The redirect carries a nonce of ours: the legacy flow has no state, and an answer that
	// is not for this login must not log anyone in.
	nonce := randomToken(16)
	check := func(q url.Values) error { _, err := ssoAnswer(q, nonce, false); return err }
	base := pasteHost + ssoCallbackPath
	var lb *loopback
	if p.Paste == nil {
		var err error
		if lb, err = listenLoopback(p.Port, ssoCallbackPath, check); err != nil {
			return nil, err
		}
		defer lb.close()
		base = lb.redirectURI()
	}
	path := mautrix.ClientURLPath{"v3", "login", "sso", "redirect"}
	if idp != "" {
		path = append(path, idp)
	}
	ssoURL := cli.BuildURLWithQuery(path, map[string]string{"redirectUrl": base + "?duet_state=" + nonce})
	q, err := askBrowser(waitCtx, ssoURL, lb, p, BrowserPrompt{SingleLogin: true, Provider: providerName(idps, idp)})
	if err != nil {
		return nil, err
	}
	token, err := ssoAnswer(q, nonce, p.Paste != nil)
	if err != nil {
		return nil, err
	}
	return tokenLogin(ctx, cli, hs, token, p)
}

// chooseProvider is the identity provider to log in with: the one asked for (which the server
// must offer, when it lists any), the only one, or the one picked from several; "" for the
// server's own choice.
func chooseProvider(idps []IdentityProvider, p BrowserLoginParams) (string, error) {
	idp := p.Provider
	switch {
	case idp != "":
		if len(idps) > 0 && !hasProvider(idps, idp) {
			return "", fmt.Errorf("the homeserver has no identity provider %q; it offers %s", idp, providerList(idps))
		}
	case len(idps) == 1:
		idp = idps[0].ID
	case len(idps) > 1 && p.PickProvider != nil:
		return p.PickProvider(idps)
	}
	return idp, nil
}

// tokenLogin exchanges the login token single sign-on gave for a session (m.login.token), at
// the homeserver the server's answer names when it names one.
func tokenLogin(ctx context.Context, cli *mautrix.Client, hs, token string, p BrowserLoginParams) (*store.Session, error) {
	resp, err := cli.Login(ctx, &mautrix.ReqLogin{
		Type:                     mautrix.AuthTypeToken,
		Token:                    token,
		DeviceID:                 p.DeviceID,
		InitialDeviceDisplayName: p.DeviceName,
	})
	if err != nil {
		if errors.Is(err, mautrix.MForbidden) {
			return nil, errors.New("the homeserver did not take the login token (expired or used already): run the login again")
		}
		return nil, explainf(err, "login failed")
	}
	if resp.WellKnown != nil && resp.WellKnown.Homeserver.BaseURL != "" {
		hs = strings.TrimRight(resp.WellKnown.Homeserver.BaseURL, "/")
	}
	return &store.Session{Homeserver: hs, UserID: resp.UserID, DeviceID: resp.DeviceID, AccessToken: resp.AccessToken}, nil
}

// ssoAnswer checks the browser's answer of the legacy single sign-on and returns its login
// token. A pasted bare token has nothing to check.
func ssoAnswer(q url.Values, nonce string, pasted bool) (string, error) {
	if bare := q.Get(bareTokenKey); bare != "" && pasted {
		return bare, nil
	}
	if q.Get("duet_state") != nonce {
		return "", fmt.Errorf("%w: nothing was changed; start the login again", ErrStateMismatch)
	}
	token := q.Get("loginToken")
	if token == "" {
		if q.Get("error") == "access_denied" {
			return "", fmt.Errorf("%w: nothing was changed; run the login again to retry", ErrAccessDenied)
		}
		return "", fmt.Errorf("%w (the browser came back without a login token): nothing was changed; run the login again to retry", ErrAccessDenied)
	}
	return token, nil
}

// bareTokenKey carries a pasted bare login token through the same checks as an address.
const bareTokenKey = "\x00bare"

// askBrowser shows the address, opens the browser when there is one, and waits for the
// answer: the loopback listener's, or the address the person pastes.
func askBrowser(ctx context.Context, addr string, lb *loopback, p BrowserLoginParams, prompt BrowserPrompt) (url.Values, error) {
	prompt.URL = addr
	prompt.Paste = p.Paste != nil
	prompt.Opening = p.Browser != nil && p.Paste == nil
	p.Tell(prompt)
	if prompt.Opening {
		if err := p.Browser(addr); err != nil {
			prompt.Opening, prompt.BrowserErr = false, err
			p.Tell(prompt)
		}
	}
	if lb != nil {
		return lb.wait(ctx)
	}
	type pasted struct {
		text string
		err  error
	}
	got := make(chan pasted, 1)
	go func() { // a read of the terminal cannot be cancelled; it ends with the process
		text, err := p.Paste()
		got <- pasted{text, err}
	}()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-got:
		if r.err != nil {
			return nil, fmt.Errorf("read the pasted address: %w", r.err)
		}
		return parsePasted(r.text)
	}
}

// parsePasted reads the address the browser ended on: its query (and fragment) parameters; a
// bare token (no scheme, no spaces) is kept under bareTokenKey.
func parsePasted(text string) (url.Values, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, errors.New("nothing was pasted: run the login again and paste the address the browser ended on")
	}
	if !strings.Contains(text, "://") {
		if strings.ContainsAny(text, " \t?&=") {
			return nil, errors.New("that is not the address the browser ended on: paste the whole address, starting with http://127.0.0.1/")
		}
		return url.Values{bareTokenKey: {text}}, nil
	}
	u, err := url.Parse(text)
	if err != nil {
		return nil, errors.New("that is not the address the browser ended on: paste the whole address, starting with http://127.0.0.1/")
	}
	q := u.Query()
	if frag, err := url.ParseQuery(u.Fragment); err == nil {
		for k, v := range frag {
			if _, ok := q[k]; !ok {
				q[k] = v
			}
		}
	}
	return q, nil
}

func hasProvider(idps []IdentityProvider, id string) bool {
	for _, p := range idps {
		if p.ID == id {
			return true
		}
	}
	return false
}

func providerName(idps []IdentityProvider, id string) string {
	for _, p := range idps {
		if p.ID == id && p.Name != "" {
			return p.Name
		}
	}
	return id
}

func providerList(idps []IdentityProvider) string {
	names := make([]string, len(idps))
	for i, p := range idps {
		names[i] = fmt.Sprintf("%q (%s)", p.ID, oneLineText(p.Name))
	}
	return strings.Join(names, ", ")
}

// oauthErrCode is the OAuth 2.0 error code of a failed token request ("" for none).
func oauthErrCode(err error) string {
	var httpErr mautrix.HTTPError
	if errors.As(err, &httpErr) && httpErr.RespError != nil {
		return httpErr.RespError.ErrCode
	}
	return ""
}

// explainOAuthf is explainf for the OAuth 2.0 endpoints (explainOAuth), keeping err as the cause.
func explainOAuthf(err error, format string, args ...any) error {
	return &saidError{msg: fmt.Sprintf(format, args...) + ": " + explainOAuth(err), err: err}
}

// explainOAuth is Explain for the OAuth 2.0 endpoints, whose errors are not Matrix's.
func explainOAuth(err error) string {
	var httpErr mautrix.HTTPError
	if errors.As(err, &httpErr) && httpErr.RespError != nil && httpErr.RespError.OAuth {
		desc := oneLineText(httpErr.RespError.Err)
		if desc == "" {
			return httpErr.RespError.ErrCode
		}
		return fmt.Sprintf("%s (%s)", desc, httpErr.RespError.ErrCode)
	}
	return Explain(err)
}

// oneLineText keeps what a server says to one short line.
func oneLineText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// tokenExpiry is when an access token given at start for expiresIn runs out; zero for never.
func tokenExpiry(start time.Time, expiresIn time.Duration) time.Time {
	if expiresIn <= 0 {
		return time.Time{}
	}
	return start.Add(expiresIn).Round(0).UTC()
}

// clientExpiry is the expiry to give mautrix: a token without one is refreshed only when the
// server says it expired (mautrix would otherwise refresh before every request).
func clientExpiry(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now().AddDate(100, 0, 0)
	}
	return t
}

// newDeviceID makes the ID of a new device: ten capital letters, as homeservers make them.
func newDeviceID() id.DeviceID {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return id.DeviceID(b)
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
