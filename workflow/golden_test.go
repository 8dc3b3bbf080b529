package workflow

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/workflow/err/*.out from the current diagnostics")

const testdataDir = "../testdata/workflow"

// parseFile parses a testdata file as an action when its name starts with
// "action", else as a workflow, and returns the diagnostics.
func parseFile(t *testing.T, path string) ErrorList {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Base(path)
	var warnings ErrorList
	if strings.HasPrefix(name, "action") {
		a, perr := ParseAction(name, src)
		if a != nil {
			warnings = a.Warnings
		}
		err = perr
	} else {
		wf, perr := Parse(name, src)
		if wf != nil {
			warnings = wf.Warnings
		}
		err = perr
	}
	if err == nil {
		return warnings
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error is %T, want ErrorList: %v", err, err)
	}
	return list
}

func TestGoldenOK(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob(filepath.Join(testdataDir, "ok", "*.yml"))
	if len(files) == 0 {
		t.Fatal("no testdata/workflow/ok/*.yml")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			if errs := parseFile(t, f); errs != nil {
				t.Errorf("want no diagnostics, got:\n%v", errs)
			}
		})
	}
}

func TestGoldenErr(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob(filepath.Join(testdataDir, "err", "*.yml"))
	if len(files) == 0 {
		t.Fatal("no testdata/workflow/err/*.yml")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			errs := parseFile(t, f)
			if len(errs) == 0 {
				t.Fatal("want diagnostics, got none")
			}
			var b strings.Builder
			for _, e := range errs {
				if !e.Pos.IsValid() {
					t.Errorf("diagnostic without a valid position: %v", e)
				}
				b.WriteString(e.Error() + "\n")
			}
			got := b.String()
			out := strings.TrimSuffix(f, ".yml") + ".out"
			if *update {
				if err := os.WriteFile(out, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("%v (run go test ./workflow -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("diagnostics differ from %s\n--- got:\n%s--- want:\n%s", out, got, want)
			}
		})
	}
}
