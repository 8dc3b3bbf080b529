package wiring

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/exec/host"
)

// TestRouterOpensContainersOnce: host jobs never call the container
// opener; the first container job calls it, once, and its error names the
// job; without an opener a container job gets exec.ErrNoContainers.
func TestRouterOpensContainersOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	noDaemon := errors.New("no daemon here")
	calls := 0
	r := NewRouter(host.New(), false, func(context.Context) (ContainerBackend, error) {
		calls++
		return nil, noDaemon
	})
	defer r.Close()
	h, err := r.Start(ctx, exec.JobSpec{Job: "on-host", Mounts: []string{t.TempDir()}})
	if err != nil {
		t.Fatalf("host job: %v", err)
	}
	if err := h.Close(ctx); err != nil {
		t.Errorf("close host job: %v", err)
	}
	if calls != 0 {
		t.Fatalf("a host job called the container opener %d times", calls)
	}
	for range 2 {
		_, err := r.Start(ctx, exec.JobSpec{Job: "boxed", Image: "alpine"})
		if !errors.Is(err, noDaemon) || !strings.Contains(err.Error(), `job "boxed" needs containers`) {
			t.Errorf("container job: %v, want the opener's error naming the job", err)
		}
	}
	if calls != 1 {
		t.Errorf("opener called %d times, want once", calls)
	}

	always := NewRouter(host.New(), true, nil)
	defer always.Close()
	if _, err := always.Start(ctx, exec.JobSpec{Job: "j"}); !errors.Is(err, exec.ErrNoContainers) {
		t.Errorf("always, no opener: %v, want exec.ErrNoContainers", err)
	}
}
