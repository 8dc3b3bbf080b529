package vm

import (
	"context"
	"errors"
	"time"
)

// Labels that every provider stamps on the instances it creates, so that List
// can tell this controller's instances apart from everything else on the host
// and the pool can reconcile after a restart.
const (
	LabelController = "vermont.controller" // the controller ID (one per pool process/state dir)
	LabelPool       = "vermont.pool"       // the pool name
	LabelInstance   = "vermont.instance"   // the instance name (== GitHub runner name)
)

// ErrNotFound reports that an instance does not exist. Destroy treats it as
// success; Wait and others wrap it.
var ErrNotFound = errors.New("instance not found")

// Spec describes one instance to create. Everything a provider needs to boot a
// single-use runner is here; providers must not keep Spec.RunnerConfig in any
// log or error, it is a credential.
type Spec struct {
	// Name is unique per controller and doubles as the GitHub runner name.
	Name string
	// Pool is the name of the pool the instance belongs to.
	Pool string
	// Image is provider specific: an image reference for containerd, a
	// template (base VHD / layer folder) path for Hyper-V.
	Image string
	// RunnerConfig is the just-in-time runner configuration (base64, as
	// returned by GitHub's generate-jitconfig). Secret.
	RunnerConfig string
	// Env is extra environment for the runner process.
	Env map[string]string
	// Labels are extra labels; providers add LabelController, LabelPool and
	// LabelInstance themselves.
	Labels map[string]string
	// CPUs and MemoryMB bound the instance; zero means the provider default.
	CPUs     int
	MemoryMB int
}

// Instance is what a provider reports about one instance it manages.
type Instance struct {
	Name      string
	Pool      string
	Labels    map[string]string
	Running   bool // the runner process (or VM) is up
	CreatedAt time.Time
}

// VMProvider creates, watches and destroys isolated single-use environments.
// It is defined here, where Pool consumes it; providers live in
// vm/containerd, vm/hyperv and vm/vmtest. Every method honours ctx.
type VMProvider interface {
	// Create creates and starts an instance and returns once it is running.
	// On error nothing is left behind.
	Create(ctx context.Context, spec Spec) (Instance, error)
	// Wait blocks until the instance's runner exits and returns its exit
	// code. It may be called after the exit has happened: the status is kept
	// until Destroy.
	Wait(ctx context.Context, name string) (int, error)
	// Destroy stops the instance and removes everything it owns. It is
	// idempotent: an instance that does not exist is not an error.
	Destroy(ctx context.Context, name string) error
	// List returns the instances that carry this controller's label,
	// including ones created before a restart.
	List(ctx context.Context) ([]Instance, error)
}
