package hyperv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/vermont-ci/vermont/vm"
)

// errInjected is what the fake returns for a step told to fail.
var errInjected = errors.New("injected host failure")

// fakeHost is a recording, in-memory stand-in for HCS, the layer API and
// HNS. Every call is recorded as "op arg"; paths are shown relative to root.
// Calls made on a cancelled context fail, as the real ones would, so tests
// see whether cleanup ran on a live context.
type fakeHost struct {
	root string

	mu        sync.Mutex
	calls     []string
	failOn    map[string]error // op → error
	systems   map[string]*fakeSystem
	endpoints map[string]string // name → id
	docs      map[string]*systemDocument
	procDocs  map[string]*processDocument
	nextPID   int
}

func newFakeHost(root string) *fakeHost {
	return &fakeHost{
		root: root, failOn: map[string]error{}, systems: map[string]*fakeSystem{},
		endpoints: map[string]string{}, docs: map[string]*systemDocument{},
		procDocs: map[string]*processDocument{}, nextPID: 100,
	}
}

func (f *fakeHost) host() host { return host{systems: f, layers: f, networks: f} }

// step records a call and returns the error injected for op, if any.
func (f *fakeHost) step(ctx context.Context, op, arg string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stepLocked(ctx, op, arg)
}

func (f *fakeHost) stepLocked(ctx context.Context, op, arg string) error {
	if rel, err := filepath.Rel(f.root, arg); err == nil && !strings.HasPrefix(rel, "..") && filepath.IsAbs(arg) {
		arg = filepath.ToSlash(rel)
	}
	f.calls = append(f.calls, op+" "+arg)
	if ctx.Err() != nil {
		return fmt.Errorf("%s on a cancelled context: %w", op, ctx.Err())
	}
	if err := f.failOn[op]; err != nil {
		return fmt.Errorf("%s %s: %w", op, arg, err)
	}
	return nil
}

func (f *fakeHost) fail(op string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		delete(f.failOn, op)
		return
	}
	f.failOn[op] = err
}

// takeCalls returns and clears the recorded calls.
func (f *fakeHost) takeCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

// exit makes the runner process of system id exit with code.
func (f *fakeHost) exit(id string, code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.systems[id]
	s.proc.code = code
	close(s.proc.exited)
}

// --- computeSystems

type fakeSystem struct {
	f       *fakeHost
	id      string
	owner   string
	started bool
	stopped bool
	handles int
	proc    *fakeProcess
}

func (f *fakeHost) Create(ctx context.Context, id string, doc *systemDocument) (system, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.stepLocked(ctx, "create-system", id); err != nil {
		return nil, err
	}
	if _, ok := f.systems[id]; ok {
		return nil, fmt.Errorf("compute system %s already exists", id)
	}
	s := &fakeSystem{f: f, id: id, owner: doc.Owner, handles: 1}
	f.systems[id] = s
	f.docs[id] = doc
	return &fakeHandle{s: s}, nil
}

func (f *fakeHost) Open(ctx context.Context, id string) (system, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.stepLocked(ctx, "open-system", id); err != nil {
		return nil, err
	}
	s, ok := f.systems[id]
	if !ok {
		return nil, fmt.Errorf("compute system %s: %w", id, vm.ErrNotFound)
	}
	s.handles++
	return &fakeHandle{s: s}, nil
}

func (f *fakeHost) List(ctx context.Context, owner string) ([]systemInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.stepLocked(ctx, "list-systems", owner); err != nil {
		return nil, err
	}
	var out []systemInfo
	for _, s := range f.systems {
		if s.owner == owner {
			out = append(out, systemInfo{ID: s.id, Owner: s.owner, Running: s.started && !s.stopped})
		}
	}
	return out, nil
}

// fakeHandle is one open handle on a fakeSystem.
type fakeHandle struct {
	s      *fakeSystem
	closed bool
}

func (h *fakeHandle) Start(ctx context.Context) error {
	f := h.s.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.stepLocked(ctx, "start", h.s.id); err != nil {
		return err
	}
	h.s.started = true
	return nil
}

func (h *fakeHandle) Exec(ctx context.Context, doc *processDocument) (process, error) {
	f := h.s.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.stepLocked(ctx, "exec", h.s.id); err != nil {
		return nil, err
	}
	if !h.s.started || h.s.stopped {
		return nil, fmt.Errorf("exec in system %s that is not running", h.s.id)
	}
	f.nextPID++
	h.s.proc = &fakeProcess{f: f, sysID: h.s.id, pid: f.nextPID, exited: make(chan struct{})}
	f.procDocs[h.s.id] = doc
	return &fakeProcHandle{p: h.s.proc}, nil
}

