//go:build unix

package browser

import (
	"os/exec"
	"syscall"
)

// detach starts cmd in a new session, away from the terminal duet draws on and from the
// signals sent to duet's process group.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
}
