// Package authtest is a test-only authorization server in front of the test homeserver:
// Dendrite has neither the OAuth 2.0 API nor single sign-on, so this reverse proxy adds them
// (auth_metadata, client registration, authorize with automatic consent, token, refresh,
// revoke and the device grant; or m.login.sso's redirect and the m.login.token exchange) and
// forwards everything else to Dendrite. The tokens it hands out are real Dendrite access
// tokens, for the device the client asked for: behind the scenes it logs the account in with
// its password. Only tests import it.
package authtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Mode is what the server offers besides Dendrite's own API.
type Mode int

const (
	// OAuth is the Matrix OAuth 2.0 API (what matrix-authentication-service provides).
	OAuth Mode = iota
	// SSO is the legacy single sign-on: m.login.sso and m.login.token, no auth_metadata.
	SSO
)

// Consent is what the "person" at the login page does.
type Consent int

const (
	Approve    Consent = iota // logs in and allows access
	Deny                      // refuses access
	WrongState                // the browser comes back with an answer meant for another login
	Ignore                    // never finishes: the browser is not sent back
)

// Provider is an identity provider listed under m.login.sso.
type Provider struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Options configure a Server.
type Options struct {
	Mode Mode
	// ExpiresIn is the access tokens' lifetime (default 5 minutes).
	ExpiresIn time.Duration
	// DeviceGrant offers the device authorization grant (OAuth mode).
	DeviceGrant bool
	// PasswordLogin keeps m.login.password in GET /login and lets it through; without it the
	// server takes no passwords, as a single sign-on only server.
	PasswordLogin bool
	// Providers are m.login.sso's identity providers (SSO mode).
	Providers []Provider
	// Metadata edits the auth_metadata answer (to make it malformed); nil leaves it.
	Metadata func(map[string]any)
}

// Stats count what the server was asked.
type Stats struct {
	Registrations  int      // OAuth clients registered
	Authorizations int      // authorize requests that were valid
	Exchanges      int      // codes (and device codes) exchanged for tokens
	Refreshes      int      // refresh grants that succeeded
	Revocations    int      // tokens revoked
	SoftLogouts    int      // requests refused with soft_logout (an ended access token)
	LoginTokens    int      // m.login.token exchanges that succeeded
	Providers      []string // identity providers chosen at the SSO redirect ("" for none)
	Scopes         []string // scopes asked for at authorize and the device grant
	LoginHints     []string
}

// Server is a running authorization server with a proxy to the homeserver.
type Server struct {
	URL string // base URL: give this to duet as the homeserver

	hs    string
	opts  Options
	http  *http.Client
	proxy *httputil.ReverseProxy
	srv   *httptest.Server

	mu          sync.Mutex
	user, pass  string
	consent     Consent
	clients     map[string]client
	codes       map[string]*authCode
	loginTokens map[string]time.Time
	devices     map[string]*deviceAuth // by device code
	userCodes   map[string]string      // user code -> device code
	grants      map[string]*grant      // by refresh token
	access      map[string]*accessInfo // by access token
	secrets     []string
	stats       Stats
}

type client struct {
	redirects []string
	grants    []string
}

type authCode struct {
	client, redirect, challenge, device, scope string
	expires                                    time.Time
}

type deviceAuth struct {
	client, device, scope string
	decided, denied       bool
	expires               time.Time
}

type grant struct {
	client, device, scope, access string
}

type accessInfo struct {
	expires time.Time
	ended   bool // expired early (ExpireAccessTokens) or replaced by a refresh
}

