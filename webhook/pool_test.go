package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/vermont-ci/vermont/webhook"
)

// recordingPool records the calls PoolHandler makes.
type recordingPool struct {
	calls []string
	err   error
}

func (p *recordingPool) JobQueued(_ context.Context, labels []string, jobID int64) (string, error) {
	p.calls = append(p.calls, fmt.Sprintf("queued %d %v", jobID, labels))
	return "r-1", p.err
}

func (p *recordingPool) JobStarted(_ context.Context, runner string, jobID int64) error {
	p.calls = append(p.calls, fmt.Sprintf("started %d on %s", jobID, runner))
	return p.err
}

func (p *recordingPool) JobCompleted(_ context.Context, runner string, jobID int64) error {
	p.calls = append(p.calls, fmt.Sprintf("completed %d on %s", jobID, runner))
	return p.err
}

func TestPoolHandler(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ev   webhook.JobEvent
		want []string
	}{
		{webhook.JobEvent{Action: "queued", JobID: 1, Labels: []string{"self-hosted", "linux"}}, []string{"queued 1 [self-hosted linux]"}},
		{webhook.JobEvent{Action: "in_progress", JobID: 1, RunnerName: "r-1"}, []string{"started 1 on r-1"}},
		{webhook.JobEvent{Action: "completed", JobID: 1, RunnerName: "r-1"}, []string{"completed 1 on r-1"}},
		{webhook.JobEvent{Action: "waiting", JobID: 2}, nil},
	}
	for _, tt := range tests {
		p := &recordingPool{}
		if err := webhook.PoolHandler(p).HandleJob(context.Background(), tt.ev); err != nil {
			t.Errorf("%s: %v", tt.ev.Action, err)
		}
		if !reflect.DeepEqual(p.calls, tt.want) {
			t.Errorf("%s: calls = %q, want %q", tt.ev.Action, p.calls, tt.want)
		}
	}
	// The pool's error fails the delivery, so that GitHub can redeliver.
	boom := errors.New("pool closed")
	for _, action := range []string{"queued", "in_progress", "completed"} {
		err := webhook.PoolHandler(&recordingPool{err: boom}).HandleJob(context.Background(), webhook.JobEvent{Action: action})
		if !errors.Is(err, boom) {
			t.Errorf("%s: err = %v, want the pool's", action, err)
		}
	}
}
