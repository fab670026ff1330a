package opener

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The opener in DUET_OPENER gets the path as its one argument, runs in a session of its own,
// and its standard input and output are the null device, not the terminal.
func TestOpenRunsTheConfiguredOpenerDetached(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "opened")
	script := filepath.Join(dir, "fake-opener")
	body := "#!/bin/sh\n" +
		"fds=''; [ -d /proc/$$ ] && fds=$(readlink /proc/$$/fd/0 /proc/$$/fd/1 /proc/$$/fd/2; awk '{print $6}' /proc/$$/stat; echo $$)\n" +
		"{ printf '%s\\n' \"$1\" \"$#\"; [ -n \"$fds\" ] && printf '%s\\n' \"$fds\"; } > " + out + ".tmp && mv " + out + ".tmp " + out + "\n" +
		"echo 'this must not reach the terminal'\n"
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvOpener, script)
	target := filepath.Join(dir, "holiday photo; rm -rf x.png")
	start := time.Now()
	if err := Open(target); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Open waited %v for the opener", d)
	}
	var got []string
	for deadline := time.Now().Add(5 * time.Second); ; {
		data, err := os.ReadFile(out)
		if err == nil {
			got = strings.Split(strings.TrimSpace(string(data)), "\n")
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the opener did not run")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(got) < 2 || got[0] != target || got[1] != "1" {
		t.Fatalf("the opener got %q, want the one argument %q", got, target)
	}
	if runtime.GOOS == "linux" {
		if len(got) != 7 {
			t.Fatalf("the opener reported %q", got)
		}
		for i, fd := range got[2:5] {
			if fd != os.DevNull {
				t.Errorf("the opener's fd %d is %s, want %s", i, fd, os.DevNull)
			}
		}
		if sid, pid := got[5], got[6]; sid != pid {
			t.Errorf("the opener's session is %s, not its own (%s): it shares duet's terminal", sid, pid)
		}
		if sid, _ := strconv.Atoi(got[5]); sid == os.Getpid() {
			t.Error("the opener runs in duet's session")
		}
	}
}

func TestOpenSaysWhenThereIsNoOpener(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(EnvOpener, "")
	if err := Open("/tmp/x.png"); !errors.Is(err, ErrNoOpener) || err.Error() != "no program to open files: set DUET_OPENER or install xdg-utils" {
		t.Fatalf("without an opener: %v", err)
	}
	t.Setenv(EnvOpener, "no-such-viewer")
	if err := Open("/tmp/x.png"); err == nil || !strings.Contains(err.Error(), "DUET_OPENER=no-such-viewer") {
		t.Fatalf("with a missing DUET_OPENER: %v", err)
	}
}
