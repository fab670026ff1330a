package homeserver

import "syscall"

// sysProcAttr puts Dendrite in its own process group, so Stop can kill all of it, and has the
// kernel kill it if the process that started it dies without calling Stop (a test binary that
// panics or times out).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
