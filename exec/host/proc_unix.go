//go:build !windows

package host

import (
	osexec "os/exec"
	"syscall"
)

// setGroup puts the process in a process group of its own.
func setGroup(cmd *osexec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// signalGroup interrupts (or kills) the process's group.
func signalGroup(cmd *osexec.Cmd, kill bool) {
	sig := syscall.SIGINT
	if kill {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig)
}

// killGroup kills a process group; a group that is gone is fine.
func killGroup(pgid int) { _ = syscall.Kill(-pgid, syscall.SIGKILL) }
