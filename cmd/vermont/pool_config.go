//go:build !thin

package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vermont-ci/vermont/internal/runfiles"
	vmkube "github.com/vermont-ci/vermont/vm/kubernetes"
)

// poolEnv is `vermont pool`'s environment, as the seed defines it. Its
// secrets never reach logs: it has no String method and is never logged.
type poolEnv struct {
	pat, org, repoOwner, repo string
	secret                    string
	port                      string
	useMock                   bool
	orchestratorIP            string
	templatePath, storagePath string
	apiURL                    string
	// healthBound is how long a pool may stay below min-idle before
	// /health answers 503 (HEALTH_BOUND; default defaultHealthBound).
	healthBound time.Duration
}

// defaultHealthBound leaves room for a slow first boot (a Hyper-V VM from a
// template takes minutes) before a pool short of min-idle is unhealthy.
const defaultHealthBound = 10 * time.Minute

// poolFile is a --config file: several pools and a host maximum.
type poolFile struct {
	hostMax int
	pools   []poolSpec
	kube    kubeFile
}

// poolSpec is one pool in a --config file.
type poolSpec struct {
	name     string
	labels   []string
	minIdle  int
	max      int
	provider string // mock, containerd, hyperv or kubernetes
	image    string
	cpus     int
	memoryMB int
	kube     *vmkube.PoolOptions // the kubernetes section, if any
}

// loadPoolEnv merges the .env file (if any) under the real environment,
// which wins, and reads the seed's variables.
func loadPoolEnv(environ []string, dotEnvPath string) (poolEnv, error) {
	vars := map[string]string{}
	if data, err := os.ReadFile(dotEnvPath); err == nil {
		if vars, err = runfiles.ParseDotEnv(dotEnvPath, data); err != nil {
			return poolEnv{}, err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return poolEnv{}, fmt.Errorf("reading %s: %w", dotEnvPath, err)
	}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	e := poolEnv{
		pat: vars["GITHUB_PAT"], org: vars["GITHUB_ORG"], secret: vars["WEBHOOK_SECRET"],
		port: vars["PORT"], orchestratorIP: vars["ORCHESTRATOR_IP"],
		templatePath: vars["VM_TEMPLATE_PATH"], storagePath: vars["VM_STORAGE_PATH"],
		apiURL: vars["GITHUB_API_URL"],
	}
	var errs []error
	if e.port == "" {
		e.port = "8080"
	}
	if p, err := strconv.Atoi(e.port); err != nil || p < 0 || p > 65535 {
		errs = append(errs, fmt.Errorf("PORT=%q: want a port number", e.port))
	}
	if e.apiURL == "" {
		e.apiURL = "https://api.github.com/"
	}
	if b := vars["HEALTH_BOUND"]; b != "" {
		d, err := time.ParseDuration(b)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("HEALTH_BOUND=%q: want a positive duration such as 10m", b))
		}
		e.healthBound = d
	}
	if m := vars["USE_MOCK"]; m != "" {
		b, err := strconv.ParseBool(m)
		if err != nil {
			errs = append(errs, fmt.Errorf("USE_MOCK=%q: want true or false", m))
		}
		e.useMock = b
	}
	if repo := vars["GITHUB_REPO"]; repo != "" {
		owner, name, ok := strings.Cut(repo, "/")
		if !ok {
			owner, name = e.org, repo
		}
		if owner == "" || name == "" || strings.Contains(name, "/") {
			errs = append(errs, fmt.Errorf("GITHUB_REPO=%q: want owner/name, or a name with GITHUB_ORG set", repo))
		}
		e.repoOwner, e.repo = owner, name
	} else if e.org == "" {
		errs = append(errs, errors.New("GITHUB_ORG or GITHUB_REPO must be set"))
	}
	if e.pat == "" {
		errs = append(errs, errors.New("GITHUB_PAT must be set"))
	}
	if e.secret == "" {
		errs = append(errs, errors.New("WEBHOOK_SECRET must be set (the secret of the GitHub webhook)"))
	}
	return e, errors.Join(errs...)
}

