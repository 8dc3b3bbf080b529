package hyperv

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/vermont-ci/vermont/vm"
)

// teardown is what exists of one instance and must go. Create fills it as
// it goes (and undoes it on failure); Destroy fills it from the host.
type teardown struct {
	id       string
	dir      string
	sys      system  // nil: no compute system
	proc     process // nil: no runner process handle
	endpoint bool    // an endpoint named id may exist
}

// teardown removes what t names, newest first: process handle, compute
// system (terminate, wait, close), endpoint, scratch layer, instance folder.
// It stops at the first failure so that the record survives for a retry;
// things already gone count as removed.
func (p *Provider) teardown(ctx context.Context, t *teardown) error {
	if t.proc != nil {
		if err := t.proc.Close(); err != nil {
			p.cfg.logger.WarnContext(ctx, "hyperv: closing runner process handle", "system", t.id, "err", err)
		}
	}
	if t.sys != nil {
		err := stopSystem(ctx, t.sys)
		if cerr := t.sys.Close(); cerr != nil {
			p.cfg.logger.WarnContext(ctx, "hyperv: closing compute system handle", "system", t.id, "err", cerr)
		}
		if err != nil {
			return err
		}
	}
	if t.endpoint {
		if err := p.host.networks.DeleteEndpoint(ctx, t.id); err != nil && !errors.Is(err, vm.ErrNotFound) {
			return fmt.Errorf("deleting endpoint: %w", err)
		}
	}
	scratch := filepath.Join(t.dir, "scratch")
	if _, err := os.Stat(scratch); err == nil {
		if err := p.host.layers.Destroy(ctx, scratch); err != nil && !errors.Is(err, vm.ErrNotFound) {
			return fmt.Errorf("destroying scratch layer: %w", err)
		}
	} else if !isNotExist(err) {
		return fmt.Errorf("scratch layer: %w", err)
	}
	if err := os.RemoveAll(t.dir); err != nil {
		return fmt.Errorf("removing instance folder: %w", err)
	}
	return nil
}

// stopSystem terminates sys and waits until it has stopped.
func stopSystem(ctx context.Context, sys system) error {
	if err := sys.Terminate(ctx); err != nil && !errors.Is(err, vm.ErrNotFound) {
		return fmt.Errorf("terminating compute system: %w", err)
	}
	if err := sys.Wait(ctx); err != nil && !errors.Is(err, vm.ErrNotFound) {
		return fmt.Errorf("waiting for compute system to stop: %w", err)
	}
	return nil
}

// Destroy stops the instance and removes its compute system, endpoint,
// scratch layer and folder. An instance that does not exist is not an
// error, and a Destroy that failed half-way can be retried.
func (p *Provider) Destroy(ctx context.Context, name string) error {
	if err := validName(name); err != nil {
		return fmt.Errorf("hyperv: destroy: %w", err)
	}
	id := systemID(p.cfg.controller, name)
	p.mu.Lock()
	h := p.live[name]
	delete(p.live, name)
	p.mu.Unlock()
	t := &teardown{id: id, dir: p.instanceDir(id), endpoint: true}
	if h != nil {
		t.sys, t.proc = h.sys, h.proc
	} else {
		sys, err := p.host.systems.Open(ctx, id)
		switch {
		case err == nil:
			t.sys = sys
		case !errors.Is(err, vm.ErrNotFound):
			return fmt.Errorf("hyperv: destroy %s: opening compute system: %w", name, err)
		}
	}
	if err := p.teardown(ctx, t); err != nil {
		return fmt.Errorf("hyperv: destroy %s: %w", name, err)
	}
	p.cfg.logger.InfoContext(ctx, "hyperv instance destroyed", "instance", name, "system", id)
	return nil
}

