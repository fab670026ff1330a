// Package assets holds duet's embedded defaults.
package assets

import _ "embed"

// Config is the default configuration file, commented, as users copy it.
//
//go:embed config.toml
var Config []byte
