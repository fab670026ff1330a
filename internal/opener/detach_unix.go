//go:build unix

package opener

import (
	"os/exec"
	"syscall"
)

// detach starts cmd in a new session: it has no controlling terminal, so it can neither read
// from nor write to the one the UI draws on, and a signal to duet's process group (Ctrl-C)
// does not reach it.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
}
