//go:build thin && windows

package main

import "errors"

// replaceProcess: Windows cannot exec in place; the caller runs a child.
func replaceProcess(string, []string, []string) error { return errors.ErrUnsupported }
