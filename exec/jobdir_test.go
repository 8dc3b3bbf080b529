package exec

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/vermont-ci/vermont/schedule"
)

// noBackend starts nothing: only the job directories are under test.
type noBackend struct{}

func (noBackend) Start(context.Context, JobSpec) (StepRunner, error) {
	return nil, errors.New("no backend")
}

// TestJobDirsUnderChurn starts and ends jobs of one run at once, as a
// needs graph does where a layer ends while the next starts: the last job
// removing the run's directory must not race a starting job creating its
// own inside it. Before the run directory had a lock, testdata/bench's
// graph200.yml failed about one run in three with "prepare job
// directories: mkdir …: no such file or directory".
func TestJobDirsUnderChurn(t *testing.T) {
	t.Parallel()
	r, err := New(noBackend{}, WithWorkDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 300 {
				j, err := r.newJobRun(&schedule.Job{ID: fmt.Sprintf("j%d", g)}, "j")
				if err != nil {
					errs <- fmt.Errorf("goroutine %d, job %d: %w", g, i, err)
					return
				}
				j.cleanup()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
