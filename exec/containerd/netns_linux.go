//go:build linux

package containerd

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// netns is a network namespace Vermont creates for one job, with loopback
// up. The job container, its services and its Docker actions all join it
// (pod style), so they reach each other on localhost. Holding the namespace
// by a file descriptor keeps it alive whichever container exits first, and
// lets it vanish with this process if Vermont crashes.
type netns struct {
	f *os.File
}

// newNetns creates a network namespace on a locked thread and brings its
// loopback interface up.
func newNetns() (*netns, error) {
	var (
		f   *os.File
		err error
	)
	inThread(func() error {
		if err = unix.Unshare(unix.CLONE_NEWNET); err != nil {
			err = fmt.Errorf("create network namespace: %w", err)
			return nil
		}
		f, err = os.Open("/proc/thread-self/ns/net")
		if err != nil {
			err = fmt.Errorf("create network namespace: %w", err)
			return nil
		}
		if err = loopbackUp(); err != nil {
			f.Close()
			f = nil
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &netns{f: f}, nil
}

// inThread runs fn on a locked OS thread and then returns the thread to
// the host's network namespace. If that fails, the thread stays locked and
// so dies with the goroutine rather than serve others in the wrong
// namespace.
func inThread(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		host, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open network namespace: %w", err)
			return
		}
		defer host.Close()
		ferr := fn()
		if err := unix.Setns(int(host.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("return to host network namespace: %w", err)
			return // thread stays locked and is discarded
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// loopbackUp sets the IFF_UP flag on lo in the current thread's namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback: get flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback: set up: %w", err)
	}
	return nil
}

// path names the namespace for the OCI spec: runc opens it, as root, through
// this process's descriptor.
func (n *netns) path() string {
	return "/proc/" + strconv.Itoa(os.Getpid()) + "/fd/" + strconv.Itoa(int(n.f.Fd()))
}

// dial connects to 127.0.0.1:port inside the namespace. The socket is
// created on a thread that has entered the namespace and keeps belonging to
// it afterwards.
func (n *netns) dial(ctx context.Context, port int) (net.Conn, error) {
	var (
		c    net.Conn
		derr error
	)
	err := inThread(func() error {
		if err := unix.Setns(int(n.f.Fd()), unix.CLONE_NEWNET); err != nil {
			derr = fmt.Errorf("enter job network namespace: %w", err)
			return nil
		}
		var d net.Dialer
		c, derr = d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		return nil
	})
	if err != nil {
		if c != nil {
			c.Close()
		}
		return nil, err
	}
	return c, derr
}

// close releases the namespace; it goes away when the last container in it
// has exited too.
func (n *netns) close() error { return n.f.Close() }
