package hyperv

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vermont-ci/vermont/vm"
)

// TestDocumentsGolden compares the compute system and process documents
// Create hands to HCS with testdata/<case>.{system,process}.json. Paths under
// the test's temporary root read "$ROOT/…" with forward slashes, so the
// files are the same on every OS. Rewrite them with -update.
func TestDocumentsGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []Option
		edit func(*vm.Spec)
	}{
		{name: "defaults"},
		{name: "sized", edit: func(s *vm.Spec) { s.CPUs, s.MemoryMB = 8, 16384 }},
		{name: "no-network", opts: []Option{WithNetwork(""), WithDefaultResources(4, 8192)}},
		{name: "custom-command", opts: []Option{WithCommand(`cmd.exe /c C:\runner\start.cmd`, `C:\runner`)}, edit: func(s *vm.Spec) {
			s.Env = map[string]string{"HTTPS_PROXY": "http://proxy:3128"}
			s.RunnerConfig = "" // fetched from the pool at boot instead
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tt.opts...)
			spec := e.spec("runner-1")
			if tt.edit != nil {
				tt.edit(&spec)
			}
			if _, err := e.p.Create(context.Background(), spec); err != nil {
				t.Fatal(err)
			}
			e.host.mu.Lock()
			doc, proc := e.host.docs["ctl_runner-1"], e.host.procDocs["ctl_runner-1"]
			e.host.mu.Unlock()
			normalizePaths(e.root, doc)
			golden(t, tt.name+".system.json", doc)
			golden(t, tt.name+".process.json", proc)
			if spec.RunnerConfig == "" {
				if _, err := os.Stat(filepath.Join(e.storage, "ctl_runner-1", "config", configFileName)); !os.IsNotExist(err) {
					t.Errorf("config file written for an empty config: %v", err)
				}
			}
		})
	}
}

// normalizePaths rewrites doc's host paths relative to root.
func normalizePaths(root string, doc *systemDocument) {
	rel := func(p string) string {
		r, err := filepath.Rel(root, p)
		if err != nil || strings.HasPrefix(r, "..") {
			return p
		}
		return "$ROOT/" + filepath.ToSlash(r)
	}
	doc.LayerFolderPath = rel(doc.LayerFolderPath)
	for i := range doc.Layers {
		doc.Layers[i].Path = rel(doc.Layers[i].Path)
	}
	for i := range doc.MappedDirectories {
		doc.MappedDirectories[i].HostPath = rel(doc.MappedDirectories[i].HostPath)
	}
	if doc.HvRuntime != nil {
		doc.HvRuntime.ImagePath = rel(doc.HvRuntime.ImagePath)
	}
}

// golden compares v's JSON with testdata/name, or writes it with -update.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	noSecret(t, name, string(got))
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it):\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

// TestDocumentJSONShape pins the JSON names HCS reads, independently of the
// golden files, so a careless -update cannot rename a field.
func TestDocumentJSONShape(t *testing.T) {
	t.Parallel()
	doc := buildSystemDocument(&instancePlan{ID: "c_n", Owner: "vermont-c", ScratchDir: "s", ConfigDir: "c", Layers: []layerRef{{ID: "g", Path: "p"}}, UtilityVM: "u", EndpointID: "e", CPUs: 1, MemoryMB: 2})
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"SystemType", "Name", "Owner", "LayerFolderPath", "Layers", "ProcessorCount", "MemoryMaximumInMB", "HostName", "MappedDirectories", "HvPartition", "EndpointList", "HvRuntime"} {
		if _, ok := m[key]; !ok {
			t.Errorf("document lacks %q: %s", key, data)
		}
	}
	if m["SystemType"] != "Container" || m["HvPartition"] != true {
		t.Errorf("not a Hyper-V container: %s", data)
	}
	if _, ok := m["TerminateOnLastHandleClosed"]; ok {
		t.Errorf("TerminateOnLastHandleClosed must stay false (omitted) so instances survive a controller restart: %s", data)
	}
	if h := doc.HostName; len(h) > 15 {
		t.Errorf("host name %q is longer than NetBIOS's 15 characters", h)
	}
}
