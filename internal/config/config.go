// Package config reads duet's configuration: the embedded defaults, then the user's file.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

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
	if cfg.TimelineLimit < 1 || cfg.TimelineLimit > 100 {
		return Config{}, fmt.Errorf("config %s: timeline_limit must be between 1 and 100", path)
	}
	return cfg, nil
}
