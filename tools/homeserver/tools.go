//go:build tools

// Package homeserver pins the Dendrite homeserver that duet's tests and demo run against.
// It lives in its own module so that Dendrite's dependency tree never enters duet's go.mod.
package homeserver

import (
	_ "github.com/matrix-org/dendrite/cmd/dendrite"
	_ "github.com/matrix-org/dendrite/cmd/generate-config"
	_ "github.com/matrix-org/dendrite/cmd/generate-keys"
)
