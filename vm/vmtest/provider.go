// Package vmtest provides an in-memory vm.VMProvider for tests and for
// `vermont pool` with USE_MOCK=true. Its semantics are honest: List returns
// only instances carrying this provider's controller label, Destroy is
// idempotent, and Wait blocks until the instance exits or ctx ends. Failures
// can be injected, every call is recorded, and instances exit when told to
// (Exit) or after a configurable delay.
package vmtest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vermont-ci/vermont/vm"
)

// ErrInjected is the error injected failures wrap.
var ErrInjected = errors.New("vmtest: injected failure")

// Call records one provider call.
type Call struct {
	Op   string // "create", "wait", "destroy" or "list"
	Name string // instance name; empty for list
	Err  error
}

// Option configures a Provider.
type Option func(*Provider)

// WithController sets the controller ID the provider stamps as
// vm.LabelController and filters List by. The default is "vmtest".
func WithController(id string) Option { return func(p *Provider) { p.controller = id } }

// WithExitAfter makes every instance's runner exit with code 0 this long
// after it was created, as a runner that finished its job would.
func WithExitAfter(d time.Duration) Option { return func(p *Provider) { p.exitAfter = d } }

// WithCreateDelay makes Create take d (or until ctx ends, whichever is first).
func WithCreateDelay(d time.Duration) Option { return func(p *Provider) { p.createDelay = d } }

// WithCreateHook calls hook at the start of every Create; a non-nil error
// fails the create (nothing is left behind). A hook may block on ctx to
// simulate an instance that never comes up.
func WithCreateHook(hook func(ctx context.Context, spec vm.Spec) error) Option {
	return func(p *Provider) { p.createHook = hook }
}

// Provider is an in-memory vm.VMProvider. The zero value is not usable; call
// New.
type Provider struct {
	controller  string
	exitAfter   time.Duration
	createDelay time.Duration
	createHook  func(ctx context.Context, spec vm.Spec) error

	mu        sync.Mutex
	instances map[string]*instance
	calls     []Call
	failNext  int
	failErr   error
	maxLive   int
	specs     map[string]vm.Spec
}

type instance struct {
	info   vm.Instance
	exited chan struct{}
	code   int
	timer  *time.Timer
}

var _ vm.VMProvider = (*Provider)(nil)

// New returns an empty provider.
func New(opts ...Option) *Provider {
	p := &Provider{instances: map[string]*instance{}, specs: map[string]vm.Spec{}}
	for _, o := range opts {
		o(p)
	}
	if p.controller == "" {
		p.controller = "vmtest"
	}
	return p
}

// Controller returns the controller ID this provider stamps and lists.
func (p *Provider) Controller() string { return p.controller }

// FailCreates makes the next n calls to Create fail with err (wrapped with
// ErrInjected); n < 0 fails every create until FailCreates(0, nil).
func (p *Provider) FailCreates(n int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failNext, p.failErr = n, err
}

// Create implements vm.VMProvider.
func (p *Provider) Create(ctx context.Context, spec vm.Spec) (vm.Instance, error) {
	inst, err := p.create(ctx, spec)
	p.record(Call{Op: "create", Name: spec.Name, Err: err})
	return inst, err
}

