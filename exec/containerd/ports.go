package containerd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
)

// portMapping is one entry of ports:, in docker -p form.
type portMapping struct {
	hostIP        string // default 127.0.0.1
	hostPort      int    // 0 picks a free port, as `-p 80` does
	containerPort int
}

// parsePort parses "80", "8080:80", "127.0.0.1:8080:80" and
// "127.0.0.1::80", each optionally ending in "/tcp". Ports are published on
// the host's loopback unless an address is given, so nothing is exposed
// beyond this machine by default.
func parsePort(s string) (portMapping, error) {
	spec, proto, _ := strings.Cut(s, "/")
	if proto != "" && proto != "tcp" {
		return portMapping{}, fmt.Errorf("ports: %q: only tcp ports can be published by the containerd backend", s)
	}
	m := portMapping{hostIP: "127.0.0.1"}
	parts := strings.Split(spec, ":")
	if n := len(parts); n > 3 {
		// An IPv6 address in brackets: [::1]:8080:80.
		if i := strings.LastIndex(spec, "]:"); strings.HasPrefix(spec, "[") && i > 0 {
			rest := strings.Split(spec[i+2:], ":")
			parts = append([]string{spec[1:i]}, rest...)
		}
	}
	var host, hostPort, ctrPort string
	switch len(parts) {
	case 1:
		ctrPort = parts[0]
	case 2:
		hostPort, ctrPort = parts[0], parts[1]
	case 3:
		host, hostPort, ctrPort = parts[0], parts[1], parts[2]
	default:
		return portMapping{}, fmt.Errorf("ports: %q: want CONTAINER, HOST:CONTAINER or IP:HOST:CONTAINER", s)
	}
	var err error
	if m.containerPort, err = portNumber(ctrPort); err != nil || m.containerPort == 0 {
		return portMapping{}, fmt.Errorf("ports: %q: container port %q is not a port number", s, ctrPort)
	}
	if hostPort != "" {
		if m.hostPort, err = portNumber(hostPort); err != nil {
			return portMapping{}, fmt.Errorf("ports: %q: host port %q is not a port number", s, hostPort)
		}
	}
	if host != "" {
		if net.ParseIP(host) == nil {
			return portMapping{}, fmt.Errorf("ports: %q: %q is not an IP address", s, host)
		}
		m.hostIP = host
	}
	return m, nil
}

func portNumber(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 65535 {
		return 0, errors.New("not a port")
	}
	return n, nil
}

// dialer opens connections inside the job's network namespace.
type dialer interface {
	dial(ctx context.Context, port int) (net.Conn, error)
}

// forwarder publishes a port of the job's network namespace on the host:
// it accepts on the host address and copies each connection to a
// connection it dials inside the namespace, as docker-proxy does.
type forwarder struct {
	ln   net.Listener
	port int
	d    dialer
	log  *slog.Logger
	wg   sync.WaitGroup
	mu   sync.Mutex
	open map[net.Conn]struct{}
}

// listen binds m's host side; serve starts forwarding.
func listen(ctx context.Context, m portMapping, d dialer, log *slog.Logger) (*forwarder, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(m.hostIP, strconv.Itoa(m.hostPort)))
	if err != nil {
		return nil, fmt.Errorf("publish port %d: %w", m.containerPort, err)
	}
	f := &forwarder{ln: ln, port: m.containerPort, d: d, log: log, open: map[net.Conn]struct{}{}}
	f.wg.Add(1)
	go f.serve()
	return f, nil
}

// hostPort returns the port the forwarder listens on.
func (f *forwarder) hostPort() int { return f.ln.Addr().(*net.TCPAddr).Port }

func (f *forwarder) serve() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return // closed
		}
		f.wg.Add(1)
		go f.forward(c)
	}
}

// forward copies one connection both ways until either side closes.
func (f *forwarder) forward(c net.Conn) {
	defer f.wg.Done()
	if !f.track(c) {
		c.Close()
		return
	}
	defer f.untrack(c)
	up, err := f.d.dial(context.Background(), f.port)
	if err != nil {
		f.log.Debug("forward published port", "port", f.port, "err", err)
		return
	}
	if !f.track(up) {
		up.Close()
		return
	}
	defer f.untrack(up)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	<-done
}

func (f *forwarder) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.open == nil {
		return false
	}
	f.open[c] = struct{}{}
	return true
}

func (f *forwarder) untrack(c net.Conn) {
	c.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.open, c)
}

// close stops listening, drops open connections and waits for the
// goroutines.
func (f *forwarder) close() {
	f.ln.Close()
	f.mu.Lock()
	for c := range f.open {
		c.Close()
	}
	f.open = nil
	f.mu.Unlock()
	f.wg.Wait()
}
