// Package actions resolves the `uses:` references of steps and jobs to
// directories on disk and their parsed metadata: local actions (`./path`,
// relative to the workspace), actions of the workflow's own repository
// (`$/path`), and actions and reusable workflows in other repositories
// (`owner/repo[/path]@ref`), fetched with the git CLI over HTTP(S).
//
// Remote repositories are kept in a content cache, one directory per
// resolved commit SHA, with a ref→SHA index so that resolving a cached
// action needs no network. Entries are fetched into a temporary directory
// and renamed into place, so a crashed fetch never leaves a half-written
// entry that is later trusted; concurrent fetches of the same repo@ref in
// one process share one fetch. An offline Resolver uses only the cache and
// names the missing action and how to fill the cache (`vermont actions
// pull`, or Resolver.Pull).
//
// Resolving does not run anything: package exec runs the actions this
// package finds.
package actions
