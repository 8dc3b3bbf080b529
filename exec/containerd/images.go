package containerd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vermont-ci/vermont/internal/ctrd"
)

// Image describes an image in the backend's namespace.
type Image struct {
	Name      string
	Digest    string
	Size      int64 // bytes as stored (compressed layers)
	CreatedAt time.Time
}

// ImportImage reads an image archive (an OCI image layout or a `docker
// save` archive, plain tar) into the namespace, unpacks it and returns the
// names of the images it held. name names images the archive leaves
// unnamed; it may be empty.
func (b *Backend) ImportImage(ctx context.Context, r io.Reader, name string) ([]string, error) {
	var opts []ctrd.ImportOption
	if name != "" {
		opts = append(opts, ctrd.WithImportName(name))
	}
	return b.c.Import(ctx, r, opts...)
}

// Images lists the images in the namespace, sorted by name.
func (b *Backend) Images(ctx context.Context) ([]Image, error) {
	infos, err := b.c.Images(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Image, 0, len(infos))
	for _, i := range infos {
		out = append(out, Image{Name: i.Name, Digest: i.Digest, Size: i.Size, CreatedAt: i.CreatedAt})
	}
	return out, nil
}

// RemoveImage deletes an image by name ("busybox" means
// docker.io/library/busybox:latest, as in Docker). A missing image is
// reported with ErrImageNotFound.
func (b *Backend) RemoveImage(ctx context.Context, ref string) error {
	return b.c.RemoveImage(ctx, ref)
}

// Leftover is something a job created in containerd.
type Leftover struct {
	Kind string // container, snapshot, lease, or directory (a job's hosts file and logs)
	ID   string
	Run  string // the run that created it
}

// String describes the leftover as prune prints it.
func (l Leftover) String() string { return fmt.Sprintf("%s %s (run %s)", l.Kind, l.ID, l.Run) }

// Leftovers lists every container, snapshot and lease in the namespace
// that a job created (they carry LabelRun). While no run is live these are
// the leftovers of crashed runs.
func (b *Backend) Leftovers(ctx context.Context) ([]Leftover, error) {
	objs, err := b.c.ListLabeled(ctx, LabelRun)
	if err != nil {
		return nil, err
	}
	out := make([]Leftover, 0, len(objs))
	for _, o := range objs {
		out = append(out, Leftover{Kind: o.Kind, ID: o.ID, Run: o.Value})
	}
	dirs, err := b.jobDirs(ctx, objs)
	return append(out, dirs...), err
}

// jobDirs finds the directories of the jobs Vermont left in containerd: a
// job keeps its hosts file and logs in os.TempDir()/<job id>-*, which
// Close removes and a crash leaves. objs (objects labelled with their run,
// may be nil) only name each directory's run.
func (b *Backend) jobDirs(ctx context.Context, objs []ctrd.Labeled) ([]Leftover, error) {
	jobs, err := b.c.ListLabeled(ctx, LabelJob)
	if err != nil {
		return nil, err
	}
	run := make(map[string]string, len(objs))
	for _, o := range objs {
		run[o.Kind+" "+o.ID] = o.Value
	}
	seen := map[string]bool{}
	var out []Leftover
	for _, j := range jobs {
		if seen[j.Value] || !strings.HasPrefix(j.Value, "vermont-") {
			continue
		}
		seen[j.Value] = true
		dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), j.Value+"-*"))
		for _, d := range dirs {
			out = append(out, Leftover{Kind: "directory", ID: d, Run: run[j.Kind+" "+j.ID]})
		}
	}
	return out, nil
}

// Prune removes everything Leftovers lists, live runs included: run it
// when no run is in progress. It keeps going past failures and returns
// how many objects it removed.
func (b *Backend) Prune(ctx context.Context) (int, error) {
	dirs, err := b.jobDirs(ctx, nil)
	if err != nil {
		return 0, err
	}
	rm, err := b.c.RemoveAllLabeled(ctx, LabelRun)
	n := rm.Containers + rm.Snapshots + rm.Leases + rm.Images
	errs := []error{err}
	for _, d := range dirs {
		if rerr := os.RemoveAll(d.ID); rerr != nil {
			errs = append(errs, rerr)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}
