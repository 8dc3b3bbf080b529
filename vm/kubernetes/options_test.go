package kubernetes_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vermont-ci/vermont/vm/kubernetes"
)

// unreachableKubeconfig is a kubeconfig New accepts; nothing listens there
// (New does not connect).
func unreachableKubeconfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\n" +
		"users:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n  context: {cluster: c, user: u, namespace: from-context}\ncurrent-context: x\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPoolOptions(t *testing.T) {
	t.Parallel()
	secs := int64(5)
	tests := []struct {
		name    string
		opts    kubernetes.PoolOptions
		wantErr string
	}{
		{name: "zero"},
		{name: "full", opts: kubernetes.PoolOptions{
			Namespace: "ci", Requests: map[string]string{"cpu": "500m", "memory": "1Gi"}, Limits: map[string]string{"nvidia.com/gpu": "1"},
			NodeSelector: map[string]string{"kubernetes.io/arch": "amd64"},
			Tolerations: []kubernetes.Toleration{
				{Key: "dedicated", Value: "ci", Effect: "NoExecute", Seconds: &secs},
				{Operator: "Exists"},
				{Key: "spot", Operator: "Exists", Effect: "PreferNoSchedule"},
			},
			RuntimeClassName: "kata", ServiceAccount: "runner", ImagePullSecrets: []string{"regcred"},
		}},
		{name: "exists with a value", opts: kubernetes.PoolOptions{Tolerations: []kubernetes.Toleration{{Key: "k", Operator: "Exists", Value: "v"}}},
			wantErr: "tolerations[0]: operator Exists takes no value"},
		{name: "empty key needs exists", opts: kubernetes.PoolOptions{Tolerations: []kubernetes.Toleration{{Value: "v"}}},
			wantErr: "an empty key needs operator Exists"},
		{name: "bad effect", opts: kubernetes.PoolOptions{Tolerations: []kubernetes.Toleration{{Key: "k", Effect: "Sometimes"}}},
			wantErr: `effect "Sometimes"`},
		{name: "seconds without NoExecute", opts: kubernetes.PoolOptions{Tolerations: []kubernetes.Toleration{{Key: "k", Seconds: &secs}}},
			wantErr: "seconds applies to effect NoExecute only"},
		{name: "bad runtime class", opts: kubernetes.PoolOptions{RuntimeClassName: "Not Valid"}, wantErr: `runtimeClassName "Not Valid"`},
		{name: "bad service account", opts: kubernetes.PoolOptions{ServiceAccount: "a/b"}, wantErr: `serviceAccount "a/b"`},
		{name: "bad pull secret", opts: kubernetes.PoolOptions{ImagePullSecrets: []string{"UPPER"}}, wantErr: `imagePullSecrets "UPPER"`},
		{name: "bad selector value", opts: kubernetes.PoolOptions{NodeSelector: map[string]string{"k": "has space"}}, wantErr: `nodeSelector k value "has space"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := kubernetes.New(kubernetes.WithKubeconfig(unreachableKubeconfig(t)), kubernetes.WithPool("linux", tt.opts))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				p.Close()
				return
			}
			if err == nil {
				p.Close()
				t.Fatalf("accepted; want %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "pool linux") {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestNamespaceFromKubeconfig: without WithNamespace, the kubeconfig
// context's namespace is used.
func TestNamespaceFromKubeconfig(t *testing.T) {
	t.Parallel()
	p, err := kubernetes.New(kubernetes.WithKubeconfig(unreachableKubeconfig(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if s := p.String(); !strings.Contains(s, "namespace from-context") || !strings.Contains(s, "127.0.0.1:1") {
		t.Errorf("String() = %q, want the context's namespace and server", s)
	}
}
