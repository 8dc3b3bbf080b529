package vm

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ByPool returns a VMProvider that sends each pool's instances to its own
// provider, for pools on different backends in one process. Create routes by
// Spec.Pool; List merges the distinct providers' lists; Wait and Destroy go
// to the provider that created or listed the instance (Destroy tries every
// provider for a name it has not seen: Destroy is idempotent).
func ByPool(byPool map[string]VMProvider) (VMProvider, error) {
	m := &multi{byPool: map[string]VMProvider{}, owner: map[string]VMProvider{}}
	for pool, p := range byPool {
		if p == nil {
			return nil, fmt.Errorf("vm: ByPool: pool %q has no provider", pool)
		}
		m.byPool[pool] = p
		if !containsProvider(m.distinct, p) {
			m.distinct = append(m.distinct, p)
		}
	}
	if len(m.distinct) == 0 {
		return nil, errors.New("vm: ByPool: no providers")
	}
	return m, nil
}

type multi struct {
	byPool   map[string]VMProvider
	distinct []VMProvider

	mu    sync.Mutex
	owner map[string]VMProvider // instance name → provider
}

func containsProvider(ps []VMProvider, p VMProvider) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

func (m *multi) Create(ctx context.Context, spec Spec) (Instance, error) {
	p := m.byPool[spec.Pool]
	if p == nil {
		return Instance{}, fmt.Errorf("vm: no provider for pool %q", spec.Pool)
	}
	m.mu.Lock()
	m.owner[spec.Name] = p
	m.mu.Unlock()
	return p.Create(ctx, spec)
}

func (m *multi) lookup(name string) VMProvider {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.owner[name]
}

func (m *multi) Wait(ctx context.Context, name string) (int, error) {
	p := m.lookup(name)
	if p == nil {
		return 0, fmt.Errorf("vm: wait %s: %w", name, ErrNotFound)
	}
	return p.Wait(ctx, name)
}

func (m *multi) Destroy(ctx context.Context, name string) error {
	if p := m.lookup(name); p != nil {
		err := p.Destroy(ctx, name)
		if err == nil {
			m.mu.Lock()
			delete(m.owner, name)
			m.mu.Unlock()
		}
		return err
	}
	var errs []error
	for _, p := range m.distinct {
		errs = append(errs, p.Destroy(ctx, name))
	}
	return errors.Join(errs...)
}

func (m *multi) List(ctx context.Context) ([]Instance, error) {
	var out []Instance
	for _, p := range m.distinct {
		insts, err := p.List(ctx)
		if err != nil {
			return nil, err
		}
		m.mu.Lock()
		for _, in := range insts {
			m.owner[in.Name] = p
		}
		m.mu.Unlock()
		out = append(out, insts...)
	}
	return out, nil
}
