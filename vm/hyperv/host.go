package hyperv

import "context"

// The interfaces below are the host calls the Provider makes. They are
// defined here, where they are consumed; host_windows.go implements them with
// hcsshim, and the tests with a recording fake. Implementations report a
// missing object with an error that wraps vm.ErrNotFound.

// computeSystems creates, opens and enumerates HCS compute systems.
type computeSystems interface {
	// Create creates (but does not start) a compute system.
	Create(ctx context.Context, id string, doc *systemDocument) (system, error)
	// Open opens an existing compute system.
	Open(ctx context.Context, id string) (system, error)
	// List returns the compute systems whose Owner is owner.
	List(ctx context.Context, owner string) ([]systemInfo, error)
}

// system is one open compute system.
type system interface {
	// Start boots the system (and its utility VM).
	Start(ctx context.Context) error
	// Exec starts a process in the system.
	Exec(ctx context.Context, doc *processDocument) (process, error)
	// OpenProcess opens a process started earlier, by its PID.
	OpenProcess(ctx context.Context, pid int) (process, error)
	// Terminate stops the system; a system that already stopped is not an
	// error.
	Terminate(ctx context.Context) error
	// Wait blocks until the system has stopped.
	Wait(ctx context.Context) error
	// Close releases the handle. The system keeps running: documents set
	// TerminateOnLastHandleClosed=false so a controller restart does not
	// kill its instances.
	Close() error
}

// process is one process in a compute system.
type process interface {
	// PID is the process ID inside the system.
	PID() int
	// Wait blocks until the process exits and returns its exit code.
	Wait(ctx context.Context) (int, error)
	// Close releases the handle without killing the process.
	Close() error
}

// systemInfo is what enumeration reports about one compute system.
type systemInfo struct {
	ID      string
	Owner   string
	Running bool
}

// layerStore manages layer folders.
type layerStore interface {
	// CreateScratch creates a writable scratch layer at path over parents
	// (top-most first, base last).
	CreateScratch(ctx context.Context, path string, parents []string) error
	// Destroy removes the layer at path.
	Destroy(ctx context.Context, path string) error
	// LayerID returns the GUID HCS derives from a layer folder's name.
	LayerID(ctx context.Context, path string) (string, error)
}

// networks manages HNS endpoints.
type networks interface {
	// CreateEndpoint creates an endpoint called name on the named network
	// and returns its ID.
	CreateEndpoint(ctx context.Context, network, name string) (string, error)
	// DeleteEndpoint deletes the endpoint called name.
	DeleteEndpoint(ctx context.Context, name string) error
}

// host bundles the host calls the Provider needs.
type host struct {
	systems  computeSystems
	layers   layerStore
	networks networks
}
