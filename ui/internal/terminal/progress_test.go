package terminal

import (
	"testing"

	tea "charm.land/bubbletea/v2"
)

func TestProgressOnlyWhereTheTerminalHasIt(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, false},
		{map[string]string{"WT_SESSION": "x"}, true},
		{map[string]string{"ConEmuANSI": "ON"}, true},
		{map[string]string{"TERM_PROGRAM": "ghostty"}, true},
		{map[string]string{"TERM_PROGRAM": "iTerm.app", "TERM_PROGRAM_VERSION": "3.6.2"}, true},
		{map[string]string{"TERM_PROGRAM": "iTerm.app", "TERM_PROGRAM_VERSION": "3.5.14"}, false}, // OSC 9 is a notification there
		{map[string]string{"TERM_PROGRAM": "WezTerm"}, false},
		{map[string]string{"TERM_PROGRAM": "ghostty", "TMUX": "/tmp/tmux-0/default,1,0"}, false},
		{map[string]string{"DUET_PROGRESS": "on"}, true},
		{map[string]string{"TERM_PROGRAM": "ghostty", "DUET_PROGRESS": "off"}, false},
	} {
		if got := ProgressSupported(func(k string) string { return c.env[k] }); got != c.want {
			t.Errorf("%v: %v, want %v", c.env, got, c.want)
		}
	}
}

func TestProgressBar(t *testing.T) {
	if ProgressBar(0.5, false) != nil {
		t.Error("a bar with nothing running")
	}
	if b := ProgressBar(-1, true); b == nil || b.State != tea.ProgressBarIndeterminate {
		t.Errorf("unknown total: %+v", b)
	}
	if b := ProgressBar(0.42, true); b == nil || b.State != tea.ProgressBarDefault || b.Value != 42 {
		t.Errorf("42%%: %+v", b)
	}
}