func (h *fakeHandle) OpenProcess(ctx context.Context, pid int) (process, error) {
	f := h.s.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.stepLocked(ctx, "open-process", fmt.Sprintf("%s %d", h.s.id, pid)); err != nil {
		return nil, err
	}
	if h.s.proc == nil || h.s.proc.pid != pid {
		return nil, fmt.Errorf("process %d: %w", pid, vm.ErrNotFound)
	}
	return &fakeProcHandle{p: h.s.proc}, nil
}

func (h *fakeHandle) Terminate(ctx context.Context) error {
	f := h.s.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.stepLocked(ctx, "terminate", h.s.id); err != nil {
		return err
	}
	h.s.stopped = true
	if p := h.s.proc; p != nil {
		select {
		case <-p.exited:
		default:
			p.code = -1
			close(p.exited)
		}
	}
	return nil
}

func (h *fakeHandle) Wait(ctx context.Context) error {
	f := h.s.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.stepLocked(ctx, "wait-system", h.s.id); err != nil {
		return err
	}
	if !h.s.stopped {
		// The provider only waits after Terminate; a wait that would
		// block forever is a bug in the call sequence.
		return fmt.Errorf("wait on running system %s would block", h.s.id)
	}
	return nil
}

func (h *fakeHandle) Close() error {
	f := h.s.f
	f.mu.Lock()
	defer f.mu.Unlock()
	// Close takes no context: it cannot be cancelled.
	if err := f.stepLocked(context.Background(), "close-system", h.s.id); err != nil {
		return err
	}
	if h.closed {
		return fmt.Errorf("system handle %s closed twice", h.s.id)
	}
	h.closed = true
	h.s.handles--
	// HCS drops a stopped system once its last handle closes.
	if h.s.handles == 0 && h.s.stopped {
		delete(f.systems, h.s.id)
	}
	return nil
}

type fakeProcess struct {
	f      *fakeHost
	sysID  string
	pid    int
	code   int
	exited chan struct{}
}

type fakeProcHandle struct {
	p      *fakeProcess
	closed chan struct{}
	once   sync.Once
}

func (h *fakeProcHandle) PID() int { return h.p.pid }

func (h *fakeProcHandle) Wait(ctx context.Context) (int, error) {
	if err := h.p.f.step(ctx, "wait-process", h.p.sysID); err != nil {
		return -1, err
	}
	h.once.Do(func() { h.closed = make(chan struct{}) })
	select {
	case <-h.p.exited:
		h.p.f.mu.Lock()
		defer h.p.f.mu.Unlock()
		return h.p.code, nil
	case <-h.closed:
		return -1, errors.New("process handle closed")
	case <-ctx.Done():
		return -1, ctx.Err()
	}
}

func (h *fakeProcHandle) Close() error {
	h.once.Do(func() { h.closed = make(chan struct{}) })
	select {
	case <-h.closed:
		return errors.New("process handle closed twice")
	default:
		close(h.closed)
	}
	return h.p.f.step(context.Background(), "close-process", h.p.sysID) // no context to cancel
}

// --- layerStore

func (f *fakeHost) CreateScratch(ctx context.Context, path string, parents []string) error {
	if err := f.step(ctx, "create-scratch", path); err != nil {
		return err
	}
	if len(parents) == 0 {
		return errors.New("scratch layer without parents")
	}
	// The real call creates the folder (sandbox.vhdx and friends).
	return os.Mkdir(path, 0o700)
}

func (f *fakeHost) Destroy(ctx context.Context, path string) error {
	if err := f.step(ctx, "destroy-layer", path); err != nil {
		return err
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("layer %s: %w", path, vm.ErrNotFound)
	}
	return os.RemoveAll(path)
}

func (f *fakeHost) LayerID(ctx context.Context, path string) (string, error) {
	if err := f.step(ctx, "layer-id", path); err != nil {
		return "", err
	}
	// Deterministic, GUID-shaped, derived from the folder name as HCS does.
	sum := hostName(filepath.Base(path))[3:] // 12 hex digits
	return "00000000-0000-0000-0000-" + sum, nil
}

// --- networks

func (f *fakeHost) CreateEndpoint(ctx context.Context, network, name string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.stepLocked(ctx, "create-endpoint", network+" "+name); err != nil {
		return "", err
	}
	if _, ok := f.endpoints[name]; ok {
		return "", fmt.Errorf("endpoint %s exists", name)
	}
	id := "ep-" + name
	f.endpoints[name] = id
	return id, nil
}

func (f *fakeHost) DeleteEndpoint(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.stepLocked(ctx, "delete-endpoint", name); err != nil {
		return err
	}
	if _, ok := f.endpoints[name]; !ok {
		return fmt.Errorf("endpoint %s: %w", name, vm.ErrNotFound)
	}
	delete(f.endpoints, name)
	return nil
}
