package wiring

import (
	"os"
	"strings"
	"testing"
)

// TestLazyResults: the results service starts at the first URL call, once,
// and Close removes the run's artifacts; closed before any use, it never
// starts and says so.
func TestLazyResults(t *testing.T) {
	t.Parallel()
	l := NewLazyResults("", t.TempDir())
	url, err := l.URL()
	if err != nil || !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("URL = %q, %v", url, err)
	}
	if again, _ := l.URL(); again != url {
		t.Errorf("second URL = %q, want %q: started twice", again, url)
	}
	if l.Token("run", "job") == "" {
		t.Error("no token from a started service")
	}
	dir := l.tmp
	l.Close()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("artifacts dir %s left after Close: %v", dir, err)
	}

	unused := NewLazyResults("", t.TempDir())
	unused.Close()
	if url, err := unused.URL(); err == nil || url != "" || unused.srv != nil {
		t.Errorf("URL after Close = %q, %v; want an error and no service", url, err)
	}

	kept := t.TempDir()
	k := NewLazyResults(kept, t.TempDir())
	if _, err := k.URL(); err != nil {
		t.Fatal(err)
	}
	k.Close()
	if _, err := os.Stat(kept); err != nil {
		t.Errorf("a kept artifact directory was removed: %v", err)
	}
	if arts, err := k.RunArtifacts("1"); err != nil || len(arts) != 0 {
		t.Errorf("RunArtifacts of a run with none = %v, %v", arts, err)
	}
}
