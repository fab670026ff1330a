package matrixsvc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"maunium.net/go/mautrix"

	"duet/store"
)

// tokenState keeps an OAuth 2.0 session's tokens fresh. mautrix refreshes the access token
// shortly before it expires (before any request, the sync's included) and calls saveTokens
// with the new pair; the transport below refreshes when the server ends a token early with
// M_UNKNOWN_TOKEN and soft_logout, and sends the request again with the new one. Neither
// the sync loop nor the outbox sees anything but a slower request.
type tokenState struct {
	forced sync.Mutex // one refresh after a soft logout at a time

	mu   sync.Mutex
	sess store.Session // the session as last saved, with the newest tokens
	path string        // the session file; "" keeps new tokens in memory only
}

// oauthSession reports whether sess came from an OAuth 2.0 login and can be refreshed.
func oauthSession(sess *store.Session) bool {
	return sess.RefreshToken != "" && sess.OAuthClientID != ""
}

// setupTokens hands an OAuth 2.0 session's tokens to mautrix and hooks their refresh.
func (s *Service) setupTokens(sess *store.Session) {
	s.tokens.sess = *sess
	s.tokens.path = s.cfg.SessionFile
	if !oauthSession(sess) {
		return
	}
	s.cli.OAuthSetTokens(sess.OAuthClientID, sess.RefreshToken, sess.AccessToken, clientExpiry(sess.TokenExpiry))
	s.cli.SaveNewToken = s.saveTokens
	base := s.cli.Client.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	s.cli.Client.Transport = &softLogoutTransport{base: base, s: s}
}

// saveTokens writes a refreshed pair to the session file before mautrix uses it. It runs
// under mautrix's token lock.
func (s *Service) saveTokens(_ context.Context, refreshToken, accessToken string, expiry time.Time) error {
	s.tokens.mu.Lock()
	defer s.tokens.mu.Unlock()
	next := s.tokens.sess
	next.RefreshToken, next.AccessToken = refreshToken, accessToken
	next.TokenExpiry = expiry.Round(0).UTC()
	if expiry.After(time.Now().AddDate(50, 0, 0)) {
		next.TokenExpiry = time.Time{} // clientExpiry's "never"
	}
	if s.tokens.path != "" {
		if err := store.SaveSession(s.tokens.path, &next); err != nil {
			// The old refresh token may be spent already: the new pair is kept in memory, and
			// the next run may have to log in again.
			s.log.Error().Err(err).Msg("could not save the refreshed access token")
		}
	}
	s.tokens.sess = next
	s.log.Info().Time("expires", expiry).Msg("access token refreshed")
	return nil
}

// currentToken is the access token in use.
func (s *Service) currentToken() string {
	s.tokens.mu.Lock()
	defer s.tokens.mu.Unlock()
	return s.tokens.sess.AccessToken
}

// refreshAfterSoftLogout refreshes the tokens when the server ended the access token used
// early, unless another request did already. It returns the token to use now.
func (s *Service) refreshAfterSoftLogout(ctx context.Context, used string) (string, error) {
	s.tokens.forced.Lock()
	defer s.tokens.forced.Unlock()
	if cur := s.currentToken(); cur != used {
		return cur, nil
	}
	// A buffer longer than any lifetime: mautrix refreshes whatever the expiry says.
	if err := s.cli.OAuthRefreshToken(ctx, 1<<62); err != nil {
		return "", err
	}
	return s.currentToken(), nil
}

// revokeTokens ends an OAuth 2.0 session at the server (revoking the refresh token ends the
// access token with it). It reports false for a session that is not OAuth 2.0.
func (s *Service) revokeTokens(ctx context.Context) (bool, error) {
	s.tokens.mu.Lock()
	isOAuth := oauthSession(&s.tokens.sess)
	s.tokens.mu.Unlock()
	if !isOAuth {
		return false, nil
	}
	if err := s.cli.OAuthRevokeToken(ctx); err != nil {
		return true, explainOAuthf(err, "log out: the homeserver did not revoke the tokens")
	}
	return true, nil
}

// errTokenRenewed fails a request whose body cannot be sent twice after the token it carried
// was renewed: the caller's retry goes out with the new one.
var errTokenRenewed = errors.New("the access token was renewed during the request; sending again")

// softLogoutTransport turns a 401 M_UNKNOWN_TOKEN with soft_logout for the token in use into a
// refresh and the same request again with the new token.
type softLogoutTransport struct {
	base http.RoundTripper
	s    *Service
}

func (t *softLogoutTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	// Requests to the token endpoints carry no bearer token (and run under mautrix's lock).
	used, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	if !ok || used == "" {
		return resp, nil
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		return resp, nil
	}
	var answer struct {
		ErrCode    string `json:"errcode"`
		SoftLogout bool   `json:"soft_logout"`
	}
	if json.Unmarshal(body, &answer) != nil || answer.ErrCode != mautrix.MUnknownToken.ErrCode || !answer.SoftLogout {
		return resp, nil
	}
	fresh, err := t.s.refreshAfterSoftLogout(req.Context(), used)
	if err != nil {
		if retry, _ := retryable(err); retry {
			return nil, fmt.Errorf("refresh the access token: %w", err) // try again later
		}
		t.s.log.Warn().Err(err).Msg("the homeserver would not refresh the access token")
		return resp, nil // refused: the session is over
	}
	if req.Body != nil && req.GetBody == nil {
		return nil, errTokenRenewed
	}
	again := req.Clone(req.Context())
	if req.GetBody != nil {
		if again.Body, err = req.GetBody(); err != nil {
			return nil, errTokenRenewed
		}
	}
	again.Header.Set("Authorization", "Bearer "+fresh)
	return t.base.RoundTrip(again)
}

// refreshRefused reports whether err is mautrix failing to refresh because the server said
// no (the refresh token was revoked or spent): the session is over.
func refreshRefused(err error) bool {
	if !errors.Is(err, mautrix.ErrFailedToRefreshToken) {
		return false
	}
	var httpErr mautrix.HTTPError
	return errors.As(err, &httpErr) && httpErr.Response != nil &&
		httpErr.Response.StatusCode >= 400 && httpErr.Response.StatusCode < 500
}
