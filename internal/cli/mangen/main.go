// Command mangen writes duet's man pages (duet.1 and duet-COMMAND.1) into a directory, from
// the command definitions: go run -tags goolm ./internal/cli/mangen DIR (make man).
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra/doc"

	"duet/internal/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mangen DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "mangen:", err)
		os.Exit(1)
	}
	header := &doc.GenManHeader{Title: "DUET", Section: "1", Source: "duet", Manual: "duet manual"}
	if err := doc.GenManTree(cli.ManTree(), header, dir); err != nil {
		fmt.Fprintln(os.Stderr, "mangen:", err)
		os.Exit(1)
	}
}
