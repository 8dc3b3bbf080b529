package containerd

import (
	"testing"

	"github.com/vermont-ci/vermont/internal/ctrdtest"
)

// SharedDaemon gives the external tests (runner_test.go, package
// containerd_test) the package's one private daemon, which TestMain stops:
// a test binary has one TestMain.
func SharedDaemon(tb testing.TB) *ctrdtest.Daemon { return daemon.Get(tb) }
