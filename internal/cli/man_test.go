package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra/doc"
)

// The man pages come from the command definitions: duet.1 with every command, the keys of the
// UI and the files; a page per command with its options.
func TestManPages(t *testing.T) {
	dir := t.TempDir()
	if err := doc.GenManTree(ManTree(), &doc.GenManHeader{Title: "DUET", Section: "1"}, dir); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, "duet.1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{".SH COMMANDS", "duet-send\\fP(1)", ".SH KEYS IN THE UI", "ctrl+k", "(switcher)", ".SH FILES", "config.toml", ".SH EXIT STATUS"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("duet.1 lacks %q", want)
		}
	}
	send, err := os.ReadFile(filepath.Join(dir, "duet-send.1"))
	if err != nil || !strings.Contains(string(send), "--reply-to") || !strings.Contains(string(send), "EXAMPLE") {
		t.Fatalf("duet-send.1: %v\n%s", err, send)
	}
}
