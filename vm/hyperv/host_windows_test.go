//go:build windows

package hyperv

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestMirrorsMatchHcsshim checks that the mirrored documents marshal to the
// same JSON as hcsshim's own types after the copy in host_windows.go, so the
// golden files are what HCS receives. It needs Windows to compile, not
// Hyper-V.
func TestMirrorsMatchHcsshim(t *testing.T) {
	t.Parallel()
	plan := &instancePlan{
		ID: "c_n", Owner: "vermont-c", Name: "n", Pool: "p",
		ScratchDir: `C:\s\c_n\scratch`, ConfigDir: `C:\s\c_n\config`,
		Layers:    []layerRef{{ID: "11111111-2222-3333-4444-555555555555", Path: `C:\l\top`}, {ID: "66666666-7777-8888-9999-000000000000", Path: `C:\l\base`}},
		UtilityVM: `C:\l\base\UtilityVM`, CPUs: 2, MemoryMB: 4096, EndpointID: "e",
		Env: map[string]string{"A": "b"}, Command: "cmd /c exit 0", WorkingDir: `C:\`,
	}
	doc := buildSystemDocument(plan)
	same(t, doc, containerConfig(doc), nil)
	proc := buildProcessDocument(plan)
	// hcsshim's ProcessConfig always sends ConsoleSize ([2]uint with
	// omitempty is never empty); [0,0] means "no console size".
	same(t, proc, processConfig(proc), []string{"ConsoleSize"})
}

func same(t *testing.T, mirror, real any, ignore []string) {
	t.Helper()
	var a, b map[string]any
	for _, x := range []struct {
		v   any
		out *map[string]any
	}{{mirror, &a}, {real, &b}} {
		data, err := json.Marshal(x.v)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, x.out); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range ignore {
		delete(b, k)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("mirror and hcsshim JSON differ:\nmirror  %v\nhcsshim %v", a, b)
	}
}