// Start starts a server in front of the homeserver at homeserverURL; it is closed when the
// test ends. Call SetAccount before a login.
func Start(t testing.TB, homeserverURL string, opts Options) *Server {
	t.Helper()
	if opts.ExpiresIn <= 0 {
		opts.ExpiresIn = 5 * time.Minute
	}
	target, err := url.Parse(homeserverURL)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{
		hs: strings.TrimRight(homeserverURL, "/"), opts: opts,
		http:    &http.Client{Timeout: time.Minute},
		clients: map[string]client{}, codes: map[string]*authCode{}, loginTokens: map[string]time.Time{},
		devices: map[string]*deviceAuth{}, userCodes: map[string]string{}, grants: map[string]*grant{},
		access: map[string]*accessInfo{},
	}
	s.proxy = httputil.NewSingleHostReverseProxy(target)
	s.proxy.ErrorLog = log.New(io.Discard, "", 0)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_matrix/client/v1/auth_metadata", s.metadata)
	mux.HandleFunc("POST /oauth2/register", s.register)
	mux.HandleFunc("GET /oauth2/authorize", s.authorize)
	mux.HandleFunc("POST /oauth2/token", s.token)
	mux.HandleFunc("POST /oauth2/revoke", s.revoke)
	mux.HandleFunc("POST /oauth2/device", s.deviceAuthorization)
	mux.HandleFunc("GET /oauth2/device", s.deviceVerify)
	mux.HandleFunc("GET /_matrix/client/v3/login", s.loginFlows)
	mux.HandleFunc("POST /_matrix/client/v3/login", s.login)
	mux.HandleFunc("GET /_matrix/client/v3/login/sso/redirect", s.ssoRedirect)
	mux.HandleFunc("GET /_matrix/client/v3/login/sso/redirect/{idp}", s.ssoRedirect)
	mux.HandleFunc("/", s.forward)
	s.srv = httptest.NewUnstartedServer(mux)
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.srv.Start()
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// SetAccount is who logs in at the login page: a user ID (or localpart) and password of an
// account on the homeserver.
func (s *Server) SetAccount(user, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user, s.pass = user, password
}

// SetConsent sets what the person at the login page does from now on.
func (s *Server) SetConsent(c Consent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.consent = c
}

// ExpireAccessTokens ends every access token handed out so far: the next request with one gets
// M_UNKNOWN_TOKEN with soft_logout, as a server does when a token expires.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.access {
		a.ended = true
	}
}

// ForgetRefreshTokens makes every refresh token unknown and ends every access token (softly):
// a session whose refresh the server refuses.
func (s *Server) ForgetRefreshTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.grants)
	for _, a := range s.access {
		a.ended = true
	}
}

// Stats returns a copy of the counts so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Providers = slices.Clone(st.Providers)
	st.Scopes = slices.Clone(st.Scopes)
	st.LoginHints = slices.Clone(st.LoginHints)
	return st
}

// Secrets returns every token and code handed out (to check that none reached a log).
func (s *Server) Secrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.secrets)
}

// AccessTokenLive reports whether the homeserver still takes an access token.
func (s *Server) AccessTokenLive(ctx context.Context, token string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.hs+"/_matrix/client/v3/account/whoami", nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := s.http.Do(req)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK, nil
}

// Tokens are what IssueTokens hands out.
type Tokens struct {
	ClientID, AccessToken, RefreshToken, UserID, DeviceID string
	ExpiresIn                                             time.Duration
}

// IssueTokens registers a client and hands out tokens for deviceID as a finished login would,
// without a browser: for tests of what happens after the login.
func (s *Server) IssueTokens(ctx context.Context, deviceID string) (*Tokens, error) {
	clientID := s.newSecret("client-")
	s.mu.Lock()
	s.clients[clientID] = client{redirects: []string{"http://127.0.0.1/callback"}}
	s.mu.Unlock()
	scope := "urn:matrix:client:api:* urn:matrix:client:device:" + deviceID
	tok, err := s.issue(ctx, clientID, deviceID, scope)
	if err != nil {
		return nil, err
	}
	return &Tokens{ClientID: clientID, AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, UserID: tok.userID, DeviceID: deviceID, ExpiresIn: s.opts.ExpiresIn}, nil
}

// --- the OAuth 2.0 API ---

