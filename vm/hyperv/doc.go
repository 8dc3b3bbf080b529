// Package hyperv is Vermont's Windows provider: every instance is a
// Hyper-V-isolated Windows container, that is, a compute system with its own
// utility VM (HvPartition) and a throw-away scratch layer over the runner
// image's read-only layers, driven through hcsshim's public API.
//
// # What runs where
//
// The portable files build every document the provider hands to the Host
// Compute Service (HCS) and hold the whole call sequence; they compile and are
// tested on every OS. host_windows.go is the only file that calls hcsshim: it
// implements the small interfaces in host.go. On other systems New returns
// ErrUnsupported, so callers can wire the provider by name on any OS.
//
// # Documents
//
// hcsshim's public CreateContainer takes the schema 1 ContainerConfig, and
// that is the document built here (mirrored in document.go, because hcsshim's
// schema types are Windows-only or internal). Hyper-V isolation is
// HvPartition=true with HvRuntime.ImagePath pointing at the UtilityVM folder
// of the image's base layer, so HCS boots a utility VM per instance. The
// schema 2 route (a separately created utility VM that hosts the container)
// is only reachable through hcsshim's internal/uvm package.
//
// # Call sequence
//
// Create: write the instance record and the runner config file, create the
// scratch layer, create the network endpoint, create the compute system,
// start it, start the runner process, record its PID. A failure at any step
// undoes the steps before it, in reverse, on a context that ignores the
// caller's cancellation.
//
// Wait: wait for the runner process (reopened by its recorded PID after a
// restart) and return its exit code.
//
// Destroy: terminate the compute system, wait for it to stop, close it,
// delete the endpoint, destroy the scratch layer, remove the instance
// directory. Anything already gone counts as done.
//
// List: enumerate the compute systems whose HCS Owner is this controller's,
// read the instance records under the storage directory, and report their
// union (records left without a system, after a host reboot or a crash mid
// Create, are reported as not running so the pool destroys them).
//
// # Labels
//
// Schema 1 documents have no free-form metadata, so labels live in a sidecar,
// <storage>/<system id>/instance.json, written before any host resource
// exists. The HCS Owner field ("vermont-" + controller ID) finds systems, and
// the system ID is derived from the controller ID and instance name, so a
// system whose record was lost can still be listed and destroyed by name.
//
// # The runner config
//
// The just-in-time runner config is a credential. It is written to
// <storage>/<system id>/config/runner-config and mapped read-only into the
// container at C:\vermont; it never appears in a document (hcsshim records
// documents in its trace spans), a log line or an error.
package hyperv
