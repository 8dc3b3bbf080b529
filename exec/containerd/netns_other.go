//go:build !linux

package containerd

import (
	"context"
	"errors"
	"net"
)

// netns is a job's network namespace; only Linux has them.
type netns struct{}

var errNoNetns = errors.New("network namespaces need Linux: use --network host")

func newNetns() (*netns, error) { return nil, errNoNetns }

func (n *netns) path() string { return "" }

func (n *netns) dial(ctx context.Context, port int) (net.Conn, error) { return nil, errNoNetns }

func (n *netns) close() error { return nil }
