package vmtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vermont-ci/vermont/vm"
)

func TestProviderSemantics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := New(WithController("c1"))
	if _, err := p.Create(ctx, vm.Spec{Name: "a", Pool: "p"}); err != nil {
		t.Fatal(err)
	}
	p.Add(vm.Instance{Name: "foreign", Labels: map[string]string{vm.LabelController: "c2"}})
	list, _ := p.List(ctx)
	if len(list) != 1 || list[0].Name != "a" || list[0].Labels[vm.LabelPool] != "p" || !list[0].Running {
		t.Fatalf("List = %+v, want only a", list)
	}
	// Wait blocks until ctx ends...
	wctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, err := p.Wait(wctx, "a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait before exit = %v", err)
	}
	// ...or the instance exits, and the status is kept until Destroy.
	if err := p.Exit("a", 3); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if code, err := p.Wait(ctx, "a"); code != 3 || err != nil {
			t.Fatalf("Wait = %d, %v", code, err)
		}
	}
	for range 2 { // idempotent
		if err := p.Destroy(ctx, "a"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Wait(ctx, "a"); !errors.Is(err, vm.ErrNotFound) {
		t.Fatalf("Wait after Destroy = %v", err)
	}
	p.FailCreates(1, errors.New("boom"))
	if _, err := p.Create(ctx, vm.Spec{Name: "b"}); !errors.Is(err, ErrInjected) {
		t.Fatalf("injected failure = %v", err)
	}
	if _, err := p.Create(ctx, vm.Spec{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	if p.MaxLive() != 2 || p.Count("create", true) != 1 || p.Count("destroy", false) != 2 {
		t.Fatalf("MaxLive %d, failed creates %d, destroys %d", p.MaxLive(), p.Count("create", true), p.Count("destroy", false))
	}
}

func TestExitAfter(t *testing.T) {
	t.Parallel()
	p := New(WithExitAfter(time.Millisecond))
	ctx := context.Background()
	if _, err := p.Create(ctx, vm.Spec{Name: "a"}); err != nil {
		t.Fatal(err)
	}
	if code, err := p.Wait(ctx, "a"); code != 0 || err != nil {
		t.Fatalf("Wait = %d, %v", code, err)
	}
}
