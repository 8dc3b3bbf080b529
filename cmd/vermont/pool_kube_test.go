//go:build !thin

package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vermont-ci/vermont/internal/kubetest"
	vmkube "github.com/vermont-ci/vermont/vm/kubernetes"
)

func TestParsePoolFileKubernetes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		check    func(poolFile) bool
		wantErr  string
	}{
		{name: "full", in: `kubernetes:
  kubeconfig: /etc/vermont/kubeconfig
  namespace: runners
  pull-timeout: 2m
pools:
  - name: k8s
    provider: kubernetes
    labels: [linux]
    kubernetes:
      namespace: ci
      requests: {cpu: 500m, memory: 1Gi}
      limits: {memory: 4Gi}
      node-selector: {kubernetes.io/arch: amd64}
      tolerations:
        - {key: dedicated, value: ci, effect: NoExecute, seconds: 60}
        - {operator: Exists}
      runtime-class: gvisor
      service-account: runner
      image-pull-secrets: [regcred]
      command: [/home/runner/run.sh]
`, check: func(f poolFile) bool {
			k := f.pools[0].kube
			return f.kube.kubeconfig == "/etc/vermont/kubeconfig" && f.kube.namespace == "runners" && f.kube.pullTimeout == 2*time.Minute &&
				k != nil && k.Namespace == "ci" && k.Requests["cpu"] == "500m" && k.Limits["memory"] == "4Gi" &&
				k.NodeSelector["kubernetes.io/arch"] == "amd64" && len(k.Tolerations) == 2 && *k.Tolerations[0].Seconds == 60 &&
				k.Tolerations[1].Operator == "Exists" && k.RuntimeClassName == "gvisor" && k.ServiceAccount == "runner" &&
				k.ImagePullSecrets[0] == "regcred" && k.Command[0] == "/home/runner/run.sh"
		}},
		{name: "errors", in: `kubernetes:
  pull-timeout: soon
  context: x
pools:
  - name: a
    provider: containerd
    kubernetes: {namespace: x}
  - name: b
    provider: kubernetes
    kubernetes:
      tolerations: [{colour: red}]
      requests: [cpu]
`, wantErr: `p.yaml:2:17: want a positive duration such as 5m, got "soon"
p.yaml:3:3: unknown kubernetes key "context" (want kubeconfig, namespace, pull-timeout)
p.yaml:5:5: pool a: a kubernetes section needs provider: kubernetes
p.yaml:11:22: unknown toleration key "colour" (want key, operator, value, effect, seconds)
p.yaml:12:17: want a mapping of strings`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parsePoolFile("p.yaml", []byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v\nwant %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.check(got) {
				t.Fatalf("got %+v, %v", got, err)
			}
		})
	}
}

// TestPoolKubernetes runs `vermont pool`'s server with a kubernetes pool
// against a real API server: Pods are warmed, a webhook's job takes one, and
// when its runner exits the Pod is replaced. The kubeconfig comes from
// $KUBECONFIG, as it would for a user.
func TestPoolKubernetes(t *testing.T) {
	c := kubetest.ForTest(t)
	t.Setenv("KUBECONFIG", c.Kubeconfig)
	ctx := context.Background()
	const ns = "vermont-ci"
	if err := c.Namespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	gh, ghSrv := newFakeGitHub(t)
	pools := []poolSpec{{name: "k8s", labels: []string{"linux"}, minIdle: 2, max: 4, provider: "kubernetes",
		image: "example.com/runner:1", kube: &vmkube.PoolOptions{Namespace: ns, Requests: map[string]string{"cpu": "100m"}}}}
	h := startPoolEnv(t, gh, ghSrv.URL, pools, nil, t.TempDir(), func(e *poolEnv) { e.useMock = false })
	running := func() []string {
		pl, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range pl.Items {
			if p.Status.Phase == "Running" && p.DeletionTimestamp == nil {
				out = append(out, p.Name)
			}
		}
		return out
	}
	settled := func(ready, busy int) func() bool {
		return func() bool {
			b := h.health()
			return b.Ready == ready && b.Running == busy && b.VMs == ready+busy && len(running()) == ready+busy
		}
	}
	waitFor(t, "2 warm Pods", settled(2, 0))
	// No credential in a Pod's spec: the runner config and the instance
	// token come from the Pod's Secret.
	pl, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pl.Items {
		spec, _ := json.Marshal(p.Spec)
		token := h.srv.pool.InstanceToken(p.Name)
		if strings.Contains(string(spec), "JITSECRET-") || token == "" || strings.Contains(string(spec), token) {
			t.Errorf("pod %s's spec holds a credential: %s", p.Name, spec)
		}
	}
	if code := h.deliver("d-1", "queued", 1, []string{"self-hosted", "linux"}, "", testSecret); code != http.StatusOK {
		t.Fatalf("queued: status %d", code)
	}
	waitFor(t, "a job assigned and a replacement warmed", settled(2, 1))
	var busy string
	for _, name := range running() {
		if code, _ := h.get("/api/runner-config/" + name); code == http.StatusNotFound {
			busy = name
		}
	}
	if busy == "" {
		t.Fatal("no busy Pod found")
	}
	if code := h.deliver("d-2", "in_progress", 1, []string{"self-hosted", "linux"}, busy, testSecret); code != http.StatusOK {
		t.Fatalf("in_progress: status %d", code)
	}
	if err := c.Exit(ctx, ns, busy, 0); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the finished Pod replaced", func() bool {
		r := running()
		return settled(2, 0)() && !strings.Contains(strings.Join(r, ","), busy)
	})
	h.assertNoSecretsLogged()
}
