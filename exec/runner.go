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
	// Image is the container image the steps run in: from a -P platform
	// mapping of runs-on, or the job's container:. Empty runs the steps on
	// the host.
	Image string
	// Container holds the rest of jobs.<id>.container when there is one.
	Container *ContainerSpec
	// Services are jobs.<id>.services. A container job shares one network
	// namespace with them (reachable by name and on localhost); for a host
	// job their ports are published on the host's loopback.
	Services []ServiceSpec
	// Mounts are host directories the steps use (workspace, temp, command
	// files, tool cache, actions). Container backends bind them at the same
	// path, so paths mean the same inside and out.
	Mounts []string
}

// ContainerSpec is a job or service container, with every expression
// already evaluated.
type ContainerSpec struct {
	Image       string
	Env         map[string]string
	Ports       []string // docker -p forms: "8080", "8080:80", "127.0.0.1:8080:80/tcp"
	Volumes     []string // "src:dst[:ro]" or "dst"
	Options     string   // docker create options; backends support a documented subset
	Credentials *Credentials
}

// Credentials log in to a registry. Secret: never logged.
type Credentials struct {
	Username, Password string
}

// ServiceSpec is one service container.
type ServiceSpec struct {
	Name string // the service id, also its host name
	ContainerSpec
}

// ContainerRunner is implemented by step runners that can run a one-off
// container next to the job: Docker actions (uses: docker://… and
// runs.using: docker). The job runner checks for it with a type assertion
// and reports a clear error when the backend cannot.
type ContainerRunner interface {
	RunContainer(ctx context.Context, c ContainerProcess) (exitCode int, err error)
}

// ContainerProcess is one run of a container for a Docker action.
type ContainerProcess struct {
	Image      string
	Entrypoint []string // empty keeps the image's
	Args       []string
	Env        []string // KEY=VALUE
	Dir        string   // working directory inside the container
	Mounts     []string // host directories bound at the same path
	Stdout     io.Writer
	Stderr     io.Writer
}
