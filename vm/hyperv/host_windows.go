//go:build windows

package hyperv

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/Microsoft/hcsshim"
	"github.com/Microsoft/hcsshim/hcn"

	"github.com/vermont-ci/vermont/vm"
)

// New returns a Provider that runs Hyper-V-isolated containers through
// hcsshim. storageDir (VM_STORAGE_PATH) holds one folder per instance.
func New(storageDir string, opts ...Option) (*Provider, error) {
	return newProvider(storageDir, host{systems: hcsSystems{}, layers: wcLayers{}, networks: hnsNetworks{}}, opts)
}

// notFound wraps err with vm.ErrNotFound when hcsshim says the object is
// missing, so the portable code needs no hcsshim type.
func notFound(err error) error {
	if err != nil && hcsshim.IsNotExist(err) {
		return fmt.Errorf("%w: %w", vm.ErrNotFound, err)
	}
	return err
}

// hcsSystems implements computeSystems with hcsshim's public API.
type hcsSystems struct{}

func (hcsSystems) Create(_ context.Context, id string, doc *systemDocument) (system, error) {
	c, err := hcsshim.CreateContainer(id, containerConfig(doc))
	if err != nil {
		return nil, err
	}
	return &hcsSystem{c: c}, nil
}

func (hcsSystems) Open(_ context.Context, id string) (system, error) {
	c, err := hcsshim.OpenContainer(id)
	if err != nil {
		return nil, notFound(err)
	}
	return &hcsSystem{c: c}, nil
}

func (hcsSystems) List(_ context.Context, owner string) ([]systemInfo, error) {
	props, err := hcsshim.GetContainers(hcsshim.ComputeSystemQuery{Owners: []string{owner}})
	if err != nil {
		return nil, err
	}
	out := make([]systemInfo, 0, len(props))
	for _, p := range props {
		out = append(out, systemInfo{ID: p.ID, Owner: p.Owner, Running: !p.Stopped && p.State == "Running"})
	}
	return out, nil
}

// containerConfig copies the mirrored document into hcsshim's type; the
// compiler checks every field name against hcsshim.
func containerConfig(d *systemDocument) *hcsshim.ContainerConfig {
	c := &hcsshim.ContainerConfig{
		SystemType:                  d.SystemType,
		Name:                        d.Name,
		Owner:                       d.Owner,
		LayerFolderPath:             d.LayerFolderPath,
		ProcessorCount:              d.ProcessorCount,
		MemoryMaximumInMB:           d.MemoryMaximumInMB,
		HostName:                    d.HostName,
		HvPartition:                 d.HvPartition,
		EndpointList:                d.EndpointList,
		TerminateOnLastHandleClosed: d.TerminateOnLastHandleClosed,
	}
	for _, l := range d.Layers {
		c.Layers = append(c.Layers, hcsshim.Layer{ID: l.ID, Path: l.Path})
	}
	for _, m := range d.MappedDirectories {
		c.MappedDirectories = append(c.MappedDirectories, hcsshim.MappedDir{
			HostPath: m.HostPath, ContainerPath: m.ContainerPath, ReadOnly: m.ReadOnly,
			BandwidthMaximum: m.BandwidthMaximum, IOPSMaximum: m.IOPSMaximum, CreateInUtilityVM: m.CreateInUtilityVM,
		})
	}
	if d.HvRuntime != nil {
		c.HvRuntime = &hcsshim.HvRuntime{ImagePath: d.HvRuntime.ImagePath}
	}
	return c
}

// processConfig copies the mirrored process document into hcsshim's type.
func processConfig(d *processDocument) *hcsshim.ProcessConfig {
	return &hcsshim.ProcessConfig{
		CommandLine:      d.CommandLine,
		WorkingDirectory: d.WorkingDirectory,
		Environment:      d.Environment,
	}
}

// hcsSystem implements system over an hcsshim.Container.
type hcsSystem struct{ c hcsshim.Container }

