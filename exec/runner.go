package exec

import (
	"context"
	"io"
)

// Process is one program a step runs.
type Process struct {
	Argv   []string // Argv[0] is looked up in the PATH of Env
	Env    []string // the complete environment, KEY=VALUE
	Dir    string   // working directory
	Stdout io.Writer
	Stderr io.Writer
}

// StepRunner runs the processes of one job's steps: on the host, or in the
// job's container. It is defined here, where the job runner consumes it; the
// implementations live in exec/host and exec/containerd.
type StepRunner interface {
	// Run runs p to completion and returns its exit code. When ctx ends,
	// the process and everything it started are stopped and ctx.Err() is
	// returned.
	Run(ctx context.Context, p Process) (exitCode int, err error)
	// Close stops whatever the job left running (background processes,
	// containers, services) and releases the job's resources.
	Close(ctx context.Context) error
}

// Backend prepares the place where a job's steps run.
type Backend interface {
	Start(ctx context.Context, job JobSpec) (StepRunner, error)
}

// JobSpec is what a backend needs to know to prepare one job.
type JobSpec struct {
	RunID string // labels what the job creates, for cleanup after a crash
	Job   string // display name, for messages
	// Image is the container image for the job (from -P mapping or
	// container:); empty runs on the host.
	Image string
	// Mounts are host directories the steps use (workspace, temp, command
	// files, tool cache, actions). Container backends bind them at the same
	// path, so paths mean the same inside and out.
	Mounts []string
}
