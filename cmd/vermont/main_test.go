package main

import (
	"bytes"
	"context"
	"os"
	"testing"
)

func TestInterrupts(t *testing.T) {
	sigs := make(chan os.Signal)
	ctx, cancel := context.WithCancel(context.Background())
	force := make(chan struct{})
	var out bytes.Buffer
	done := make(chan struct{})
	go func() { interrupts(sigs, cancel, force, &out); close(done) }()

	sigs <- os.Interrupt // the first: cancel, keep always() work
	<-ctx.Done()
	select {
	case <-force:
		t.Fatal("forced on the first interrupt")
	default:
	}
	sigs <- os.Interrupt // the second: stop at once
	<-force
	<-done
	if want := "vermont: stopping; interrupt again to stop at once\nvermont: stopping at once\n"; out.String() != want {
		t.Errorf("messages %q, want %q", out.String(), want)
	}
}