func (s *hcsSystem) Start(context.Context) error { return notFound(s.c.Start()) }

func (s *hcsSystem) Exec(_ context.Context, doc *processDocument) (process, error) {
	p, err := s.c.CreateProcess(processConfig(doc))
	if err != nil {
		return nil, notFound(err)
	}
	return &hcsProcess{p: p}, nil
}

func (s *hcsSystem) OpenProcess(_ context.Context, pid int) (process, error) {
	p, err := s.c.OpenProcess(pid)
	if err != nil {
		return nil, notFound(err)
	}
	return &hcsProcess{p: p}, nil
}

// Terminate asks HCS to stop the system. hcsshim reports a request that
// completes in the background as a "pending" error; Wait then observes it.
func (s *hcsSystem) Terminate(context.Context) error {
	err := s.c.Terminate()
	if err == nil || hcsshim.IsPending(err) || hcsshim.IsAlreadyStopped(err) {
		return nil
	}
	return notFound(err)
}

func (s *hcsSystem) Wait(ctx context.Context) error {
	return waitCtx(ctx, func() error {
		err := s.c.Wait()
		if err != nil && hcsshim.IsAlreadyStopped(err) {
			return nil
		}
		return notFound(err)
	})
}

func (s *hcsSystem) Close() error { return s.c.Close() }

// hcsProcess implements process over an hcsshim.Process.
type hcsProcess struct{ p hcsshim.Process }

func (p *hcsProcess) PID() int { return p.p.Pid() }

func (p *hcsProcess) Wait(ctx context.Context) (int, error) {
	if err := waitCtx(ctx, p.p.Wait); err != nil {
		return -1, notFound(err)
	}
	code, err := p.p.ExitCode()
	return code, notFound(err)
}

func (p *hcsProcess) Close() error { return p.p.Close() }

// waitCtx runs a blocking hcsshim wait and returns early when ctx ends. The
// goroutine ends when the object stops or its handle is closed (hcsshim's
// Close releases waiters).
func waitCtx(ctx context.Context, wait func() error) error {
	done := make(chan error, 1)
	go func() { done <- wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wcLayers implements layerStore with hcsshim's layer API.
type wcLayers struct{}

func driverInfo(path string) (hcsshim.DriverInfo, string) {
	return hcsshim.DriverInfo{HomeDir: filepath.Dir(path)}, filepath.Base(path)
}

func (wcLayers) CreateScratch(_ context.Context, path string, parents []string) error {
	info, id := driverInfo(path)
	return hcsshim.CreateScratchLayer(info, id, "", parents)
}

func (wcLayers) Destroy(_ context.Context, path string) error {
	info, id := driverInfo(path)
	return notFound(hcsshim.DestroyLayer(info, id))
}

func (wcLayers) LayerID(_ context.Context, path string) (string, error) {
	g, err := hcsshim.NameToGuid(filepath.Base(path))
	if err != nil {
		return "", err
	}
	return g.ToString(), nil
}

// hnsNetworks implements networks with the HCN API.
type hnsNetworks struct{}

func (hnsNetworks) CreateEndpoint(_ context.Context, network, name string) (string, error) {
	n, err := hcn.GetNetworkByName(network)
	if err != nil {
		return "", fmt.Errorf("HNS network %q (create it, or choose another with WithNetwork): %w", network, err)
	}
	ep, err := n.CreateEndpoint(&hcn.HostComputeEndpoint{Name: name, SchemaVersion: hcn.V2SchemaVersion()})
	if err != nil {
		return "", err
	}
	return ep.Id, nil
}

func (hnsNetworks) DeleteEndpoint(_ context.Context, name string) error {
	ep, err := hcn.GetEndpointByName(name)
	if err != nil {
		if hcn.IsNotFoundError(err) {
			return fmt.Errorf("%w: %w", vm.ErrNotFound, err)
		}
		return err
	}
	return ep.Delete()
}