func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	if s.opts.Mode != OAuth {
		writeJSON(w, http.StatusNotFound, map[string]any{"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"})
		return
	}
	grants := []string{"authorization_code", "refresh_token"}
	m := map[string]any{
		"issuer":                           s.URL + "/",
		"authorization_endpoint":           s.URL + "/oauth2/authorize",
		"token_endpoint":                   s.URL + "/oauth2/token",
		"registration_endpoint":            s.URL + "/oauth2/register",
		"revocation_endpoint":              s.URL + "/oauth2/revoke",
		"response_types_supported":         []string{"code"},
		"response_modes_supported":         []string{"query", "fragment"},
		"code_challenge_methods_supported": []string{"S256"},
		"prompt_values_supported":          []string{"create"},
	}
	if s.opts.DeviceGrant {
		m["device_authorization_endpoint"] = s.URL + "/oauth2/device"
		grants = append(grants, "urn:ietf:params:oauth:grant-type:device_code")
	}
	m["grant_types_supported"] = grants
	if s.opts.Metadata != nil {
		s.opts.Metadata(m)
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ApplicationType string   `json:"application_type"`
		ClientURI       string   `json:"client_uri"`
		RedirectURIs    []string `json:"redirect_uris"`
		GrantTypes      []string `json:"grant_types"`
		ResponseTypes   []string `json:"response_types"`
		AuthMethod      string   `json:"token_endpoint_auth_method"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_client_metadata", "not JSON")
		return
	}
	switch {
	case req.ApplicationType != "native":
		oauthError(w, http.StatusBadRequest, "invalid_client_metadata", "application_type must be native")
		return
	case req.AuthMethod != "none":
		oauthError(w, http.StatusBadRequest, "invalid_client_metadata", "a native client has no secret: token_endpoint_auth_method must be none")
		return
	case !strings.HasPrefix(req.ClientURI, "https://"):
		oauthError(w, http.StatusBadRequest, "invalid_client_metadata", "client_uri must be https")
		return
	case len(req.RedirectURIs) == 0 || !slices.Contains(req.GrantTypes, "authorization_code") || !slices.Contains(req.ResponseTypes, "code"):
		oauthError(w, http.StatusBadRequest, "invalid_client_metadata", "redirect_uris, the authorization_code grant and the code response type are needed")
		return
	}
	for _, u := range req.RedirectURIs {
		if !loopbackURI(u) {
			oauthError(w, http.StatusBadRequest, "invalid_redirect_uri", "a native client's redirect URIs are http://127.0.0.1 loopback addresses")
			return
		}
	}
	id := s.newSecret("client-")
	s.mu.Lock()
	s.clients[id] = client{redirects: req.RedirectURIs, grants: req.GrantTypes}
	s.stats.Registrations++
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{
		"client_id": id, "application_type": req.ApplicationType, "client_uri": req.ClientURI,
		"redirect_uris": req.RedirectURIs, "grant_types": req.GrantTypes, "response_types": req.ResponseTypes,
		"token_endpoint_auth_method": "none",
	})
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	c, ok := s.clients[q.Get("client_id")]
	consent := s.consent
	s.mu.Unlock()
	redirect := q.Get("redirect_uri")
	if !ok {
		page(w, http.StatusBadRequest, "Unknown client", "This application is not registered here.")
		return
	}
	if !c.allows(redirect) {
		page(w, http.StatusBadRequest, "Bad redirect", "The redirect address was not registered for this application.")
		return
	}
	state := q.Get("state")
	back := func(params map[string]string) {
		u, _ := url.Parse(redirect)
		v := u.Query()
		for k, val := range params {
			v.Set(k, val)
		}
		u.RawQuery = v.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
	if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" ||
		(q.Get("response_mode") != "" && q.Get("response_mode") != "query") || state == "" {
		back(map[string]string{"error": "invalid_request", "error_description": "the code flow with PKCE S256 and a state is required", "state": state})
		return
	}
	device, ok := deviceFromScope(q.Get("scope"))
	if !ok {
		back(map[string]string{"error": "invalid_scope", "error_description": "the client API scope and one device scope are required", "state": state})
		return
	}
	s.mu.Lock()
	s.stats.Authorizations++
	s.stats.Scopes = append(s.stats.Scopes, q.Get("scope"))
	s.stats.LoginHints = append(s.stats.LoginHints, q.Get("login_hint"))
	s.mu.Unlock()
	switch consent {
	case Deny:
		back(map[string]string{"error": "access_denied", "error_description": "The person did not allow access.", "state": state})
	case Ignore:
		page(w, http.StatusOK, "Log in", "Waiting for you to log in…")
	default:
		code := s.newSecret("code-")
		s.mu.Lock()
		s.codes[code] = &authCode{client: q.Get("client_id"), redirect: redirect, challenge: q.Get("code_challenge"),
			device: device, scope: q.Get("scope"), expires: time.Now().Add(2 * time.Minute)}
		s.mu.Unlock()
		if consent == WrongState {
			state += "-other"
		}
		back(map[string]string{"code": code, "state": state})
	}
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "not a form")
		return
	}
	f := r.PostForm
	clientID := f.Get("client_id")
	switch f.Get("grant_type") {
	case "authorization_code":
		s.mu.Lock()
		c := s.codes[f.Get("code")]
		delete(s.codes, f.Get("code")) // a code is used once
		s.mu.Unlock()
		switch {
		case c == nil || time.Now().After(c.expires):
			oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown or expired code")
			return
		case c.client != clientID || c.redirect != f.Get("redirect_uri"):
			oauthError(w, http.StatusBadRequest, "invalid_grant", "the code was given to another client or redirect")
			return
		case pkce(f.Get("code_verifier")) != c.challenge:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "the code verifier does not match the challenge")
			return
		}
		s.respondTokens(w, r, clientID, c.device, c.scope, func(st *Stats) { st.Exchanges++ })
	case "refresh_token":
		s.mu.Lock()
		g := s.grants[f.Get("refresh_token")]
		if g != nil && g.client == clientID {
			delete(s.grants, f.Get("refresh_token")) // rotated: the old one is spent
			if a := s.access[g.access]; a != nil {
				a.ended = true
			}
		}
		s.mu.Unlock()
		if g == nil || g.client != clientID {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown, revoked or spent refresh token")
			return
		}
		s.respondTokens(w, r, clientID, g.device, g.scope, func(st *Stats) { st.Refreshes++ })
	case "urn:ietf:params:oauth:grant-type:device_code":
		s.mu.Lock()
		d := s.devices[f.Get("device_code")]
		var errCode string
		switch {
		case d == nil || d.client != clientID:
			errCode = "invalid_grant"
		case time.Now().After(d.expires):
			errCode = "expired_token"
		case !d.decided:
			errCode = "authorization_pending"
		case d.denied:
			errCode = "access_denied"
		default:
			delete(s.devices, f.Get("device_code"))
		}
		s.mu.Unlock()
		if errCode != "" {
			oauthError(w, http.StatusBadRequest, errCode, "")
			return
		}
		s.respondTokens(w, r, clientID, d.device, d.scope, func(st *Stats) { st.Exchanges++ })
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "")
	}
}

type issued struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
	userID       string
}

func (s *Server) respondTokens(w http.ResponseWriter, r *http.Request, clientID, device, scope string, count func(*Stats)) {
	tok, err := s.issue(r.Context(), clientID, device, scope)
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	s.mu.Lock()
	count(&s.stats)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, tok)
}

// issue logs the account in at the homeserver for device (a real access token) and records a
// grant with a new refresh token.
func (s *Server) issue(ctx context.Context, clientID, device, scope string) (*issued, error) {
	token, user, err := s.dendriteLogin(ctx, device, "duet")
	if err != nil {
		return nil, err
	}
	refresh := s.newSecret("refresh-")
	s.mu.Lock()
	s.secrets = append(s.secrets, token)
	s.grants[refresh] = &grant{client: clientID, device: device, scope: scope, access: token}
	s.access[token] = &accessInfo{expires: time.Now().Add(s.opts.ExpiresIn)}
	s.mu.Unlock()
	return &issued{AccessToken: token, TokenType: "Bearer", ExpiresIn: int(s.opts.ExpiresIn / time.Second),
		RefreshToken: refresh, Scope: scope, userID: user}, nil
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "not a form")
		return
	}
	token := r.PostForm.Get("token")
	s.mu.Lock()
	var found *grant
	for refresh, g := range s.grants {
		if refresh == token || g.access == token {
			found = g
			delete(s.grants, refresh)
			break
		}
	}
	s.mu.Unlock()
	if found != nil {
		// Ending the session ends the device at the homeserver.
		if err := s.dendriteLogout(r.Context(), found.access); err != nil {
			oauthError(w, http.StatusInternalServerError, "server_error", err.Error())
			return
		}
		s.mu.Lock()
		s.stats.Revocations++
		s.mu.Unlock()
	}
	writeJSON(w, http.StatusOK, map[string]any{}) // RFC 7009: unknown tokens too
}

func (s *Server) deviceAuthorization(w http.ResponseWriter, r *http.Request) {
	if !s.opts.DeviceGrant {
		http.NotFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "not a form")
		return
	}
	clientID := r.PostForm.Get("client_id")
	s.mu.Lock()
	_, known := s.clients[clientID]
	s.mu.Unlock()
	if !known {
		oauthError(w, http.StatusBadRequest, "invalid_client", "unknown client")
		return
	}
	device, ok := deviceFromScope(r.PostForm.Get("scope"))
	if !ok {
		oauthError(w, http.StatusBadRequest, "invalid_scope", "the client API scope and one device scope are required")
		return
	}
	deviceCode, userCode := s.newSecret("devicecode-"), userCode()
	s.mu.Lock()
	s.devices[deviceCode] = &deviceAuth{client: clientID, device: device, scope: r.PostForm.Get("scope"), expires: time.Now().Add(5 * time.Minute)}
	s.userCodes[userCode] = deviceCode
	s.stats.Scopes = append(s.stats.Scopes, r.PostForm.Get("scope"))
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code": deviceCode, "user_code": userCode,
		"verification_uri":          s.URL + "/oauth2/device",
		"verification_uri_complete": s.URL + "/oauth2/device?user_code=" + url.QueryEscape(userCode),
		"expires_in":                300, "interval": 1,
	})
}

// deviceVerify is the page where the person enters the device code (here: in the address).
func (s *Server) deviceVerify(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	d := s.devices[s.userCodes[r.URL.Query().Get("user_code")]]
	consent := s.consent
	if d != nil && consent != Ignore {
		d.decided, d.denied = true, consent == Deny
	}
	s.mu.Unlock()
	if d == nil {
		page(w, http.StatusNotFound, "Unknown code", "No login is waiting for this code.")
		return
	}
	page(w, http.StatusOK, "Device", "You can go back to your device.")
}

// --- the legacy single sign-on ---

func (s *Server) loginFlows(w http.ResponseWriter, r *http.Request) {
	flows := []map[string]any{{"type": "m.login.sso", "identity_providers": s.opts.Providers}, {"type": "m.login.token"}}
	if s.opts.PasswordLogin {
		flows = append(flows, map[string]any{"type": "m.login.password"})
	}
	writeJSON(w, http.StatusOK, map[string]any{"flows": flows})
}

func (s *Server) ssoRedirect(w http.ResponseWriter, r *http.Request) {
	if s.opts.Mode != SSO {
		s.forward(w, r)
		return
	}
	redirect := r.URL.Query().Get("redirectUrl")
	u, err := url.Parse(redirect)
	if redirect == "" || err != nil || u.Scheme == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errcode": "M_MISSING_PARAM", "error": "redirectUrl is required"})
		return
	}
	idp := r.PathValue("idp")
	if idp != "" && !slices.ContainsFunc(s.opts.Providers, func(p Provider) bool { return p.ID == idp }) {
		writeJSON(w, http.StatusNotFound, map[string]any{"errcode": "M_NOT_FOUND", "error": "no such identity provider"})
		return
	}
	s.mu.Lock()
	consent := s.consent
	s.stats.Providers = append(s.stats.Providers, idp)
	s.mu.Unlock()
	v := u.Query()
	switch consent {
	case Ignore:
		page(w, http.StatusOK, "Log in", "Waiting for you to log in…")
		return
	case Deny:
		v.Set("error", "access_denied") // where the server sends the browser back at all
	case WrongState:
		for k := range v {
			v.Set(k, v.Get(k)+"-other")
		}
		fallthrough
	default:
		token := s.newSecret("logintoken-")
		s.mu.Lock()
		s.loginTokens[token] = time.Now().Add(2 * time.Minute)
		s.mu.Unlock()
		v.Set("loginToken", token)
	}
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// login takes m.login.token (and m.login.password when allowed) at POST /login.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return
	}
	var req struct {
		Type        string `json:"type"`
		Token       string `json:"token"`
		DeviceID    string `json:"device_id"`
		DisplayName string `json:"initial_device_display_name"`
	}
	_ = json.Unmarshal(body, &req)
	switch req.Type {
	case "m.login.token":
		s.mu.Lock()
		expires, ok := s.loginTokens[req.Token]
		delete(s.loginTokens, req.Token) // used once
		s.mu.Unlock()
		if !ok || time.Now().After(expires) {
			writeJSON(w, http.StatusForbidden, map[string]any{"errcode": "M_FORBIDDEN", "error": "invalid or expired login token"})
			return
		}
		token, user, device, err := s.dendriteLoginFull(r.Context(), req.DeviceID, req.DisplayName)
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]any{"errcode": "M_UNKNOWN", "error": err.Error()})
			return
		}
		s.mu.Lock()
		s.secrets = append(s.secrets, token)
		s.stats.LoginTokens++
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"user_id": user, "access_token": token, "device_id": device})
	case "m.login.password":
		if !s.opts.PasswordLogin {
			writeJSON(w, http.StatusBadRequest, map[string]any{"errcode": "M_UNKNOWN", "error": "password login is disabled on this server"})
			return
		}
		fallthrough
	default:
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		s.forward(w, r)
	}
}

// forward sends a request on to the homeserver, refusing access tokens that ended as a real
// server does: M_UNKNOWN_TOKEN with soft_logout.
func (s *Server) forward(w http.ResponseWriter, r *http.Request) {
	if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		s.mu.Lock()
		a := s.access[token]
		ended := a != nil && (a.ended || time.Now().After(a.expires))
		if ended {
			s.stats.SoftLogouts++
		}
		s.mu.Unlock()
		if ended {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"errcode": "M_UNKNOWN_TOKEN", "error": "Access token has expired", "soft_logout": true})
			return
		}
	}
	s.proxy.ServeHTTP(w, r)
}

// --- the homeserver behind ---

func (s *Server) dendriteLogin(ctx context.Context, device, name string) (token, user string, err error) {
	token, user, _, err = s.dendriteLoginFull(ctx, device, name)
	return token, user, err
}

func (s *Server) dendriteLoginFull(ctx context.Context, device, name string) (token, user, deviceID string, err error) {
	s.mu.Lock()
	who, pass := s.user, s.pass
	s.mu.Unlock()
	if who == "" {
		return "", "", "", fmt.Errorf("authtest: no account set (SetAccount)")
	}
	body := map[string]any{
		"type":                        "m.login.password",
		"identifier":                  map[string]any{"type": "m.id.user", "user": who},
		"password":                    pass,
		"initial_device_display_name": name,
	}
	if device != "" {
		body["device_id"] = device
	}
	var resp struct {
		UserID      string `json:"user_id"`
		AccessToken string `json:"access_token"`
		DeviceID    string `json:"device_id"`
	}
	if err := s.call(ctx, "/_matrix/client/v3/login", "", body, &resp); err != nil {
		return "", "", "", err
	}
	return resp.AccessToken, resp.UserID, resp.DeviceID, nil
}

func (s *Server) dendriteLogout(ctx context.Context, token string) error {
	return s.call(ctx, "/_matrix/client/v3/logout", token, map[string]any{}, nil)
}

func (s *Server) call(ctx context.Context, path, token string, in, out any) error {
	data, _ := json.Marshal(in)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.hs+path, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("authtest: homeserver %s: HTTP %d: %s", path, resp.StatusCode, body)
	}
	if out != nil {
		return json.Unmarshal(body, out)
	}
	return nil
}

// --- helpers ---

func (c client) allows(redirect string) bool {
	u, err := url.Parse(redirect)
	if err != nil {
		return false
	}
	for _, r := range c.redirects {
		reg, err := url.Parse(r)
		if err != nil {
			continue
		}
		// RFC 8252: a loopback redirect matches whatever its port.
		if reg.Scheme == u.Scheme && reg.Hostname() == u.Hostname() && reg.Path == u.Path && reg.RawQuery == u.RawQuery {
			return true
		}
	}
	return false
}

func loopbackURI(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return u.Hostname() == "localhost" || ip != nil && ip.IsLoopback()
}

// deviceFromScope finds the device ID in a scope that also asks for the client API.
func deviceFromScope(scope string) (string, bool) {
	var device string
	api := false
	for _, s := range strings.Fields(scope) {
		if s == "urn:matrix:client:api:*" {
			api = true
		}
		if d, ok := strings.CutPrefix(s, "urn:matrix:client:device:"); ok {
			if device != "" || d == "" {
				return "", false
			}
			device = d
		}
	}
	return device, api && device != ""
}

func pkce(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (s *Server) newSecret(prefix string) string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	v := prefix + base64.RawURLEncoding.EncodeToString(b)
	s.mu.Lock()
	s.secrets = append(s.secrets, v)
	s.mu.Unlock()
	return v
}

func userCode() string {
	const letters = "BCDFGHJKLMNPQRSTVWXZ"
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b[:4]) + "-" + string(b[4:])
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]any{"error": code, "error_description": desc})
}

func page(w http.ResponseWriter, status int, title, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><title>%s</title><h1>%s</h1><p>%s</p>\n", html.EscapeString(title), html.EscapeString(title), html.EscapeString(text))
}
