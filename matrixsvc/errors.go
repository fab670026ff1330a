package matrixsvc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"maunium.net/go/mautrix"
)

var (
	// ErrLoggedOut means the server rejected our access token (revoked, expired or logged out).
	ErrLoggedOut = errors.New("logged out: run `duet login`")
	// ErrUserNotFound means a user ID is well-formed but nobody has it (R12).
	ErrUserNotFound = errors.New("no such user")
	// ErrEncryptedRoom means a room needs end-to-end encryption and the message cannot be
	// encrypted for it (this session has no encryption, the room names an algorithm duet does
	// not know, or encryption could not be turned on where an encrypted conversation went on);
	// nothing is sent in plain text instead.
	ErrEncryptedRoom = errors.New("this room is end-to-end encrypted and this session cannot encrypt")
	// ErrNoInvite is returned when accepting or declining a room that is not a pending invite.
	ErrNoInvite = errors.New("no pending invite to that room: see `duet invites`")
)

// Explain turns an error from the service into one line that says what to do.
func Explain(err error) string {
	if err == nil {
		return ""
	}
	var said *saidError
	if errors.As(err, &said) {
		return said.msg
	}
	switch {
	case errors.Is(err, ErrLoggedOut), errors.Is(err, mautrix.MUnknownToken), refreshRefused(err):
		return ErrLoggedOut.Error()
	case errors.Is(err, mautrix.MLimitExceeded):
		var httpErr mautrix.HTTPError
		if errors.As(err, &httpErr) && httpErr.RespError != nil {
			if ms, ok := httpErr.RespError.ExtraData["retry_after_ms"].(float64); ok && ms > 0 {
				return fmt.Sprintf("the homeserver is rate-limiting requests: try again in %s", (time.Duration(ms) * time.Millisecond).Round(time.Second))
			}
		}
		return "the homeserver is rate-limiting requests: try again in a minute"
	}
	var urlErr *url.Error
	var opErr *net.OpError
	var dnsErr *net.DNSError
	if errors.As(err, &urlErr) || errors.As(err, &opErr) || errors.As(err, &dnsErr) {
		host := ""
		if urlErr != nil {
			if u, perr := url.Parse(urlErr.URL); perr == nil {
				host = u.Scheme + "://" + u.Host
			}
		}
		if host != "" && timedOut(err) {
			return fmt.Sprintf("the homeserver at %s stopped answering: check your connection; duet keeps trying", host)
		}
		if host != "" {
			return fmt.Sprintf("cannot reach the homeserver at %s (%v): check that it is up and the address is right", host, rootCause(err))
		}
		return fmt.Sprintf("cannot reach the homeserver (%v): check your connection", rootCause(err))
	}
	var httpErr mautrix.HTTPError
	if errors.As(err, &httpErr) && httpErr.Response != nil && httpErr.Response.StatusCode >= 500 {
		what := http.StatusText(httpErr.Response.StatusCode)
		if httpErr.RespError != nil && httpErr.RespError.Err != "" {
			what = httpErr.RespError.Err
		}
		return fmt.Sprintf("the homeserver has a problem (%d: %s); duet tries again", httpErr.Response.StatusCode, what)
	}
	if errors.As(err, &httpErr) && httpErr.RespError != nil {
		return fmt.Sprintf("the homeserver refused: %s (%s)", httpErr.RespError.Err, httpErr.RespError.ErrCode)
	}
	return err.Error()
}

// timedOut reports whether a request was given up because no answer came in time.
func timedOut(err error) bool {
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout())
}

func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// IsLoggedOut reports whether err means the session is no longer valid.
func IsLoggedOut(err error) bool {
	return errors.Is(err, ErrLoggedOut) || errors.Is(err, mautrix.MUnknownToken) || refreshRefused(err)
}

// saidError is an error already explained in words for the user that keeps its cause, so that
// callers can still tell a temporary failure (retry) from a refusal.
type saidError struct {
	msg string
	err error
}

func (e *saidError) Error() string { return e.msg }
func (e *saidError) Unwrap() error { return e.err }

// explainf is Explain(err) after a prefix, keeping err as the cause.
func explainf(err error, format string, args ...any) error {
	return &saidError{msg: fmt.Sprintf(format, args...) + ": " + Explain(err), err: err}
}

// explained is err in the words Explain gives it, keeping err as the cause.
func explained(err error) error {
	return &saidError{msg: Explain(err), err: err}
}
