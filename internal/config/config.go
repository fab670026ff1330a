// Package config reads duet's configuration: the embedded defaults, then the user's file.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"duet/assets"
)

// Config is duet's configuration.
type Config struct {
	TimelineLimit int                 `toml:"timeline_limit"`
	EncryptNewDMs bool                `toml:"encrypt_new_dms"`
	InlineImages  bool                `toml:"inline_images"`
	SendTyping    bool                `toml:"send_typing"`
	Notify        Notify              `toml:"notify"`
	Keys          map[string][]string `toml:"keys"`

	// Profiles are the profiles `duet` opens together when started without --profile; empty:
	// every profile that is logged in.
	Profiles []string `toml:"profiles"`
	// Profile holds each profile's look in the UI, by profile name.
	Profile map[string]ProfileLook `toml:"profile"`
}

// ProfileLook is how a profile's rows are marked when several accounts are open.
type ProfileLook struct {
	Tag   string `toml:"tag"`   // a short label; "": the profile's name
	Color string `toml:"color"` // the tag's colour (#rrggbb or an ANSI number); "": one of a palette
}

// Notify is how duet tells of a new message in a conversation that is not on screen.
type Notify struct {
	Bell    bool `toml:"bell"`
	Desktop bool `toml:"desktop"`
}

// Load returns the defaults overlaid with the file at path, when it exists. An unreadable or
// invalid file is an error that names the file and the problem.
func Load(path string) (Config, error) {
	var cfg Config
	if _, err := toml.Decode(string(assets.Config), &cfg); err != nil {
		return Config{}, fmt.Errorf("embedded default config: %w", err)
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, nil
	} else if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	md, err := toml.Decode(string(data), &cfg)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		return Config{}, fmt.Errorf("config %s: unknown setting %q", path, undecoded[0].String())
	}
	for name, look := range cfg.Profile {
		if look.Color != "" && !validColor(look.Color) {
			return Config{}, fmt.Errorf("config %s: profile.%s.color %q: use #rrggbb or a number from 0 to 255", path, name, look.Color)
		}
		if len([]rune(look.Tag)) > 12 {
			return Config{}, fmt.Errorf("config %s: profile.%s.tag is longer than 12 characters", path, name)
		}
	}
	if cfg.TimelineLimit < 1 || cfg.TimelineLimit > 100 {
		return Config{}, fmt.Errorf("config %s: timeline_limit must be between 1 and 100", path)
	}
	return cfg, nil
}

// validColor reports whether s is a colour lipgloss takes: #rrggbb, #rgb or an ANSI number.
func validColor(s string) bool {
	if strings.HasPrefix(s, "#") {
		h := s[1:]
		if len(h) != 6 && len(h) != 3 {
			return false
		}
		_, err := strconv.ParseUint(h, 16, 32)
		return err == nil
	}
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0 && n <= 255
}
