package matrixsvc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/oauth"
)

// IdentityProvider is one of the single sign-on providers a homeserver lists under m.login.sso
// ("Continue with Google", an organisation's SAML, ...).
type IdentityProvider struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// AuthMethods are the ways a homeserver lets people log in.
type AuthMethods struct {
	// OAuth is the server's OAuth 2.0 API metadata (GET /_matrix/client/v1/auth_metadata), nil
	// when it has none. When set, it has been checked to have what duet needs.
	OAuth    *oauth.ServerMetadata
	Password bool               // m.login.password
	SSO      bool               // m.login.sso, the legacy single sign-on
	Token    bool               // m.login.token, which the legacy single sign-on ends with
	IdPs     []IdentityProvider // m.login.sso's identity providers; empty: the server picks
}

// ErrPasswordNotOffered means a homeserver does not take passwords, only single sign-on or
// OAuth 2.0.
var ErrPasswordNotOffered = errors.New("this homeserver does not take passwords: log in with single sign-on (`duet login --homeserver URL --sso`, or ctrl+o on the login screen)")

// ErrMetadataMalformed is wrapped by every complaint about a server's OAuth 2.0 metadata.
var ErrMetadataMalformed = errors.New("the homeserver's OAuth 2.0 metadata is malformed")

// discoverAuth asks the homeserver behind cli what it offers: the OAuth 2.0 API when
// auth_metadata answers, and the flows of GET /login. Metadata that answers but is unusable is
// an error: logging in another way would hide a broken server from the person.
func discoverAuth(ctx context.Context, cli *mautrix.Client) (*AuthMethods, error) {
	var m AuthMethods
	meta, err := cli.OAuthGetServerMetadata(ctx)
	switch {
	case err == nil:
		if err := checkMetadata(meta); err != nil {
			return nil, fmt.Errorf("%w (%w): tell its administrator", ErrMetadataMalformed, err)
		}
		m.OAuth = meta
	case notOffered(err):
	case isNetErr(err):
		return nil, explained(err)
	default:
		// It answered, but not with metadata: a JSON that does not decode, or an odd status.
		// Said in words of its own: the server's answer is no refusal or outage to explain.
		return nil, &saidError{msg: fmt.Sprintf("%v (%s): tell its administrator", ErrMetadataMalformed, metadataProblem(err)),
			err: fmt.Errorf("%w: %w", ErrMetadataMalformed, err)}
	}
	var flows struct {
		Flows []struct {
			Type mautrix.AuthType   `json:"type"`
			IdPs []IdentityProvider `json:"identity_providers"`
		} `json:"flows"`
	}
	if _, err := cli.MakeRequest(ctx, http.MethodGet, cli.BuildClientURL("v3", "login"), nil, &flows); err != nil {
		if m.OAuth != nil {
			return &m, nil // a server on the OAuth 2.0 API alone may have no /login
		}
		return nil, explainf(err, "ask the homeserver how to log in")
	}
	for _, f := range flows.Flows {
		switch f.Type {
		case mautrix.AuthTypePassword:
			m.Password = true
		case mautrix.AuthTypeSSO:
			m.SSO = true
			m.IdPs = append(m.IdPs, f.IdPs...)
		case mautrix.AuthTypeToken:
			m.Token = true
		}
	}
	return &m, nil
}

// notOffered reports whether auth_metadata's answer means the server has no OAuth 2.0 API.
func notOffered(err error) bool {
	var httpErr mautrix.HTTPError
	if !errors.As(err, &httpErr) || httpErr.Response == nil {
		return false
	}
	switch httpErr.Response.StatusCode {
	case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return true
	}
	return errors.Is(err, mautrix.MUnrecognized)
}

func metadataProblem(err error) string {
	var httpErr mautrix.HTTPError
	if errors.As(err, &httpErr) && httpErr.Response != nil {
		if httpErr.Response.StatusCode/100 == 2 {
			return "not a JSON object of metadata"
		}
		return fmt.Sprintf("HTTP %d", httpErr.Response.StatusCode)
	}
	return err.Error()
}

// checkMetadata makes sure the server's metadata has what duet's login needs (the Matrix spec's
// OAuth 2.0 API: endpoints, the code flow with PKCE S256, refresh tokens, the query response
// mode for a loopback redirect).
func checkMetadata(m *oauth.ServerMetadata) error {
	endpoints := []struct{ name, url string }{
		{"issuer", m.Issuer},
		{"authorization_endpoint", m.AuthorizationEndpoint},
		{"token_endpoint", m.TokenEndpoint},
		{"registration_endpoint", m.RegistrationEndpoint},
		{"revocation_endpoint", m.RevocationEndpoint},
	}
	if m.DeviceAuthorizationEndpoint != "" {
		endpoints = append(endpoints, struct{ name, url string }{"device_authorization_endpoint", m.DeviceAuthorizationEndpoint})
	}
	for _, e := range endpoints {
		if e.url == "" {
			return fmt.Errorf("no %s", e.name)
		}
		if !secureURL(e.url) {
			return fmt.Errorf("%s %q is not an https address", e.name, e.url)
		}
	}
	if !slices.Contains(m.ResponseTypesSupported, oauth.ResponseTypeCode) {
		return errors.New(`response type "code" not supported`)
	}
	if !slices.Contains(m.CodeChallengeMethodsSupported, oauth.CodeChallengeMethodS256) {
		return errors.New("PKCE S256 not supported")
	}
	for _, g := range []oauth.GrantType{oauth.GrantTypeAuthorizationCode, oauth.GrantTypeRefreshToken} {
		if !slices.Contains(m.GrantTypesSupported, g) {
			return fmt.Errorf("grant type %q not supported", g)
		}
	}
	if len(m.ResponseModesSupported) > 0 && !slices.Contains(m.ResponseModesSupported, oauth.ResponseModeQuery) {
		return errors.New(`response mode "query" not supported`)
	}
	return nil
}

// offersDeviceGrant reports whether the server takes the device authorization grant (a code
// typed on another device).
func offersDeviceGrant(m *oauth.ServerMetadata) bool {
	return m.DeviceAuthorizationEndpoint != "" && slices.Contains(m.GrantTypesSupported, oauth.GrantTypeDeviceCode)
}

// secureURL accepts https, and plain http only on this machine (a test or development server).
func secureURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		return isLoopbackHost(u.Hostname())
	}
	return false
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkPasswordOffered fails with ErrPasswordNotOffered when the server lists login flows and
// none of them is a password, but single sign-on or the OAuth 2.0 API is there. Anything it
// cannot tell is left to the login itself.
func checkPasswordOffered(ctx context.Context, cli *mautrix.Client) error {
	m, err := discoverAuth(ctx, cli)
	if err != nil || m.Password {
		return nil
	}
	if m.OAuth != nil || m.SSO {
		return ErrPasswordNotOffered
	}
	return nil
}

// CheckPasswordOffered tells, before a password is asked for, whether the homeserver of user
// (homeserver when given) takes one: ErrPasswordNotOffered when it offers only single sign-on
// or OAuth 2.0. Anything it cannot find out (the network, discovery) is nil: the login says it.
func CheckPasswordOffered(ctx context.Context, homeserver, user string, log zerolog.Logger) error {
	hs, _, err := resolveHomeserver(ctx, discoveryClient, homeserver, user)
	if err != nil {
		return nil
	}
	cli, err := newClient(hs, log)
	if err != nil {
		return nil
	}
	if err := checkPasswordOffered(ctx, cli); errors.Is(err, ErrPasswordNotOffered) {
		return err
	}
	return nil
}
