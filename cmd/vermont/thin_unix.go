//go:build thin && !windows

package main

import "syscall"

// replaceProcess execs path in this process's place; it returns only on
// failure.
func replaceProcess(path string, argv, env []string) error {
	return syscall.Exec(path, argv, env)
}
