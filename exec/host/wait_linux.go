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
	// A pidfd becomes readable when its process exits. Read calls the
	// function, and while it returns false waits for the fd to become
	// readable. The function must look for itself (a poll with no
	// timeout): the poller is edge-triggered and Read forgets an edge that
	// came before it, so a process that exited before Read began would be
	// waited for for ever. An error from poll ends the wait: cmd.Wait then
	// blocks as before.
	_ = rc.Read(func(fd uintptr) bool {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 0)
		return err != nil || n > 0
	})
}
