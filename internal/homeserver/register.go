package homeserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Account is a registered user with one logged-in device.
type Account struct {
	UserID      string // @localpart:localhost:PORT
	AccessToken string
	DeviceID    string
	Password    string
}

// MatrixError is an error answer from the homeserver's client-server API.
type MatrixError struct {
	Status  int    // HTTP status
	ErrCode string // errcode, such as M_USER_IN_USE
	Message string // error

	session string // a UIA session offered with a 401
}

func (e *MatrixError) Error() string {
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.ErrCode, e.Message)
}

// Register creates an account through open registration (POST /_matrix/client/v3/register with
// the m.login.dummy stage) and, when displayName is not empty, sets its display name. Errors
// from the server are *MatrixError (for example M_USER_IN_USE).
func (s *Server) Register(ctx context.Context, localpart, password, displayName string) (*Account, error) {
	body := map[string]any{
		"auth":                        map[string]any{"type": "m.login.dummy"},
		"username":                    localpart,
		"password":                    password,
		"initial_device_display_name": "duet-test",
	}
	var resp struct {
		UserID      string `json:"user_id"`
		AccessToken string `json:"access_token"`
		DeviceID    string `json:"device_id"`
	}
	err := s.do(ctx, http.MethodPost, "/_matrix/client/v3/register", "", body, &resp)
	// Dendrite finishes a one-stage dummy flow in this first request. A server that wants the
	// stage tied to a UIA session answers 401 with one; finish the stage in that session.
	var merr *MatrixError
	if errors.As(err, &merr) && merr.Status == http.StatusUnauthorized && merr.session != "" {
		body["auth"] = map[string]any{"type": "m.login.dummy", "session": merr.session}
		err = s.do(ctx, http.MethodPost, "/_matrix/client/v3/register", "", body, &resp)
	}
	if err != nil {
		return nil, fmt.Errorf("homeserver: register %q: %w", localpart, err)
	}
	if resp.UserID == "" || resp.AccessToken == "" {
		return nil, fmt.Errorf("homeserver: register %q: no user_id or access_token in the answer", localpart)
	}
	acct := &Account{UserID: resp.UserID, AccessToken: resp.AccessToken, DeviceID: resp.DeviceID, Password: password}
	if displayName != "" {
		path := "/_matrix/client/v3/profile/" + url.PathEscape(acct.UserID) + "/displayname"
		if err := s.do(ctx, http.MethodPut, path, acct.AccessToken, map[string]string{"displayname": displayName}, nil); err != nil {
			return nil, fmt.Errorf("homeserver: set display name of %s: %w", acct.UserID, err)
		}
	}
	return acct, nil
}

// do sends a JSON request and decodes a 200 answer into out (when not nil). Other answers
// become *MatrixError.
func (s *Server) do(ctx context.Context, method, path, token string, in, out any) error {
	payload, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, bytes.NewReader(payload))
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
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			ErrCode string `json:"errcode"`
			Error   string `json:"error"`
			Session string `json:"session"`
		}
		_ = json.Unmarshal(data, &e)
		if e.ErrCode == "" && e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
		}
		return &MatrixError{Status: resp.StatusCode, ErrCode: e.ErrCode, Message: e.Error, session: e.Session}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decoding %s %s: %w", method, path, err)
	}
	return nil
}
