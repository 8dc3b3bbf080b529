//go:build !linux

package containerd

// probeSys finds nothing off Linux, where this backend runs no Linux
// containers.
func probeSys() sysInfo { return sysInfo{} }

// knownCaps is nil off Linux: capability names are only checked for form.
func knownCaps() []string { return nil }
