package hyperv

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/vermont-ci/vermont/vm"
)

// Provider runs each instance as a Hyper-V-isolated Windows container. Build
// one with New; the zero value is not usable.
type Provider struct {
	cfg     config
	storage string
	host    host

	mu   sync.Mutex
	live map[string]*handles // by instance name
}

// handles are the open HCS handles of an instance this process created or
// reopened.
type handles struct {
	sys  system
	proc process
}

var _ vm.VMProvider = (*Provider)(nil)

// newProvider builds a Provider over the given host calls. storageDir holds
// one folder per instance (scratch layer, runner config, record).
func newProvider(storageDir string, h host, opts []Option) (*Provider, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if storageDir == "" || !filepath.IsAbs(storageDir) {
		return nil, fmt.Errorf("hyperv: storage directory %q must be an absolute path", storageDir)
	}
	return &Provider{cfg: cfg, storage: filepath.Clean(storageDir), host: h, live: map[string]*handles{}}, nil
}

// instanceDir is where everything an instance owns on disk lives.
func (p *Provider) instanceDir(id string) string { return filepath.Join(p.storage, id) }

// Create creates the instance's scratch layer, network endpoint and compute
// system, boots it and starts the runner; see the package doc for the exact
// sequence. On error everything it made is removed again.
func (p *Provider) Create(ctx context.Context, spec vm.Spec) (vm.Instance, error) {
	plan, rec, err := p.plan(ctx, spec)
	if err != nil {
		return vm.Instance{}, fmt.Errorf("hyperv: create %s: %w", spec.Name, err)
	}
	dir := p.instanceDir(plan.ID)
	if err := os.MkdirAll(p.storage, 0o700); err != nil {
		return vm.Instance{}, fmt.Errorf("hyperv: create %s: %w", spec.Name, err)
	}
	// Mkdir, not MkdirAll: an existing folder is another instance's, and
	// must neither be reused nor removed by the undo below.
	if err := os.Mkdir(dir, 0o700); err != nil {
		return vm.Instance{}, fmt.Errorf("hyperv: create %s: instance folder: %w", spec.Name, err)
	}
	t := &teardown{id: plan.ID, dir: dir}
	h, err := p.create(ctx, spec.RunnerConfig, plan, rec, t)
	if err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.cfg.cleanupTimeout)
		defer cancel()
		if uerr := p.teardown(cctx, t); uerr != nil {
			err = errors.Join(err, fmt.Errorf("undo: %w", uerr))
		}
		return vm.Instance{}, fmt.Errorf("hyperv: create %s: %w", spec.Name, err)
	}
	p.mu.Lock()
	p.live[spec.Name] = h
	p.mu.Unlock()
	p.cfg.logger.InfoContext(ctx, "hyperv instance started", "instance", spec.Name, "system", plan.ID, "pid", rec.PID)
	return vm.Instance{Name: rec.Name, Pool: rec.Pool, Labels: maps.Clone(rec.Labels), Running: true, CreatedAt: rec.CreatedAt}, nil
}

// plan validates spec and works out everything Create needs before it
// touches the host's state.
func (p *Provider) plan(ctx context.Context, spec vm.Spec) (*instancePlan, *record, error) {
	if err := validName(spec.Name); err != nil {
		return nil, nil, err
	}
	if spec.CPUs < 0 || spec.MemoryMB < 0 {
		return nil, nil, fmt.Errorf("%w: CPUs (%d) and MemoryMB (%d) must not be negative", ErrInvalidSpec, spec.CPUs, spec.MemoryMB)
	}
	paths, uvm, err := imageLayers(spec.Image)
	if err != nil {
		return nil, nil, err
	}
	layers := make([]layerRef, len(paths))
	for i, path := range paths {
		id, err := p.host.layers.LayerID(ctx, path)
		if err != nil {
			return nil, nil, fmt.Errorf("layer ID of %s: %w", path, err)
		}
		layers[i] = layerRef{ID: id, Path: path}
	}
	id := systemID(p.cfg.controller, spec.Name)
	dir := p.instanceDir(id)
	plan := &instancePlan{
		ID: id, Owner: ownerOf(p.cfg.controller), Name: spec.Name, Pool: spec.Pool,
		ScratchDir: filepath.Join(dir, "scratch"), ConfigDir: filepath.Join(dir, "config"),
		Layers: layers, UtilityVM: uvm,
		CPUs: orDefault(spec.CPUs, p.cfg.cpus), MemoryMB: orDefault(spec.MemoryMB, p.cfg.memoryMB),
		Env: spec.Env, Command: p.cfg.command, WorkingDir: p.cfg.workingDir,
	}
	labels := maps.Clone(spec.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[vm.LabelController] = p.cfg.controller
	labels[vm.LabelPool] = spec.Pool
	labels[vm.LabelInstance] = spec.Name
	rec := &record{Version: recordVersion, ID: id, Name: spec.Name, Pool: spec.Pool, Labels: labels, CreatedAt: time.Now().UTC()}
	return plan, rec, nil
}

// create runs Create's steps, noting in t what exists so far.
func (p *Provider) create(ctx context.Context, config string, plan *instancePlan, rec *record, t *teardown) (*handles, error) {
	// The record goes first so that a crash at any later step leaves
	// something List reports and the pool destroys.
	if err := writeRecord(t.dir, rec); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(plan.ConfigDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating config folder: %w", err)
	}
	if config != "" {
		if err := writeConfig(plan.ConfigDir, config); err != nil {
			return nil, err
		}
	}
	parents := make([]string, len(plan.Layers))
	for i, l := range plan.Layers {
		parents[i] = l.Path
	}
	if err := p.host.layers.CreateScratch(ctx, plan.ScratchDir, parents); err != nil {
		return nil, fmt.Errorf("creating scratch layer: %w", err)
	}
	if p.cfg.network != "" {
		t.endpoint = true
		epID, err := p.host.networks.CreateEndpoint(ctx, p.cfg.network, plan.ID)
		if err != nil {
			return nil, fmt.Errorf("creating endpoint on network %q: %w", p.cfg.network, err)
		}
		plan.EndpointID = epID
	}
	sys, err := p.host.systems.Create(ctx, plan.ID, buildSystemDocument(plan))
	if err != nil {
		return nil, fmt.Errorf("creating compute system: %w", err)
	}
	t.sys = sys
	if err := sys.Start(ctx); err != nil {
		return nil, fmt.Errorf("starting compute system: %w", err)
	}
	proc, err := sys.Exec(ctx, buildProcessDocument(plan))
	if err != nil {
		return nil, fmt.Errorf("starting runner process: %w", err)
	}
	t.proc = proc
	rec.PID = proc.PID()
	if err := writeRecord(t.dir, rec); err != nil {
		return nil, err
	}
	return &handles{sys: sys, proc: proc}, nil
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
