package kubetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Versions of the binaries the tests run. The staging modules are replaced
// at StagingVersion, the release that matches KubeVersion, so that
// kube-apiserver builds from the Go module proxy alone.
const (
	KubeVersion    = "v1.37.2"
	StagingVersion = "v0.37.2"
	KwokVersion    = "v0.8.0"
)

// stagingModules are k8s.io/kubernetes's staging repositories, each required
// by it as v0.0.0 and replaced here at StagingVersion.
var stagingModules = []string{
	"api", "apiextensions-apiserver", "apimachinery", "apiserver", "cli-runtime", "client-go",
	"cloud-provider", "cluster-bootstrap", "code-generator", "component-base", "component-helpers",
	"controller-manager", "cri-api", "cri-client", "cri-streaming", "csi-translation-lib",
	"dynamic-resource-allocation", "endpointslice", "externaljwt", "kms", "kube-aggregator",
	"kube-controller-manager", "kube-proxy", "kube-scheduler", "kubectl", "kubelet", "metrics",
	"mount-utils", "pod-security-admission", "sample-apiserver", "sample-cli-plugin",
	"sample-controller", "streaming",
}

// Binaries are the paths of the built executables.
type Binaries struct {
	APIServer string
	Kwok      string
}

// CacheDir is where the binaries of one version live:
// os.UserCacheDir()/vermont/kube/<KubeVersion>, and kwok-<KwokVersion> beside it.
func CacheDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("kubetest: %w", err)
	}
	return filepath.Join(dir, "vermont", "kube"), nil
}

// binaries returns where the binaries are (or will be) in the cache.
func binaries() (Binaries, error) {
	dir, err := CacheDir()
	if err != nil {
		return Binaries{}, err
	}
	return Binaries{
		APIServer: filepath.Join(dir, KubeVersion, "kube-apiserver"),
		Kwok:      filepath.Join(dir, "kwok-"+KwokVersion, "kwok"),
	}, nil
}

// Cached returns the binaries when both are built, and an error naming what
// is missing otherwise.
func Cached() (Binaries, error) {
	b, err := binaries()
	if err != nil {
		return b, err
	}
	for _, p := range []string{b.APIServer, b.Kwok} {
		if _, err := os.Stat(p); err != nil {
			return b, fmt.Errorf("kubetest: %s not built (go run ./internal/kubetest/cmd/kubebuild; about 14 minutes cold on 2 cores): %w", p, err)
		}
	}
	return b, nil
}

// Build builds kube-apiserver and kwok from the Go module proxy unless they
// are cached, streaming go's output to log. Concurrent callers (test
// binaries of several packages) wait for one build under a file lock.
func Build(ctx context.Context, log io.Writer) (Binaries, error) {
	b, err := binaries()
	if err != nil {
		return b, err
	}
	dir, _ := CacheDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return b, fmt.Errorf("kubetest: %w", err)
	}
	unlock, err := lockFile(filepath.Join(dir, "build.lock"))
	if err != nil {
		return b, fmt.Errorf("kubetest: lock: %w", err)
	}
	defer unlock()
	if _, err := os.Stat(b.APIServer); err != nil {
		if err := buildAPIServer(ctx, filepath.Dir(b.APIServer), log); err != nil {
			return b, err
		}
	}
	if _, err := os.Stat(b.Kwok); err != nil {
		if err := buildKwok(ctx, filepath.Dir(b.Kwok), log); err != nil {
			return b, err
		}
	}
	return Cached()
}

// apiServerGoMod is the module that builds kube-apiserver: k8s.io/kubernetes
// with every staging module replaced at the matching release.
func apiServerGoMod() string {
	var sb strings.Builder
	sb.WriteString("module kubebuild\n\ngo 1.26.0\n\nrequire k8s.io/kubernetes " + KubeVersion + "\n\nreplace (\n")
	for _, m := range stagingModules {
		fmt.Fprintf(&sb, "\tk8s.io/%s => k8s.io/%s %s\n", m, m, StagingVersion)
	}
	sb.WriteString(")\n")
	return sb.String()
}

const toolsGo = "//go:build tools\n\npackage kubebuild\n\nimport _ \"k8s.io/kubernetes/cmd/kube-apiserver\"\n"

// buildAPIServer builds kube-apiserver into dir. The module setup and flags
// match a plain `GOFLAGS=-mod=mod go build k8s.io/kubernetes/cmd/kube-apiserver`
// so that Go's build cache is shared with any such build on the machine.
func buildAPIServer(ctx context.Context, dir string, log io.Writer) error {
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return fmt.Errorf("kubetest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte(apiServerGoMod()), 0o644); err != nil {
		return fmt.Errorf("kubetest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(src, "tools.go"), []byte(toolsGo), 0o644); err != nil {
		return fmt.Errorf("kubetest: %w", err)
	}
	if err := goCmd(ctx, src, log, nil, "mod", "tidy"); err != nil {
		return fmt.Errorf("kubetest: go mod tidy for kube-apiserver %s: %w", KubeVersion, err)
	}
	tmp := filepath.Join(dir, "kube-apiserver.tmp")
	if err := goCmd(ctx, src, log, nil, "build", "-o", tmp, "k8s.io/kubernetes/cmd/kube-apiserver"); err != nil {
		return fmt.Errorf("kubetest: build kube-apiserver %s: %w", KubeVersion, err)
	}
	return rename(tmp, filepath.Join(dir, "kube-apiserver"))
}

// buildKwok installs kwok's own module at KwokVersion into dir.
func buildKwok(ctx context.Context, dir string, log io.Writer) error {
	tmp := dir + ".tmp"
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return fmt.Errorf("kubetest: %w", err)
	}
	if err := goCmd(ctx, tmp, log, []string{"GOBIN=" + tmp}, "install", "sigs.k8s.io/kwok/cmd/kwok@"+KwokVersion); err != nil {
		return fmt.Errorf("kubetest: build kwok %s: %w", KwokVersion, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("kubetest: %w", err)
	}
	if err := rename(filepath.Join(tmp, "kwok"), filepath.Join(dir, "kwok")); err != nil {
		return err
	}
	_ = os.Remove(tmp)
	return nil
}

func rename(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return fmt.Errorf("kubetest: %w", err)
	}
	return nil
}

// goCmd runs the go command in dir. GOFLAGS=-mod=mod lets it record the
// checksums of what it downloads; GOWORK=off keeps any workspace out.
func goCmd(ctx context.Context, dir string, log io.Writer, env []string, args ...string) error {
	if log == nil {
		log = io.Discard
	}
	fmt.Fprintf(log, "kubetest: (cd %s && go %s)\n", dir, strings.Join(args, " "))
	c := exec.CommandContext(ctx, "go", args...)
	c.Dir = dir
	c.Stdout, c.Stderr = log, log
	c.Env = append(os.Environ(), append([]string{"GOFLAGS=-mod=mod", "GOWORK=off"}, env...)...)
	if err := c.Run(); err != nil {
		if ctx.Err() != nil {
			return errors.Join(err, ctx.Err())
		}
		return err
	}
	return nil
}
