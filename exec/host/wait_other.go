//go:build !linux

package host

// awaitExit returns at once: the caller's cmd.Wait does the waiting.
func awaitExit(int) {}
