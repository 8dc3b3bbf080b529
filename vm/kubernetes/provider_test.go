package kubernetes_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	authzv1 "k8s.io/api/authorization/v1"
	nodev1 "k8s.io/api/node/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vermont-ci/vermont/internal/kubetest"
	"github.com/vermont-ci/vermont/vm"
	"github.com/vermont-ci/vermont/vm/kubernetes"
)

var shared kubetest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Close()
	os.Exit(code)
}

var nsSeq atomic.Int64

// env is one test's namespace and controller on the shared cluster.
type env struct {
	c          *kubetest.Cluster
	ns         string
	controller string
}

func newEnv(t testing.TB) env {
	t.Helper()
	c := shared.Get(t)
	n := nsSeq.Add(1)
	e := env{c: c, ns: fmt.Sprintf("t%d", n), controller: fmt.Sprintf("ctl-%d", n)}
	if err := c.Namespace(context.Background(), e.ns); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e env) provider(t testing.TB, opts ...kubernetes.Option) *kubernetes.Provider {
	t.Helper()
	base := []kubernetes.Option{
		kubernetes.WithKubeconfig(e.c.Kubeconfig), kubernetes.WithNamespace(e.ns), kubernetes.WithControllerID(e.controller),
	}
	p, err := kubernetes.New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// pods lists the namespace's Pods and Secrets that still exist (a Pod being
// deleted counts until it is gone).
func (e env) objects(t testing.TB) (pods, secrets []string) {
	t.Helper()
	ctx := context.Background()
	pl, err := e.c.Client.CoreV1().Pods(e.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pl.Items {
		pods = append(pods, p.Name)
	}
	sl, err := e.c.Client.CoreV1().Secrets(e.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sl.Items {
		secrets = append(secrets, s.Name)
	}
	return pods, secrets
}

// eventually polls cond until it holds; the deadline only guards a hang.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func spec(name string) vm.Spec {
	return vm.Spec{
		Name: name, Pool: "linux", Image: "example.com/runner:1", RunnerConfig: "c2VjcmV0LWppdC1jb25maWc=",
		Env: map[string]string{"A": "1"}, Labels: map[string]string{"team": "ci"}, CPUs: 2, MemoryMB: 512,
	}
}

// TestCreateWaitDestroy creates an instance with every pool option, checks
// the Pod and its owned Secret, makes the runner exit, and destroys it.
func TestCreateWaitDestroy(t *testing.T) {
	e := newEnv(t)
	secs := int64(30)
	p := e.provider(t, kubernetes.WithPool("linux", kubernetes.PoolOptions{
		Requests:         map[string]string{"cpu": "500m"},
		Limits:           map[string]string{"ephemeral-storage": "1Gi"},
		NodeSelector:     map[string]string{"type": "kwok"},
		Tolerations:      []kubernetes.Toleration{{Key: "dedicated", Value: "ci", Effect: "NoExecute", Seconds: &secs}},
		RuntimeClassName: "gvisor",
		ServiceAccount:   "default",
		ImagePullSecrets: []string{"regcred"},
	}))
	ctx := context.Background()
	rc := &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: "gvisor"}, Handler: "runsc"}
	if _, err := e.c.Client.NodeV1().RuntimeClasses().Create(ctx, rc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	inst, err := p.Create(ctx, spec("r1"))
	if err != nil {
		t.Fatal(err)
	}
	if !inst.Running || inst.Name != "r1" || inst.Pool != "linux" || inst.Labels[vm.LabelController] != e.controller {
		t.Errorf("instance = %+v", inst)
	}
	pod, err := e.c.Client.CoreV1().Pods(e.ns).Get(ctx, "r1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := pod.Spec.Containers[0]
	checks := []struct {
		what      string
		got, want string
	}{
		{"image", c.Image, "example.com/runner:1"},
		{"restartPolicy", string(pod.Spec.RestartPolicy), "Never"},
		{"cpu request", c.Resources.Requests.Cpu().String(), "500m"},
		{"cpu limit (from Spec.CPUs? no: the pool's request wins)", fmt.Sprint(c.Resources.Limits.Cpu().IsZero()), "true"},
		{"memory request", c.Resources.Requests.Memory().String(), "512Mi"},
		{"memory limit", c.Resources.Limits.Memory().String(), "512Mi"},
		{"ephemeral-storage limit", c.Resources.Limits.StorageEphemeral().String(), "1Gi"},
		{"nodeSelector", pod.Spec.NodeSelector["type"], "kwok"},
		{"toleration", fmt.Sprintf("%s=%s:%s/%d", pod.Spec.Tolerations[0].Key, pod.Spec.Tolerations[0].Value, pod.Spec.Tolerations[0].Effect, *pod.Spec.Tolerations[0].TolerationSeconds), "dedicated=ci:NoExecute/30"},
		{"runtimeClassName", *pod.Spec.RuntimeClassName, "gvisor"},
		{"serviceAccount", pod.Spec.ServiceAccountName, "default"},
		{"imagePullSecrets", pod.Spec.ImagePullSecrets[0].Name, "regcred"},
		{"label pool", pod.Labels[vm.LabelPool], "linux"},
		{"label instance", pod.Labels[vm.LabelInstance], "r1"},
		{"label extra", pod.Labels["team"], "ci"},
		{"env A from secret", c.Env[0].Name + "<-" + c.Env[0].ValueFrom.SecretKeyRef.Key, "A<-env.A"},
		{"jit env from secret", c.Env[1].Name + "<-" + c.Env[1].ValueFrom.SecretKeyRef.Name, kubernetes.JITConfigEnv + "<-r1-jitconfig"},
		{"jit file", c.VolumeMounts[0].MountPath, kubernetes.JITConfigPath},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.what, ch.got, ch.want)
		}
	}
	sec, err := e.c.Client.CoreV1().Secrets(e.ns).Get(ctx, "r1-jitconfig", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(sec.Data["jitconfig"]) != "c2VjcmV0LWppdC1jb25maWc=" || string(sec.Data["env.A"]) != "1" {
		t.Errorf("secret holds %q", sec.Data)
	}
	if data, _ := json.Marshal(pod.Spec); strings.Contains(string(data), "c2VjcmV0LWppdC1jb25maWc=") {
		t.Errorf("the pod spec holds the runner config: %s", data)
	}
	if len(sec.OwnerReferences) != 1 || sec.OwnerReferences[0].UID != pod.UID || sec.OwnerReferences[0].Kind != "Pod" {
		t.Errorf("secret owners = %+v, want the pod %s", sec.OwnerReferences, pod.UID)
	}
	if sec.Labels[vm.LabelController] != e.controller {
		t.Errorf("secret labels = %v", sec.Labels)
	}

	if _, err := p.Create(ctx, spec("r1")); !apierrors.IsAlreadyExists(err) {
		t.Errorf("second create: %v, want already exists", err)
	}
	if err := e.c.Exit(ctx, e.ns, "r1", 3); err != nil {
		t.Fatal(err)
	}
	code, err := p.Wait(ctx, "r1")
	if err != nil || code != 3 {
		t.Fatalf("wait = %d, %v; want 3", code, err)
	}
	// The status is kept until Destroy.
	if code, err := p.Wait(ctx, "r1"); err != nil || code != 3 {
		t.Errorf("second wait = %d, %v; want 3", code, err)
	}
	if err := p.Destroy(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "pod and secret gone", func() bool { pods, secrets := e.objects(t); return len(pods)+len(secrets) == 0 })
	if err := p.Destroy(ctx, "r1"); err != nil {
		t.Errorf("destroy of a missing instance: %v", err)
	}
	if _, err := p.Wait(ctx, "r1"); !errors.Is(err, vm.ErrNotFound) {
		t.Errorf("wait after destroy: %v, want vm.ErrNotFound", err)
	}
}

// TestBadImage: a Pod whose image does not pull fails Create with
// ErrImagePull after the pull timeout, and leaves nothing behind.
func TestBadImage(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t, kubernetes.WithPullTimeout(time.Second))
	s := spec("bad")
	s.Image = kubetest.BadImage
	_, err := p.Create(context.Background(), s)
	if !errors.Is(err, kubernetes.ErrImagePull) {
		t.Fatalf("create: %v, want ErrImagePull", err)
	}
	if !strings.Contains(err.Error(), "ImagePullBackOff") || !strings.Contains(err.Error(), kubetest.BadImage) {
		t.Errorf("error %q does not name the image and the reason", err)
	}
	if strings.Contains(err.Error(), s.RunnerConfig) {
		t.Errorf("error %q holds the runner config", err)
	}
	eventually(t, "pod and secret gone", func() bool { pods, secrets := e.objects(t); return len(pods)+len(secrets) == 0 })
}

