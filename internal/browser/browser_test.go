package browser

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestCommandPutsTheAddressIn(t *testing.T) {
	const u = "https://example.org/a?b=c"
	for _, tc := range []struct {
		entry string
		want  []string
	}{
		{"firefox", []string{"firefox", u}},
		{"  firefox --new-tab  ", []string{"firefox", "--new-tab", u}},
		{"w3m %s -dump", []string{"w3m", u, "-dump"}},
		{"echo 100%% %s", []string{"echo", "100%", u}},
		{"   ", nil},
	} {
		if got := command(tc.entry, u); !slices.Equal(got, tc.want) {
			t.Errorf("command(%q) = %q, want %q", tc.entry, got, tc.want)
		}
	}
}

func TestAvailable(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if !Available(env(map[string]string{"BROWSER": "x"})) {
		t.Error("$BROWSER set: a browser can be opened")
	}
	if !Available(env(map[string]string{"WAYLAND_DISPLAY": "wayland-0"})) {
		t.Error("a display: a browser can be opened")
	}
}

// $BROWSER's first existing program gets the address; the rest are skipped.
func TestOpenRunsTheFirstProgramThatExists(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "got")
	script := filepath.Join(dir, "fake")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nprintf '%s' \"$1\" > "+out+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		if k == "BROWSER" {
			return filepath.Join(dir, "missing") + ":" + script
		}
		return ""
	}
	if err := Open(getenv, "https://example.org/x"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, _ := os.ReadFile(out)
		if string(data) == "https://example.org/x" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the browser got %q", data)
		}
		time.Sleep(20 * time.Millisecond)
	}

}

func TestOpenSaysWhenBrowserNamesNothing(t *testing.T) {
	getenv := func(k string) string {
		if k == "BROWSER" {
			return "/nonexistent/browser"
		}
		return ""
	}
	if err := Open(getenv, "https://example.org"); err == nil {
		t.Fatal("a missing $BROWSER program was not reported")
	}
}
