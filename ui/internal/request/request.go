// Package request runs a request of the UI's in a Bubble Tea command, bounded in time: the one
// way every component asks the service something.
package request

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"
)

// Timeout bounds every request the UI makes.
const Timeout = 2 * time.Minute

// Cmd runs fn in a command with a context that ends with parent (nil: never) or after Timeout.
// The caller copies what fn needs into locals: fn runs on another goroutine.
func Cmd(parent context.Context, fn func(ctx context.Context) tea.Msg) tea.Cmd {
	if parent == nil {
		parent = context.Background()
	}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, Timeout)
		defer cancel()
		return fn(ctx)
	}
}
