//go:build !linux

package containerd

import "syscall"

// descendants needs /proc; elsewhere the kill of the process itself and
// the container's removal have to do.
func descendants(root uint32, pids []uint32) []uint32 { return nil }

// killPids has nothing to kill where descendants finds nothing.
func killPids(pids []uint32, sig syscall.Signal) {}