// defaultProvider is the provider pools use when the config names none.
func (e poolEnv) defaultProvider() string {
	switch {
	case e.useMock:
		return "mock"
	case runtime.GOOS == "windows":
		return "hyperv"
	default:
		return "containerd"
	}
}

// parsePoolFile reads a --config file. Every problem is reported, as
// "file:line:col: message".
func parsePoolFile(name string, data []byte) (poolFile, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return poolFile{}, fmt.Errorf("%s: %w", name, err)
	}
	var pf poolFile
	var errs []error
	fail := func(n *yaml.Node, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d:%d: %s", name, n.Line, n.Column, fmt.Sprintf(format, args...)))
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return pf, fmt.Errorf("%s:1:1: want a mapping with a pools list", name)
	}
	root := doc.Content[0]
	var poolsNode *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "pools":
			poolsNode = v
		case "host-max":
			pf.hostMax = yamlInt(v, fail, 1)
		case "kubernetes":
			pf.kube = parseKubeFile(v, fail)
		default:
			fail(k, "unknown key %q (want pools, host-max, kubernetes)", k.Value)
		}
	}
	if poolsNode == nil || poolsNode.Kind != yaml.SequenceNode || len(poolsNode.Content) == 0 {
		n := root
		if poolsNode != nil {
			n = poolsNode
		}
		fail(n, "pools: want a non-empty list")
		return pf, errors.Join(errs...)
	}
	for _, pn := range poolsNode.Content {
		pf.pools = append(pf.pools, parsePoolSpec(pn, fail))
	}
	return pf, errors.Join(errs...)
}

func parsePoolSpec(pn *yaml.Node, fail func(*yaml.Node, string, ...any)) poolSpec {
	var ps poolSpec
	if pn.Kind != yaml.MappingNode {
		fail(pn, "pool: want a mapping")
		return ps
	}
	for i := 0; i+1 < len(pn.Content); i += 2 {
		k, v := pn.Content[i], pn.Content[i+1]
		switch k.Value {
		case "name":
			ps.name = yamlString(v, fail)
		case "labels":
			if v.Kind != yaml.SequenceNode {
				fail(v, "labels: want a list of strings")
				continue
			}
			for _, l := range v.Content {
				ps.labels = append(ps.labels, yamlString(l, fail))
			}
		case "min-idle":
			ps.minIdle = yamlInt(v, fail, 0)
		case "max":
			ps.max = yamlInt(v, fail, 1)
		case "provider":
			ps.provider = yamlString(v, fail)
			if ps.provider != "mock" && ps.provider != "containerd" && ps.provider != "hyperv" && ps.provider != "kubernetes" {
				fail(v, "provider %q: want mock, containerd, hyperv or kubernetes", ps.provider)
			}
		case "image":
			ps.image = yamlString(v, fail)
		case "cpus":
			ps.cpus = yamlInt(v, fail, 0)
		case "memory":
			ps.memoryMB = yamlInt(v, fail, 0)
		case "kubernetes":
			ps.kube = parseKubePool(v, fail)
		default:
			fail(k, "unknown pool key %q (want name, labels, min-idle, max, provider, image, cpus, memory, kubernetes)", k.Value)
		}
	}
	if ps.name == "" {
		fail(pn, "pool: name is required")
	}
	if ps.kube != nil && ps.provider != "kubernetes" {
		fail(pn, "pool %s: a kubernetes section needs provider: kubernetes", ps.name)
	}
	return ps
}

func yamlString(n *yaml.Node, fail func(*yaml.Node, string, ...any)) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		fail(n, "want a string")
		return ""
	}
	return n.Value
}

func yamlInt(n *yaml.Node, fail func(*yaml.Node, string, ...any), minimum int) int {
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil || v < minimum {
		fail(n, "want an integer ≥ %d, got %q", minimum, n.Value)
		return 0
	}
	return v
}