func (p *Provider) create(ctx context.Context, spec vm.Spec) (vm.Instance, error) {
	if spec.Name == "" {
		return vm.Instance{}, errors.New("vmtest: create: empty instance name")
	}
	if p.createHook != nil {
		if err := p.createHook(ctx, spec); err != nil {
			return vm.Instance{}, fmt.Errorf("vmtest: create %s: %w", spec.Name, err)
		}
	}
	if p.createDelay > 0 {
		t := time.NewTimer(p.createDelay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return vm.Instance{}, fmt.Errorf("vmtest: create %s: %w", spec.Name, ctx.Err())
		}
	}
	if err := ctx.Err(); err != nil {
		return vm.Instance{}, fmt.Errorf("vmtest: create %s: %w", spec.Name, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failNext != 0 {
		if p.failNext > 0 {
			p.failNext--
		}
		return vm.Instance{}, fmt.Errorf("vmtest: create %s: %w: %w", spec.Name, ErrInjected, p.failErr)
	}
	if _, ok := p.instances[spec.Name]; ok {
		return vm.Instance{}, fmt.Errorf("vmtest: create %s: already exists", spec.Name)
	}
	labels := maps.Clone(spec.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[vm.LabelController] = p.controller
	labels[vm.LabelPool] = spec.Pool
	labels[vm.LabelInstance] = spec.Name
	in := &instance{
		info:   vm.Instance{Name: spec.Name, Pool: spec.Pool, Labels: labels, Running: true, CreatedAt: time.Now()},
		exited: make(chan struct{}),
	}
	p.instances[spec.Name] = in
	p.specs[spec.Name] = spec
	p.maxLive = max(p.maxLive, len(p.instances))
	if p.exitAfter > 0 {
		name := spec.Name
		in.timer = time.AfterFunc(p.exitAfter, func() { _ = p.Exit(name, 0) })
	}
	return cloneInstance(in.info), nil
}

// Wait implements vm.VMProvider.
func (p *Provider) Wait(ctx context.Context, name string) (int, error) {
	p.mu.Lock()
	in, ok := p.instances[name]
	p.mu.Unlock()
	if !ok {
		err := fmt.Errorf("vmtest: wait %s: %w", name, vm.ErrNotFound)
		p.record(Call{Op: "wait", Name: name, Err: err})
		return 0, err
	}
	p.record(Call{Op: "wait", Name: name})
	select {
	case <-in.exited:
		p.mu.Lock()
		defer p.mu.Unlock()
		return in.code, nil
	case <-ctx.Done():
		return 0, fmt.Errorf("vmtest: wait %s: %w", name, ctx.Err())
	}
}

// Destroy implements vm.VMProvider; an unknown name is not an error.
func (p *Provider) Destroy(ctx context.Context, name string) error {
	err := ctx.Err()
	if err == nil {
		p.mu.Lock()
		if in, ok := p.instances[name]; ok {
			if in.timer != nil {
				in.timer.Stop()
			}
			p.exitLocked(in, -1)
			delete(p.instances, name)
		}
		p.mu.Unlock()
	} else {
		err = fmt.Errorf("vmtest: destroy %s: %w", name, err)
	}
	p.record(Call{Op: "destroy", Name: name, Err: err})
	return err
}

// List implements vm.VMProvider: only instances carrying this provider's
// controller label, sorted by name.
func (p *Provider) List(ctx context.Context) ([]vm.Instance, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("vmtest: list: %w", err)
	}
	p.mu.Lock()
	var out []vm.Instance
	for _, in := range p.instances {
		if in.info.Labels[vm.LabelController] == p.controller {
			out = append(out, cloneInstance(in.info))
		}
	}
	p.mu.Unlock()
	slices.SortFunc(out, func(a, b vm.Instance) int { return strings.Compare(a.Name, b.Name) })
	p.record(Call{Op: "list"})
	return out, nil
}

// Exit makes the named instance's runner exit with code, waking Wait. The
// instance keeps existing until Destroy, as a stopped container does.
func (p *Provider) Exit(name string, code int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	in, ok := p.instances[name]
	if !ok {
		return fmt.Errorf("vmtest: exit %s: %w", name, vm.ErrNotFound)
	}
	p.exitLocked(in, code)
	return nil
}

func (p *Provider) exitLocked(in *instance, code int) {
	select {
	case <-in.exited:
	default:
		in.code = code
		in.info.Running = false
		close(in.exited)
	}
}

// Add puts an instance into the provider as if something else had created
// it: labels decide whether List reports it (a foreign controller's
// instance) and whether the pool knows it (an orphan left by a crash).
func (p *Provider) Add(inst vm.Instance) {
	p.mu.Lock()
	defer p.mu.Unlock()
	in := &instance{info: cloneInstance(inst), exited: make(chan struct{})}
	in.info.Running = true
	p.instances[inst.Name] = in
	p.maxLive = max(p.maxLive, len(p.instances))
}

// Instances returns every instance the provider holds, whatever its labels,
// sorted by name.
func (p *Provider) Instances() []vm.Instance {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]vm.Instance, 0, len(p.instances))
	for _, in := range p.instances {
		out = append(out, cloneInstance(in.info))
	}
	slices.SortFunc(out, func(a, b vm.Instance) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Spec returns the Spec the named instance was created with.
func (p *Provider) Spec(name string) (vm.Spec, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.specs[name]
	return s, ok
}

// MaxLive returns the largest number of instances that existed at once.
func (p *Provider) MaxLive() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.maxLive
}

// Calls returns a copy of every call recorded so far.
func (p *Provider) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.calls)
}

// Count returns how many recorded calls have op (and failed, if failed).
func (p *Provider) Count(op string, failed bool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.calls {
		if c.Op == op && (c.Err != nil) == failed {
			n++
		}
	}
	return n
}

func (p *Provider) record(c Call) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, c)
}

func cloneInstance(in vm.Instance) vm.Instance {
	in.Labels = maps.Clone(in.Labels)
	return in
}
