// Package wiring is what `vermont run` and `vermont serve` share to run a
// workflow on this machine: the backend that sends each job to the host or
// to containerd, and the results service (artifacts, caches) started on
// first use. Callers pass their flags in as plain values.
package wiring
