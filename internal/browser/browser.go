// Package browser opens an address in the person's web browser for a login: the command in
// $BROWSER when it is set, else the system's opener (xdg-open; open on macOS). The browser
// runs on its own, in a session of its own, and nothing it prints reaches the terminal.
package browser

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"strings"

	"duet/internal/opener"
)

// Available reports whether a browser can be opened from here: $BROWSER is set, or there is
// a display (a desktop session rather than SSH or a console).
func Available(getenv func(string) string) bool {
	if getenv("BROWSER") != "" {
		return true
	}
	switch runtime.GOOS {
	case "darwin", "windows":
		return true
	}
	return getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != ""
}

// Open starts the browser with url and returns once it has started, without waiting for it.
// $BROWSER is a list of commands separated by ':'; the first that exists is used. A command
// gets the address in place of "%s", or as its last argument.
func Open(getenv func(string) string, url string) error {
	if list := getenv("BROWSER"); list != "" {
		var tried []string
		for _, entry := range strings.Split(list, ":") {
			args := command(entry, url)
			if len(args) == 0 {
				continue
			}
			tried = append(tried, args[0])
			if _, err := exec.LookPath(args[0]); err != nil {
				continue
			}
			return opener.Start(args)
		}
		return fmt.Errorf("$BROWSER names no program that exists (%s)", strings.Join(tried, ", "))
	}
	name := opener.System()
	if _, err := exec.LookPath(name); err != nil {
		return errors.New("no browser: set $BROWSER or install xdg-utils")
	}
	return opener.Start([]string{name, url})
}

// command is one $BROWSER entry with the address put in.
func command(entry, url string) []string {
	fields := strings.Fields(entry)
	if len(fields) == 0 {
		return nil
	}
	placed := false
	for i, f := range fields {
		if strings.Contains(f, "%s") {
			fields[i] = strings.ReplaceAll(f, "%s", url)
			placed = true
		}
		fields[i] = strings.ReplaceAll(fields[i], "%%", "%")
	}
	if !placed {
		fields = append(fields, url)
	}
	return fields
}
