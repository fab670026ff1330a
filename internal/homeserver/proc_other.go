//go:build !linux

package homeserver

import "syscall"

// sysProcAttr puts Dendrite in its own process group, so Stop can kill all of it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
