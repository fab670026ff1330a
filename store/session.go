package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"maunium.net/go/mautrix/id"
)

// Session is a logged-in device. It holds the access token, so it lives in a file only the user
// can read (0600, in a 0700 directory) and is never logged.
type Session struct {
	Homeserver  string      `json:"homeserver"`
	UserID      id.UserID   `json:"user_id"`
	DeviceID    id.DeviceID `json:"device_id"`
	AccessToken string      `json:"access_token"`
	// PickleKey encrypts the device's keys in the crypto store (base64; generated at login and
	// kept for as long as the device).
	PickleKey string `json:"pickle_key,omitempty"`

	// Set by an OAuth 2.0 login (matrixsvc/browserlogin.go, tokens.go): the refresh token, when
	// the access token expires, and the client ID the tokens were issued to. Refreshed tokens
	// are saved at once.
	RefreshToken  string    `json:"refresh_token,omitempty"`
	TokenExpiry   time.Time `json:"token_expiry,omitzero"`
	OAuthClientID string    `json:"oauth_client_id,omitempty"`
}

// ErrNoSession means there is no saved session for the profile.
var ErrNoSession = errors.New("not logged in")

// LoadSession reads the session file. A missing file or an empty token gives ErrNoSession; the
// device ID of a logged-out session is still returned so that the next login reuses the device.
func LoadSession(path string) (*Session, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoSession
	} else if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	var s Session
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("session file %s is damaged (%w): run `duet login` again", path, err)
	}
	if s.AccessToken == "" || s.UserID == "" || s.Homeserver == "" {
		return &s, ErrNoSession
	}
	return &s, nil
}

// SaveSession writes the session atomically with mode 0600 in a 0700 directory.
func SaveSession(path string, s *Session) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("secure %s: %w", dir, err)
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".session-*")
	if err != nil {
		return fmt.Errorf("write session: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write session: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write session: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write session: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write session: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write session: %w", err)
	}
	return nil
}
