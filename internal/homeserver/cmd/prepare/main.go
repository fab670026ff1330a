// Command prepare builds the Dendrite binaries that duet's integration tests and demo run
// (into <repo>/.bin, skipped when current), through the same code the tests use.
//
//	go run ./internal/homeserver/cmd/prepare
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"time"

	"duet/internal/homeserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()

	began := time.Now()
	root, err := homeserver.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin, err := homeserver.Binaries(ctx, root)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("homeserver binaries ready in %s (%s)\n", bin, time.Since(began).Round(time.Millisecond))
}
