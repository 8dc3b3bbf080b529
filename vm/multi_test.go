package vm_test

import (
	"context"
	"errors"
	"testing"

	"github.com/vermont-ci/vermont/vm"
	"github.com/vermont-ci/vermont/vm/vmtest"
)

func TestByPoolRoutes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := vmtest.New(), vmtest.New()
	m, err := vm.ByPool(map[string]vm.VMProvider{"a": a, "b": b, "a2": a})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []vm.Spec{{Name: "x", Pool: "a"}, {Name: "y", Pool: "b"}, {Name: "z", Pool: "a2"}} {
		if _, err := m.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.Create(ctx, vm.Spec{Name: "w", Pool: "nope"}); err == nil {
		t.Fatal("Create for an unknown pool succeeded")
	}
	if len(a.Instances()) != 2 || len(b.Instances()) != 1 {
		t.Fatalf("a has %d, b has %d", len(a.Instances()), len(b.Instances()))
	}
	list, err := m.List(ctx)
	if err != nil || len(list) != 3 {
		t.Fatalf("List = %v, %v", list, err)
	}
	_ = b.Exit("y", 3)
	if code, err := m.Wait(ctx, "y"); err != nil || code != 3 {
		t.Fatalf("Wait = %d, %v", code, err)
	}
	if _, err := m.Wait(ctx, "unknown"); !errors.Is(err, vm.ErrNotFound) {
		t.Fatalf("Wait(unknown) = %v", err)
	}
	for _, n := range []string{"x", "y", "z", "unknown"} {
		if err := m.Destroy(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if len(a.Instances())+len(b.Instances()) != 0 {
		t.Fatal("instances left after Destroy")
	}
}
