package ctrd

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"syscall"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/leases"
	"github.com/containerd/containerd/v2/core/snapshots"
	"github.com/containerd/errdefs"
)

// CleanupTimeout bounds the clean-up work CleanupContext allows.
const CleanupTimeout = 30 * time.Second

// CleanupContext returns a context for removing what an operation created:
// it keeps ctx's values (namespace, lease) but not its cancellation, so that
// Ctrl-C or a deadline still leaves nothing behind, and it is bounded by
// CleanupTimeout.
func CleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), CleanupTimeout)
}

// CreateContext returns a context for a call that creates something on the
// daemon (a container, task or lease): like CleanupContext, it drops ctx's
// cancellation. A create the client abandons on Ctrl-C can still land on
// the daemon after the caller has listed what to remove, and then nobody
// removes it. Callers check ctx before each such call instead, so that a
// cancellation stops them between calls, never inside one.
func CreateContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return CleanupContext(ctx)
}

// LabelFilter returns a containerd filter matching objects whose label key
// equals value, such as `labels."vermont.controller"=="c1"`.
func LabelFilter(key, value string) string {
	return "labels." + strconv.Quote(key) + "==" + strconv.Quote(value)
}

// SnapshotLabels returns a snapshot option that stamps labels on a new
// container's root filesystem snapshot, so that RemoveLabeled finds it even
// if the container record is gone.
func SnapshotLabels(labels map[string]string) snapshots.Opt {
	return snapshots.WithLabels(labels)
}

// WithLease returns ctx carrying a new lease that protects everything
// created under it from garbage collection until done is called or expire
// passes. The lease carries labels, so RemoveLabeled finds it after a crash.
func (c *Client) WithLease(ctx context.Context, labels map[string]string, expire time.Duration) (context.Context, func(context.Context) error, error) {
	ctx = c.Context(ctx)
	opts := []leases.Opt{leases.WithRandomID(), leases.WithExpiration(expire)}
	if len(labels) > 0 {
		opts = append(opts, leases.WithLabels(labels))
	}
	lctx, done, err := c.c.WithLease(ctx, opts...)
	if err != nil {
		return ctx, nil, fmt.Errorf("create lease: %w", err)
	}
	return lctx, func(ctx context.Context) error {
		if err := done(c.Context(ctx)); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("release lease: %w", err)
		}
		return nil
	}, nil
}

// DeleteContainer stops and removes container id with its task and root
// filesystem snapshot. The task gets SIGTERM, then SIGKILL for all its
// processes after grace (at once when grace is zero). A container that does
// not exist is not an error.
func (c *Client) DeleteContainer(ctx context.Context, id string, grace time.Duration) error {
	ctx = c.Context(ctx)
	cont, err := c.c.LoadContainer(ctx, id)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("container %s: load: %w", id, err)
	}
	task, err := cont.Task(ctx, nil)
	switch {
	case errdefs.IsNotFound(err):
	case err != nil:
		return fmt.Errorf("container %s: load task: %w", id, err)
	default:
		if err := StopTask(ctx, task, grace); err != nil {
			return fmt.Errorf("container %s: %w", id, err)
		}
		if _, err := task.Delete(ctx, client.WithProcessKill); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("container %s: delete task: %w", id, err)
		}
	}
	if err := cont.Delete(ctx, client.WithSnapshotCleanup); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("container %s: delete: %w", id, err)
	}
	return nil
}

