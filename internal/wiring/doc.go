// Package wiring is what `vermont run` and `vermont serve` share to run a
// workflow on this machine: the backend that sends each job to the host or
// to containerd, and the results service (artifacts, caches) started on
// first use. Callers pass their flags in as plain values. It links no
// daemon client: package ctrdwire connects the Router to containerd, and
// only the full build of vermont imports it.
package wiring