// TestCreateCancelled: a Create cut short by ctx removes what it made.
func TestCreateCancelled(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	s := spec("slow")
	s.Image = kubetest.BadImage // never runs
	if _, err := p.Create(ctx, s); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("create: %v, want deadline exceeded", err)
	}
	eventually(t, "pod and secret gone", func() bool { pods, secrets := e.objects(t); return len(pods)+len(secrets) == 0 })
}

// TestListAcrossProviders: a new Provider lists what an old one created;
// another controller's Pods and Pods being deleted are not listed.
func TestListAcrossProviders(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first := e.provider(t)
	for _, n := range []string{"b", "a"} {
		if _, err := first.Create(ctx, spec(n)); err != nil {
			t.Fatal(err)
		}
	}
	other := e.provider(t, kubernetes.WithControllerID("someone-else"))
	if _, err := other.Create(ctx, spec("x")); err != nil {
		t.Fatal(err)
	}
	first.Close()
	second := e.provider(t)
	got, err := second.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, in := range got {
		if !in.Running || in.Pool != "linux" {
			t.Errorf("instance %+v", in)
		}
		names = append(names, in.Name)
	}
	if strings.Join(names, ",") != "a,b" {
		t.Errorf("list = %v, want a,b", names)
	}
	if err := e.c.Exit(ctx, e.ns, "a", 0); err != nil {
		t.Fatal(err)
	}
	if code, err := second.Wait(ctx, "a"); err != nil || code != 0 {
		t.Errorf("wait a = %d, %v; want 0", code, err)
	}
	// A Pod deleted behind the provider's back is not found.
	if err := e.c.Client.CoreV1().Pods(e.ns).Delete(ctx, "b", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := second.Wait(ctx, "b"); !errors.Is(err, vm.ErrNotFound) {
		t.Errorf("wait for a deleted pod: %v, want vm.ErrNotFound", err)
	}
}

// TestBadOptions: every bad option is reported at once, and bad specs are
// refused before anything is created.
func TestBadOptions(t *testing.T) {
	_, err := kubernetes.New(kubernetes.WithKubeconfig(os.DevNull), kubernetes.WithPool("p", kubernetes.PoolOptions{
		Namespace:    "Not_A_Namespace",
		Requests:     map[string]string{"cpu": "lots"},
		Limits:       map[string]string{"memory": "-1Gi"},
		NodeSelector: map[string]string{"bad key!": "v"},
		Tolerations:  []kubernetes.Toleration{{Key: "k", Operator: "Sometimes"}},
	}))
	if err == nil {
		t.Fatal("New accepted bad options")
	}
	for _, want := range []string{"Not_A_Namespace", `"lots" is not a quantity`, "negative", "bad key!", `operator "Sometimes"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	for _, opt := range []kubernetes.Option{
		kubernetes.WithControllerID(""), kubernetes.WithNamespace("UPPER"), kubernetes.WithPullTimeout(0), kubernetes.WithKubeconfig(""),
	} {
		if _, err := kubernetes.New(opt); err == nil {
			t.Error("New accepted a bad option")
		}
	}
}

func TestBadSpec(t *testing.T) {
	e := newEnv(t)
	p := e.provider(t)
	for _, s := range []vm.Spec{
		{Name: "Upper_Case", Pool: "linux"},
		{Name: "ok", Pool: "linux", Labels: map[string]string{"bad key!": "v"}},
		{Name: "ok", Pool: "linux", Env: map[string]string{"1=x": "v"}},
		{Name: "ok", Pool: "linux", CPUs: -1},
	} {
		if _, err := p.Create(context.Background(), s); err == nil {
			t.Errorf("create %+v succeeded", s)
		}
	}
	if pods, secrets := e.objects(t); len(pods)+len(secrets) != 0 {
		t.Errorf("left behind: %v %v", pods, secrets)
	}
}

// TestWatchForbidden: a provider whose account may create Pods but not
// watch them fails Create at once with the API server's refusal, instead
// of waiting out its context, and cleans up.
func TestWatchForbidden(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "create-only", Namespace: e.ns},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"pods", "secrets"}, Verbs: []string{"create", "get", "delete"}},
		},
	}
	if _, err := e.c.Client.RbacV1().Roles(e.ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "create-only", Namespace: e.ns},
		Subjects:   []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: kubetest.User}},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "create-only"},
	}
	if _, err := e.c.Client.RbacV1().RoleBindings(e.ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The authorizer learns of the binding through its own watch.
	eventually(t, "the role binding in force", func() bool {
		for _, res := range []string{"pods", "secrets"} {
			r, err := e.c.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{
				User:               kubetest.User,
				ResourceAttributes: &authzv1.ResourceAttributes{Namespace: e.ns, Verb: "create", Resource: res},
			}}, metav1.CreateOptions{})
			if err != nil || !r.Status.Allowed {
				return false
			}
		}
		return true
	})
	p := e.provider(t, kubernetes.WithKubeconfig(e.c.UserKubeconfig))
	cctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	_, err := p.Create(cctx, spec("denied"))
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "watching pods") {
		t.Fatalf("create: %v, want the watch forbidden", err)
	}
	if cctx.Err() != nil {
		t.Fatalf("create waited out its context: %v", err)
	}
	eventually(t, "pod and secret gone", func() bool { pods, secrets := e.objects(t); return len(pods)+len(secrets) == 0 })
}
