package release

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// goreleaser is the part of .goreleaser.yaml (version 2) that decides what
// gets built: https://goreleaser.com/customization/builds/go/.
type goreleaser struct {
	Version int     `yaml:"version"`
	Builds  []build `yaml:"builds"`
}

// build is one entry of builds:.
type build struct {
	ID     string     `yaml:"id"`
	Main   string     `yaml:"main"`
	Env    []string   `yaml:"env"`
	Flags  []string   `yaml:"flags"`
	Tags   []string   `yaml:"tags"`
	Goos   []string   `yaml:"goos"`
	Goarch []string   `yaml:"goarch"`
	Ignore []platform `yaml:"ignore"`
}

// platform is a goos/goarch pair.
type platform struct {
	Goos   string `yaml:"goos"`
	Goarch string `yaml:"goarch"`
}

// target is one goos/goarch pair of one build.
type target struct {
	build, main, goos, goarch string
	env, flags, tags          []string
}

func (t target) String() string { return fmt.Sprintf("%s/%s_%s", t.build, t.goos, t.goarch) }

// targets lists what GoReleaser would build from cfg, in its order.
func targets(cfg goreleaser) ([]target, error) {
	if cfg.Version != 2 {
		return nil, fmt.Errorf("version: %d, want 2", cfg.Version)
	}
	var out []target
	for _, b := range cfg.Builds {
		if b.Main == "" || len(b.Goos) == 0 || len(b.Goarch) == 0 {
			return nil, fmt.Errorf("build %q: main, goos and goarch must be set (GoReleaser's defaults would build other targets)", b.ID)
		}
		for _, goos := range b.Goos {
			for _, goarch := range b.Goarch {
				if slices.Contains(b.Ignore, platform{Goos: goos, Goarch: goarch}) {
					continue
				}
				out = append(out, target{build: b.ID, main: b.Main, goos: goos, goarch: goarch, env: b.Env, flags: b.Flags, tags: b.Tags})
			}
		}
	}
	return out, nil
}

func TestTargetsOfConfig(t *testing.T) {
	var cfg goreleaser
	src := `
version: 2
builds:
  - id: a
    main: ./cmd/a
    goos: [linux, windows]
    goarch: [amd64, arm64]
    ignore:
      - {goos: windows, goarch: arm64}
`
	if err := yaml.Unmarshal([]byte(src), &cfg); err != nil {
		t.Fatal(err)
	}
	got, err := targets(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tg := range got {
		names = append(names, tg.String())
	}
	want := "a/linux_amd64 a/linux_arm64 a/windows_amd64"
	if strings.Join(names, " ") != want {
		t.Errorf("targets = %v, want %s", names, want)
	}
	if _, err := targets(goreleaser{Version: 2, Builds: []build{{ID: "b", Main: "./x"}}}); err == nil {
		t.Error("a build without goos/goarch was accepted")
	}
}

// TestReleaseTargetsBuild builds every release target with go build, as
// GoReleaser would (its env and flags; ldflags only strip symbols).
func TestReleaseTargetsBuild(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(root, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg goreleaser
	if err := yaml.Unmarshal(src, &cfg); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	all, err := targets(cfg)
	if err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	want := []string{"linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64", "windows_amd64", "windows_arm64"}
	// vermont is the host-only build (-tags thin); vermont-full, beside it
	// in each archive, runs what needs daemon clients.
	for _, id := range []string{"vermont", "vermont-full"} {
		for _, w := range want {
			if !slices.ContainsFunc(all, func(tg target) bool { return tg.build == id && tg.goos+"_"+tg.goarch == w }) {
				t.Errorf(".goreleaser.yaml does not build %s for %s", id, w)
			}
		}
	}
	for _, b := range cfg.Builds {
		if thin := slices.Contains(b.Tags, "thin"); thin != (b.ID == "vermont") {
			t.Errorf("build %s: tags %v; want thin on vermont only", b.ID, b.Tags)
		}
	}
	out := t.TempDir()
	for _, tg := range all {
		t.Run(tg.String(), func(t *testing.T) {
			args := append([]string{"build", "-o", filepath.Join(out, tg.String())}, tg.flags...)
			if len(tg.tags) > 0 {
				args = append(args, "-tags", strings.Join(tg.tags, ","))
			}
			cmd := exec.Command("go", append(args, tg.main)...)
			cmd.Dir = root
			cmd.Env = append(append(os.Environ(), tg.env...), "GOOS="+tg.goos, "GOARCH="+tg.goarch)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("GOOS=%s GOARCH=%s go %s: %v\n%s", tg.goos, tg.goarch, strings.Join(cmd.Args[1:], " "), err, b)
			}
		})
	}
}
