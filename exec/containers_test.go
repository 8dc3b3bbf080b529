package exec

import (
	"context"
	"github.com/vermont-ci/vermont/workflow/expr"
	"reflect"
	"testing"
)

// describer is a StepRunner that describes its containers.
type describer struct {
	main     *ContainerInfo
	services map[string]ContainerInfo
}

func (describer) Run(context.Context, Process) (int, error) { return 0, nil }
func (describer) Close(context.Context) error               { return nil }
func (d describer) Containers() (*ContainerInfo, map[string]ContainerInfo) {
	return d.main, d.services
}

// plain is a StepRunner that knows nothing of containers (the host backend).
type plain struct{}

func (plain) Run(context.Context, Process) (int, error) { return 0, nil }
func (plain) Close(context.Context) error               { return nil }

func TestContainerContexts(t *testing.T) {
	t.Parallel()
	web := ContainerInfo{ID: "c-web", Network: "net1", Ports: map[string]string{"80": "49153"}}
	tests := []struct {
		name          string
		services      []ServiceSpec
		sr            StepRunner
		wantContainer map[string]any
		wantServices  map[string]any
	}{
		{name: "host job, host backend", sr: plain{}},
		{name: "host job, no containers", sr: describer{}},
		{
			name:     "container job with a service",
			services: []ServiceSpec{{Name: "web"}},
			sr: describer{main: &ContainerInfo{ID: "c-job", Network: "net1"},
				services: map[string]ContainerInfo{"web": web}},
			wantContainer: map[string]any{"id": "c-job", "network": "net1"},
			wantServices: map[string]any{"web": map[string]any{
				"id": "c-web", "network": "net1", "ports": map[string]any{"80": "49153"}}},
		},
		{
			// GitHub's own example: a job on the runner with a service
			// has job.container.network and no job.container.id.
			name:          "host job with a service",
			services:      []ServiceSpec{{Name: "web"}},
			sr:            describer{main: &ContainerInfo{Network: "net1"}, services: map[string]ContainerInfo{"web": web}},
			wantContainer: map[string]any{"network": "net1"},
			wantServices: map[string]any{"web": map[string]any{
				"id": "c-web", "network": "net1", "ports": map[string]any{"80": "49153"}}},
		},
		{
			// A backend that cannot describe its containers still gives
			// every service an object, so job.services.<id>.ports is {}.
			name:         "services on a backend that does not describe them",
			services:     []ServiceSpec{{Name: "db"}},
			sr:           plain{},
			wantServices: map[string]any{"db": map[string]any{"id": "", "network": "", "ports": map[string]any{}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			co, so := containerContexts(tt.services, tt.sr)
			c, s := plainObject(co), plainObject(so)
			if !reflect.DeepEqual(c, tt.wantContainer) {
				t.Errorf("job.container = %#v, want %#v", c, tt.wantContainer)
			}
			if !reflect.DeepEqual(s, tt.wantServices) {
				t.Errorf("job.services = %#v, want %#v", s, tt.wantServices)
			}
		})
	}
}

// plainObject is o as a plain map, nil when o is nil.
func plainObject(o *expr.Object) map[string]any {
	if o == nil {
		return nil
	}
	return expr.Plain(o).(map[string]any)
}