// Wait blocks until the instance's runner process exits and returns its
// exit code. After a controller restart it reopens the compute system and
// the process by the PID in the instance record.
func (p *Provider) Wait(ctx context.Context, name string) (int, error) {
	if err := validName(name); err != nil {
		return -1, fmt.Errorf("hyperv: wait: %w", err)
	}
	h, err := p.handlesFor(ctx, name)
	if err != nil {
		return -1, fmt.Errorf("hyperv: wait %s: %w", name, err)
	}
	code, err := h.proc.Wait(ctx)
	if err != nil {
		return -1, fmt.Errorf("hyperv: wait %s: %w", name, err)
	}
	return code, nil
}

// handlesFor returns the open handles of name, reopening them if this
// process did not create the instance.
func (p *Provider) handlesFor(ctx context.Context, name string) (*handles, error) {
	p.mu.Lock()
	h := p.live[name]
	p.mu.Unlock()
	if h != nil {
		return h, nil
	}
	id := systemID(p.cfg.controller, name)
	rec, err := readRecord(p.instanceDir(id))
	if isNotExist(err) {
		return nil, fmt.Errorf("%w: no instance record", vm.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if rec.PID == 0 {
		return nil, fmt.Errorf("%w: the runner process was never started", vm.ErrNotFound)
	}
	sys, err := p.host.systems.Open(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("opening compute system: %w", err)
	}
	proc, err := sys.OpenProcess(ctx, rec.PID)
	if err != nil {
		_ = sys.Close()
		return nil, fmt.Errorf("opening runner process %d: %w", rec.PID, err)
	}
	h = &handles{sys: sys, proc: proc}
	p.mu.Lock()
	defer p.mu.Unlock()
	if other := p.live[name]; other != nil {
		// A concurrent Wait reopened it first: keep one set of handles.
		_ = proc.Close()
		_ = sys.Close()
		return other, nil
	}
	p.live[name] = h
	return h, nil
}

// List returns this controller's instances: every instance folder under
// the storage directory and every compute system with this controller's
// Owner. Folders without a system (a host reboot, a crash mid-Create) are
// reported as not running so the pool destroys them.
func (p *Provider) List(ctx context.Context) ([]vm.Instance, error) {
	infos, err := p.host.systems.List(ctx, ownerOf(p.cfg.controller))
	if err != nil {
		return nil, fmt.Errorf("hyperv: list compute systems: %w", err)
	}
	running := make(map[string]bool, len(infos))
	for _, info := range infos {
		running[info.ID] = info.Running
	}
	entries, err := os.ReadDir(p.storage)
	if err != nil && !isNotExist(err) {
		return nil, fmt.Errorf("hyperv: list: %w", err)
	}
	var out []vm.Instance
	seen := map[string]bool{}
	for _, e := range entries {
		name, ok := nameFromID(p.cfg.controller, e.Name())
		if !e.IsDir() || !ok {
			continue
		}
		inst := p.bareInstance(name, running[e.Name()])
		rec, err := readRecord(filepath.Join(p.storage, e.Name()))
		switch {
		case err == nil && rec.Name == name && rec.Labels[vm.LabelController] == p.cfg.controller:
			inst.Pool, inst.Labels, inst.CreatedAt = rec.Pool, rec.Labels, rec.CreatedAt
		case err != nil && !isNotExist(err):
			p.cfg.logger.WarnContext(ctx, "hyperv: unreadable instance record; listing the instance by name", "instance", name, "err", err)
		}
		seen[e.Name()] = true
		out = append(out, inst)
	}
	for _, info := range infos {
		name, ok := nameFromID(p.cfg.controller, info.ID)
		if seen[info.ID] || !ok {
			continue
		}
		out = append(out, p.bareInstance(name, info.Running))
	}
	slices.SortFunc(out, func(a, b vm.Instance) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// bareInstance is what List knows of an instance without its record.
func (p *Provider) bareInstance(name string, running bool) vm.Instance {
	return vm.Instance{
		Name:    name,
		Labels:  map[string]string{vm.LabelController: p.cfg.controller, vm.LabelInstance: name},
		Running: running,
	}
}
