package main

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
)

// runVersion prints the module version and the VCS state the binary was
// built from (`vermont version`, `vermont --version`).
func runVersion(_ context.Context, args []string, io stdio) int {
	if len(args) > 0 {
		fmt.Fprintf(io.err, "vermont version: takes no arguments, got %q\n", args)
		return 2
	}
	info, ok := debug.ReadBuildInfo()
	fmt.Fprintln(io.out, versionLine(info, ok))
	return 0
}

// versionLine formats what the Go toolchain stamped into the binary: the
// main module's version ("(devel)" for a build from a work tree), then
// vcs.revision, vcs.modified and vcs.time when `go build` recorded them
// (not under `go run`, which does not stamp VCS data).
func versionLine(info *debug.BuildInfo, ok bool) string {
	if !ok || info == nil {
		return "vermont unknown (no build information)"
	}
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	settings := make(map[string]string)
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	var parts []string
	if rev := settings["vcs.revision"]; rev != "" {
		if settings["vcs.modified"] == "true" {
			rev += "-dirty"
		}
		parts = append(parts, "revision "+rev)
	}
	if t := settings["vcs.time"]; t != "" {
		parts = append(parts, "committed "+t)
	}
	if info.GoVersion != "" {
		parts = append(parts, info.GoVersion)
	}
	line := "vermont " + version
	if len(parts) > 0 {
		line += " (" + strings.Join(parts, ", ") + ")"
	}
	return line
}