// StopTask ends a task: SIGTERM to its init process, then SIGKILL to all
// its processes once grace has passed or at once when grace is zero. It
// returns when the task has exited.
func StopTask(ctx context.Context, task client.Task, grace time.Duration) error {
	st, err := task.Status(ctx)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("task status: %w", err)
	}
	if st.Status == client.Stopped {
		return nil
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	exited, err := task.Wait(wctx)
	if err != nil {
		return fmt.Errorf("wait for task: %w", err)
	}
	if grace > 0 && st.Status == client.Running {
		if err := task.Kill(ctx, syscall.SIGTERM); err != nil && !gone(err) {
			return fmt.Errorf("send SIGTERM: %w", err)
		}
		timer := time.NewTimer(grace)
		defer timer.Stop()
		select {
		case <-exited:
			return nil
		case <-timer.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := task.Kill(ctx, syscall.SIGKILL, client.WithKillAll); err != nil && !gone(err) {
		return fmt.Errorf("send SIGKILL: %w", err)
	}
	select {
	case <-exited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// gone reports errors that mean the process has already exited.
func gone(err error) bool {
	return errdefs.IsNotFound(err) || errdefs.IsFailedPrecondition(err)
}

// Removed counts what RemoveLabeled deleted.
type Removed struct {
	Containers, Snapshots, Images, Leases int
}

// RemoveLabeled deletes every container (with its task and snapshot),
// snapshot, image and lease in the namespace whose label key equals value:
// the clean-up after a run and `vermont prune`'s work. It keeps going past
// failures and reports them all together.
func (c *Client) RemoveLabeled(ctx context.Context, key, value string) (Removed, error) {
	ctx = c.Context(ctx)
	filter := LabelFilter(key, value)
	var (
		rm   Removed
		errs []error
	)
	conts, err := c.c.Containers(ctx, filter)
	if err != nil {
		errs = append(errs, fmt.Errorf("list containers: %w", err))
	}
	for _, cont := range conts {
		if err := c.DeleteContainer(ctx, cont.ID(), 0); err != nil {
			errs = append(errs, err)
			continue
		}
		rm.Containers++
	}
	n, err := c.removeSnapshots(ctx, filter)
	rm.Snapshots = n
	errs = append(errs, err)

	imgs, err := c.c.ImageService().List(ctx, filter)
	if err != nil {
		errs = append(errs, fmt.Errorf("list images: %w", err))
	}
	for i, img := range imgs {
		var dopts []images.DeleteOpt
		if i == len(imgs)-1 {
			// Collect garbage once, after the last one, so the caller
			// sees the space freed.
			dopts = append(dopts, images.SynchronousDelete())
		}
		if err := c.c.ImageService().Delete(ctx, img.Name, dopts...); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove image %s: %w", img.Name, err))
			continue
		}
		rm.Images++
	}
	ls, err := c.c.LeasesService().List(ctx, filter)
	if err != nil {
		errs = append(errs, fmt.Errorf("list leases: %w", err))
	}
	for _, l := range ls {
		if err := c.c.LeasesService().Delete(ctx, l, leases.SynchronousDelete); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove lease %s: %w", l.ID, err))
			continue
		}
		rm.Leases++
	}
	return rm, errors.Join(errs...)
}

// removeSnapshots deletes the labelled snapshots, children before parents.
func (c *Client) removeSnapshots(ctx context.Context, filter string) (int, error) {
	sn := c.c.SnapshotService(c.snapshotter)
	var keys []string
	err := sn.Walk(ctx, func(_ context.Context, info snapshots.Info) error {
		keys = append(keys, info.Name)
		return nil
	}, filter)
	if err != nil {
		return 0, fmt.Errorf("list snapshots in %s: %w", c.snapshotter, err)
	}
	removed := 0
	var lastErr error
	// A parent cannot go before its children; retry until no progress.
	for len(keys) > 0 {
		var left []string
		for _, k := range keys {
			err := sn.Remove(ctx, k)
			switch {
			case err == nil || errdefs.IsNotFound(err):
				removed++
			case errdefs.IsFailedPrecondition(err):
				left = append(left, k)
				lastErr = err
			default:
				return removed, fmt.Errorf("remove snapshot %s: %w", k, err)
			}
		}
		if len(left) == len(keys) {
			return removed, fmt.Errorf("remove snapshots %v: %w", left, lastErr)
		}
		keys = left
	}
	return removed, nil
}
