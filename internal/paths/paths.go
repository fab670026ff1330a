// Package paths names every file duet reads or writes, per profile, under the XDG base
// directories (github.com/adrg/xdg).
package paths

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/adrg/xdg"
)

// Dirs are the XDG base directories duet's folders live in.
type Dirs struct {
	Config, Data, State, Cache string
}

// FromXDG returns the user's XDG base directories.
func FromXDG() Dirs {
	return Dirs{Config: xdg.ConfigHome, Data: xdg.DataHome, State: xdg.StateHome, Cache: xdg.CacheHome}
}

// Profile is one account's set of paths.
type Profile struct {
	Name   string
	Config string // $XDG_CONFIG_HOME/duet
	Data   string // $XDG_DATA_HOME/duet/PROFILE
	State  string // $XDG_STATE_HOME/duet/PROFILE
	Cache  string // $XDG_CACHE_HOME/duet/PROFILE
}

var profileName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ForProfile returns the paths of a profile; the name must be a plain word.
func (d Dirs) ForProfile(name string) (Profile, error) {
	if !profileName.MatchString(name) {
		return Profile{}, fmt.Errorf("profile %q: use letters, digits, '.', '_' or '-'", name)
	}
	return Profile{
		Name:   name,
		Config: filepath.Join(d.Config, "duet"),
		Data:   filepath.Join(d.Data, "duet", name),
		State:  filepath.Join(d.State, "duet", name),
		Cache:  filepath.Join(d.Cache, "duet", name),
	}, nil
}

// SessionFile holds the access token (0600).
func (p Profile) SessionFile() string { return filepath.Join(p.Data, "session.json") }

// Database is the profile's SQLite database.
func (p Profile) Database() string { return filepath.Join(p.Data, "duet.db") }

// CryptoDatabase holds the device's end-to-end encryption keys (0600). Unlike Database it is
// not a cache: losing it loses the keys to messages received on this device.
func (p Profile) CryptoDatabase() string { return filepath.Join(p.Data, "crypto.db") }

// LogFile is where the profile's log goes.
func (p Profile) LogFile() string { return filepath.Join(p.State, "duet.log") }

// ConfigFile is the user's configuration, shared by all profiles.
func (p Profile) ConfigFile() string { return filepath.Join(p.Config, "config.toml") }

// EnsurePrivate creates dir (and parents) and makes dir itself 0700.
func EnsurePrivate(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}

// OpenDir is where files are fetched to be opened with the system's program (private, 0700).
func (p Profile) OpenDir() string { return filepath.Join(p.Cache, "open") }

// Downloads is where saved files go: the user's XDG download folder.
func Downloads() string { return xdg.UserDirs.Download }
