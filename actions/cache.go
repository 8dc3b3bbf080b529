package actions

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vermont-ci/vermont/workflow"
)

// Cache layout under the cache directory:
//
//	repos/<server>/<owner>/<repo>/<sha>/   one checked-out commit (with its shallow .git)
//	refs/<server>/<owner>/<repo>/<ref>     the SHA that ref resolved to
//	tmp/fetch-*                            fetches in progress, never read
//
// An entry appears only by renaming a finished fetch into place, so an
// entry that exists is complete. Owner and repository names are lower-cased
// because GitHub compares them without case.

// staleTemp is the age after which a leftover fetch directory (from a
// crashed process) is removed.
const staleTemp = time.Hour

// repoKey is the cache path of a repository, relative to repos/ and refs/.
func (r *Resolver) repoKey(owner, repo string) string {
	server := escapeName(r.baseURL.Host + r.baseURL.Path)
	return filepath.Join(server, escapeName(strings.ToLower(owner)), escapeName(strings.ToLower(repo)))
}

func (r *Resolver) entryDir(key, sha string) string {
	return filepath.Join(r.cacheDir, "repos", key, sha)
}

func (r *Resolver) indexFile(key, ref string) string {
	return filepath.Join(r.cacheDir, "refs", key, escapeName(ref))
}

// escapeName makes s safe as one file name on every platform and on
// case-insensitive file systems: bytes other than [a-z0-9._-] become %XX,
// and so does a leading dot.
func escapeName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' && i > 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// isSHA reports whether ref is a full commit id (SHA-1 or SHA-256).
func isSHA(ref string) bool {
	if len(ref) != 40 && len(ref) != 64 {
		return false
	}
	for _, c := range ref {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// entry returns the cache entry of ref's repository at ref, fetching it
// when it is not cached (unless offline). uses names the action in errors.
func (r *Resolver) entry(ctx context.Context, ref workflow.Reference, uses string) (dir, sha string, err error) {
	key := r.repoKey(ref.Owner, ref.Repo)
	memo := key + "@" + ref.Ref
	r.shared.mu.Lock()
	sha = r.shared.shas[memo]
	r.shared.mu.Unlock()
	if sha == "" {
		sha = r.cached(key, ref.Ref)
	}
	if sha == "" {
		if r.offline {
			return "", "", fmt.Errorf("%w: %s is not in the action cache %s and the resolver is offline; "+
				"fill the cache with network access first: vermont actions pull [-W PATH] --action-cache %s",
				ErrNotCached, uses, r.cacheDir, r.cacheDir)
		}
		if sha, err = r.fetchShared(ctx, ref, key, uses); err != nil {
			return "", "", err
		}
	}
	r.shared.mu.Lock()
	r.shared.shas[memo] = sha
	r.shared.mu.Unlock()
	return r.entryDir(key, sha), sha, nil
}

// cached returns the SHA of a cached ref, or "" when the ref or its entry
// is missing.
func (r *Resolver) cached(key, ref string) string {
	sha := strings.ToLower(ref)
	if !isSHA(ref) {
		b, err := os.ReadFile(r.indexFile(key, ref))
		if err != nil {
			return ""
		}
		sha = strings.TrimSpace(string(b))
		if !isSHA(sha) {
			return "" // a damaged index line: fetch again
		}
	}
	if fi, err := os.Stat(r.entryDir(key, sha)); err != nil || !fi.IsDir() {
		return ""
	}
	return sha
}

// fetchShared fetches ref once however many goroutines ask for it at the
// same time: the first runs the fetch in its own goroutine (so it returns
// only once the fetch has cleaned up), the others wait for it or for their
// own ctx.
func (r *Resolver) fetchShared(ctx context.Context, ref workflow.Reference, key, uses string) (string, error) {
	id := key + "@" + ref.Ref
	for {
		r.shared.mu.Lock()
		c := r.shared.fetches[id]
		if c == nil {
			c = &fetchCall{done: make(chan struct{})}
			r.shared.fetches[id] = c
			r.shared.mu.Unlock()
			c.sha, c.err = r.fetch(ctx, ref, key, uses)
			r.shared.mu.Lock()
			delete(r.shared.fetches, id)
			r.shared.mu.Unlock()
			close(c.done)
			return c.sha, c.err
		}
		r.shared.mu.Unlock()
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("fetching %s: %w", uses, ctx.Err())
		case <-c.done:
		}
		// A fetch run by a caller that has since gone away fails with that
		// caller's cancellation; ours is still wanted, so fetch again.
		if c.err != nil && isCtxErr(c.err) && ctx.Err() == nil {
			continue
		}
		return c.sha, c.err
	}
}

// fetchCall is one fetch in flight; sha and err are set before done closes.
type fetchCall struct {
	done chan struct{}
	sha  string
	err  error
}

func isCtxErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// fetch clones one commit of the repository into a temporary directory,
// renames it into the cache and records ref → SHA.
func (r *Resolver) fetch(ctx context.Context, ref workflow.Reference, key, uses string) (string, error) {
	tmpRoot := filepath.Join(r.cacheDir, "tmp")
	if err := os.MkdirAll(tmpRoot, 0o755); err != nil {
		return "", fmt.Errorf("fetching %s: %w", uses, err)
	}
	sweepStale(tmpRoot)
	tmp, err := os.MkdirTemp(tmpRoot, "fetch-")
	if err != nil {
		return "", fmt.Errorf("fetching %s: %w", uses, err)
	}
	defer func() {
		if tmp != "" {
			os.RemoveAll(tmp)
		}
	}()
	url := r.repoURL(ref.Owner, ref.Repo)
	r.log.InfoContext(ctx, "fetching action repository", "uses", uses, "url", url, "ref", ref.Ref)
	sha, err := r.gitFetch(ctx, tmp, url, ref.Ref)
	if err != nil {
		return "", fmt.Errorf("fetching %s from %s: %w", uses, url, err)
	}
	dest := r.entryDir(key, sha)
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return "", fmt.Errorf("fetching %s: %w", uses, err)
	}
	if err := os.Rename(tmp, dest); err == nil {
		tmp = ""
	} else if fi, serr := os.Stat(dest); serr != nil || !fi.IsDir() {
		return "", fmt.Errorf("fetching %s: storing in the cache: %w", uses, err)
	} // else another process stored the same commit first
	if !isSHA(ref.Ref) {
		if err := writeIndex(r.indexFile(key, ref.Ref), sha); err != nil {
			return "", fmt.Errorf("fetching %s: %w", uses, err)
		}
	}
	r.log.InfoContext(ctx, "cached action repository", "uses", uses, "sha", sha)
	return sha, nil
}

// repoURL is where owner/repo is fetched from.
func (r *Resolver) repoURL(owner, repo string) string {
	u := *r.baseURL
	u.Path += "/" + owner + "/" + repo
	return u.String()
}

// writeIndex records sha for a ref atomically (temp file + rename).
func writeIndex(file, sha string) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(file), ".ref-")
	if err != nil {
		return err
	}
	_, werr := f.WriteString(sha + "\n")
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(f.Name(), file)
	}
	if werr != nil {
		os.Remove(f.Name())
		return fmt.Errorf("recording the ref: %w", werr)
	}
	return nil
}

// sweepStale removes fetch directories left by crashed processes.
func sweepStale(dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleTemp {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}
