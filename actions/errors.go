package actions

import "errors"

// Sentinel categories of operational errors, checked with errors.Is.
var (
	// ErrNotCached: the resolver is offline and the action is not in the cache.
	ErrNotCached = errors.New("not in the action cache")
	// ErrNotFound: the repository, ref, or path inside it does not exist (or
	// the token cannot read it).
	ErrNotFound = errors.New("not found")
	// ErrNoMetadata: a directory named as an action holds no action.yml,
	// action.yaml or Dockerfile.
	ErrNoMetadata = errors.New("no action metadata")
	// ErrBadReference: a uses: value that cannot be resolved as given.
	ErrBadReference = errors.New("bad reference")
	// ErrAuth: the server asked for credentials that were not given or not
	// accepted.
	ErrAuth = errors.New("authentication required")
)

// errNoShallow: the git server cannot send a shallow history (git's dumb
// HTTP protocol); the fetch is retried in full.
var errNoShallow = errors.New("the server does not support shallow fetches")
