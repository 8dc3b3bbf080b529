package containerd

import (
	"testing"

	"github.com/vermont-ci/vermont/internal/ctrdtest"
)

// SharedDaemon gives the external test package (e2e_test.go) the one
// private containerd that TestMain's daemon shares, so the package's tests
// never start two.
func SharedDaemon(tb testing.TB) *ctrdtest.Daemon {
	tb.Helper()
	return daemon.Get(tb)
}
