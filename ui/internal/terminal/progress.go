package terminal

import (
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
)

// ProgressSupported reports whether the terminal shows a program's progress in its own
// indicator (OSC 9;4, from ConEmu: a tab's ring, the taskbar, the dock) rather than taking the
// sequence for something else: iTerm2 before 3.6 and WezTerm show any OSC 9 as a desktop
// notification, and tmux does not pass it on. So it is on only where the terminal is known to
// have it. DUET_PROGRESS=on or =off decides instead.
func ProgressSupported(getenv func(string) string) bool {
	switch strings.ToLower(getenv("DUET_PROGRESS")) {
	case "on", "1", "yes":
		return true
	case "off", "0", "no":
		return false
	}
	if getenv("TMUX") != "" || strings.HasPrefix(getenv("TERM"), "screen") {
		return false
	}
	switch {
	case getenv("WT_SESSION") != "", getenv("ConEmuANSI") == "ON":
		return true // Windows Terminal, ConEmu
	case getenv("TERM_PROGRAM") == "ghostty":
		return true
	case getenv("TERM_PROGRAM") == "iTerm.app":
		return versionAtLeast(getenv("TERM_PROGRAM_VERSION"), 3, 6)
	}
	return false
}

// versionAtLeast reports whether a version "major.minor[.…]" is at least major.minor.
func versionAtLeast(v string, major, minor int) bool {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}

// ProgressBar is the terminal's indicator for work done in fraction (0 to 1; below 0, not
// known), or nil for none.
func ProgressBar(fraction float64, running bool) *tea.ProgressBar {
	switch {
	case !running:
		return nil
	case fraction < 0:
		return tea.NewProgressBar(tea.ProgressBarIndeterminate, 0)
	}
	return tea.NewProgressBar(tea.ProgressBarDefault, int(fraction*100))
}
