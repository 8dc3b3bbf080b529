//go:build windows

package host

import (
	"os"
	osexec "os/exec"
	"syscall"
)

// setGroup starts the process in a new process group.
func setGroup(cmd *osexec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}

// signalGroup stops the process. Windows has no group signals; the process
// is killed.
func signalGroup(cmd *osexec.Cmd, kill bool) { _ = cmd.Process.Kill() }

// killGroup kills the process if it is still there.
func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}
