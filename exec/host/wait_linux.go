package host

import (
	"os"

	"golang.org/x/sys/unix"
)

// awaitExit blocks until process pid has exited, without reaping it. It
// parks in the runtime's netpoller on a pidfd instead of in a wait system
// call: a goroutine blocked in wait4 holds an OS thread, so a 50-leg matrix
// held 50 threads (about 3 MB of a 30 MB peak RSS) just to wait. The
// caller's cmd.Wait then returns at once. Without pidfd support (Linux
// before 5.10) it returns at once and cmd.Wait blocks as before.
func awaitExit(pid int) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	// A pidfd becomes readable when its process exits. The first call
	// asks to wait for that; the second, once it is readable, ends Read.
	waited := false
	_ = rc.Read(func(uintptr) bool {
		done := waited
		waited = true
		return done
	})
}
