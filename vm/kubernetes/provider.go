// Package kubernetes is the vm.VMProvider over a Kubernetes cluster: each
// instance is a Pod of the runner image (GitHub's by default) that runs
// GitHub's runner once (restartPolicy Never).
//
// The runner's just-in-time configuration lives in a Secret owned by the Pod
// (an ownerReference, so the cluster's garbage collector removes it with the
// Pod; Destroy deletes both anyway). The Pod reads it as the environment
// variable ACTIONS_RUNNER_INPUT_JITCONFIG (what the runner image reads) and
// as the file /run/vermont/jitconfig. Spec.Env, which holds the instance's
// token, is in the Secret too, so the Pod's spec holds no credential. None
// of them appears in logs or errors.
//
// Pods and Secrets carry the labels vm.LabelController, vm.LabelPool and
// vm.LabelInstance, so List finds them after a restart. Pods are watched, not
// polled: one informer per namespace lists and then watches this
// controller's Pods, resuming from the last resourceVersion when the watch
// breaks. Create returns once the Pod is Running; a Pod whose image does not
// pull fails Create with ErrImagePull after the pull timeout. Wait returns
// when the Pod has Succeeded or Failed, with the runner's exit code, so the
// pool destroys and replaces a failed Pod.
//
// Per pool (WithPool): namespace, requests and limits, nodeSelector,
// tolerations, runtimeClassName (gVisor, Kata), service account and image
// pull secrets.
package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/vermont-ci/vermont/vm"
)

// Where the runner finds its configuration inside a Pod.
const (
	JITConfigEnv  = "ACTIONS_RUNNER_INPUT_JITCONFIG"
	JITConfigPath = "/run/vermont/jitconfig"
	jitKey        = "jitconfig"
	containerName = "runner"
)

// Errors callers can test with errors.Is.
var (
	// ErrImagePull reports a Pod whose image did not pull within the pull
	// timeout, or cannot be pulled at all (an invalid name).
	ErrImagePull = errors.New("image does not pull")
	// ErrExited reports a Pod that ended before it was Running.
	ErrExited = errors.New("pod ended before it ran")
)

var _ vm.VMProvider = (*Provider)(nil)

// Provider creates runner instances as Pods. Everything it knows is asked
// of the API server (List) or watched from it (Create, Wait), so a new
// Provider sees what an old one created.
type Provider struct {
	cs          kubernetes.Interface
	controller  string
	namespace   string
	pools       map[string]poolPods
	pullTimeout time.Duration
	log         *slog.Logger
	host        string

	w *watcher
}

// New connects to the cluster named by the kubeconfig (WithKubeconfig, or
// the default loading rules, or the in-cluster service account) and starts
// watching this controller's Pods. It fails on bad options and on a
// kubeconfig that cannot be read; it does not wait for the API server,
// which may come up later. Close stops the watches.
func New(opts ...Option) (*Provider, error) {
	cfg := config{controller: DefaultControllerID, pullTimeout: DefaultPullTimeout}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("kubernetes provider: %w", err)
		}
	}
	if cfg.log == nil {
		cfg.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	pools := map[string]poolPods{}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(cfg.pools)) {
		pp, err := cfg.pools[name].compile()
		if err != nil {
			errs = append(errs, fmt.Errorf("pool %s: %w", name, err))
		}
		pools[name] = pp
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("kubernetes provider: %w", err)
	}
	rc, err := restConfig(&cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes provider: %w", err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes provider: %w", err)
	}
	p := &Provider{
		cs: cs, controller: cfg.controller, namespace: cfg.namespace, pullTimeout: cfg.pullTimeout,
		pools: map[string]poolPods{}, host: rc.Host,
	}
	for name, pp := range pools {
		if pp.namespace == "" {
			pp.namespace = p.namespace
		}
		p.pools[name] = pp
	}
	p.log = cfg.log.With("provider", "kubernetes", "controller", p.controller)
	p.w = newWatcher(cs, p.controller, p.namespaces(), p.log)
	return p, nil
}

// restConfig loads the kubeconfig (or the in-cluster configuration) and
// fills cfg.namespace from it when unset.
func restConfig(cfg *config) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = cfg.kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{})
	rc, err := cc.ClientConfig()
	if err != nil {
		return nil, err
	}
	if cfg.namespace == "" {
		if cfg.namespace, _, err = cc.Namespace(); err != nil || cfg.namespace == "" {
			cfg.namespace = "default"
		}
	}
	rc.QPS, rc.Burst = 50, 100
	rc.UserAgent = "vermont-pool"
	return rc, nil
}

// Close stops the watches. Pods keep running.
func (p *Provider) Close() error {
	p.w.stop()
	return nil
}

// namespaces returns every namespace a pool uses, sorted.
func (p *Provider) namespaces() []string {
	set := map[string]bool{p.namespace: true}
	for _, pp := range p.pools {
		set[pp.namespace] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// pool returns the Pod options of a pool (the defaults for an unnamed one).
func (p *Provider) pool(name string) poolPods {
	if pp, ok := p.pools[name]; ok {
		return pp
	}
	return poolPods{namespace: p.namespace}
}

func secretName(instance string) string { return instance + "-jitconfig" }

// check rejects specs that cannot become a Pod.
func (p *Provider) check(spec vm.Spec) error {
	for _, msg := range validation.IsDNS1123Label(spec.Name) {
		return fmt.Errorf("create instance: name %q: %s", spec.Name, msg)
	}
	for _, msg := range validation.IsValidLabelValue(spec.Pool) {
		return fmt.Errorf("create instance %s: pool %q: %s", spec.Name, spec.Pool, msg)
	}
	for k, v := range spec.Labels {
		for _, msg := range validation.IsQualifiedName(k) {
			return fmt.Errorf("create instance %s: label %q: %s", spec.Name, k, msg)
		}
		for _, msg := range validation.IsValidLabelValue(v) {
			return fmt.Errorf("create instance %s: label %s value %q: %s", spec.Name, k, v, msg)
		}
	}
	for k := range spec.Env {
		for _, msg := range append(validation.IsEnvVarName(k), validation.IsConfigMapKey(envKey(k))...) {
			return fmt.Errorf("create instance %s: env %q: %s", spec.Name, k, msg)
		}
	}
	if spec.CPUs < 0 || spec.MemoryMB < 0 {
		return fmt.Errorf("create instance %s: negative limits (cpus %d, memory %d MB)", spec.Name, spec.CPUs, spec.MemoryMB)
	}
	return nil
}

// labels returns the labels stamped on an instance's Pod and Secret.
func (p *Provider) labels(spec vm.Spec) map[string]string {
	l := make(map[string]string, len(spec.Labels)+3)
	maps.Copy(l, spec.Labels)
	l[vm.LabelController] = p.controller
	l[vm.LabelPool] = spec.Pool
	l[vm.LabelInstance] = spec.Name
	return l
}

// Create creates the instance's Pod and Secret and returns once the Pod is
// Running. On any error, both are deleted, even when ctx was cancelled.
func (p *Provider) Create(ctx context.Context, spec vm.Spec) (inst vm.Instance, err error) {
	if err := p.check(spec); err != nil {
		return vm.Instance{}, err
	}
	if spec.Image == "" {
		spec.Image = DefaultImage
	}
	pp := p.pool(spec.Pool)
	pod := p.pod(spec, pp)
	created, err := p.cs.CoreV1().Pods(pp.namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		if apierrors.IsAlreadyExists(err) {
			return vm.Instance{}, fmt.Errorf("create instance %s: %w", spec.Name, err)
		}
		return vm.Instance{}, fmt.Errorf("create instance %s: pod: %w", spec.Name, err)
	}
	defer func() {
		if err != nil {
			p.cleanup(ctx, pp.namespace, spec.Name)
		}
	}()
	if _, err := p.cs.CoreV1().Secrets(pp.namespace).Create(ctx, p.secret(spec, created), metav1.CreateOptions{}); err != nil {
		return vm.Instance{}, fmt.Errorf("create instance %s: secret: %w", spec.Name, err)
	}
	running, err := p.w.waitRunning(ctx, pp.namespace, spec.Name, p.pullTimeout)
	if err != nil {
		return vm.Instance{}, fmt.Errorf("create instance %s: %w", spec.Name, err)
	}
	p.log.InfoContext(ctx, "instance running", "instance", spec.Name, "pool", spec.Pool, "namespace", pp.namespace,
		"image", spec.Image, "node", running.Spec.NodeName)
	return instance(running), nil
}

// pod builds an instance's Pod.
func (p *Provider) pod(spec vm.Spec, pp poolPods) *corev1.Pod {
	// Every variable comes from the Secret: Spec.Env holds the instance's
	// token (vm.EnvInstanceToken), and a Pod's spec is readable by anyone
	// who may get Pods.
	fromSecret := func(name, key string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: secretName(spec.Name)}, Key: key,
		}}}
	}
	env := make([]corev1.EnvVar, 0, len(spec.Env)+1)
	for _, k := range slices.Sorted(maps.Keys(spec.Env)) {
		if k != JITConfigEnv {
			env = append(env, fromSecret(k, envKey(k)))
		}
	}
	env = append(env, fromSecret(JITConfigEnv, jitKey))
	command := pp.command
	if len(command) == 0 && spec.Image == DefaultImage {
		command = DefaultCommand
	}
	mode := int32(0o400)
	automount := pp.sa != ""
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: spec.Name, Namespace: pp.namespace, Labels: p.labels(spec)},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name:      containerName,
				Image:     spec.Image,
				Command:   slices.Clone(command),
				Env:       env,
				Resources: podResources(spec, pp),
				VolumeMounts: []corev1.VolumeMount{{
					Name: "jitconfig", MountPath: JITConfigPath, SubPath: jitKey, ReadOnly: true,
				}},
			}},
			Volumes: []corev1.Volume{{Name: "jitconfig", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
				SecretName: secretName(spec.Name), DefaultMode: &mode,
			}}}},
			NodeSelector:                 maps.Clone(pp.nodeSelector),
			Tolerations:                  slices.Clone(pp.tolerations),
			RuntimeClassName:             pp.runtimeClass,
			ServiceAccountName:           pp.sa,
			AutomountServiceAccountToken: &automount,
			ImagePullSecrets:             slices.Clone(pp.pullSecrets),
		},
	}
}

// podResources merges the pool's requests and limits with Spec.CPUs and
// Spec.MemoryMB, which fill cpu and memory (request = limit) where the pool
// sets neither.
func podResources(spec vm.Spec, pp poolPods) corev1.ResourceRequirements {
	r := corev1.ResourceRequirements{Requests: maps.Clone(pp.requests), Limits: maps.Clone(pp.limits)}
	fill := func(name corev1.ResourceName, q resource.Quantity) {
		if _, ok := r.Requests[name]; ok {
			return
		}
		if _, ok := r.Limits[name]; ok {
			return
		}
		if r.Requests == nil {
			r.Requests = corev1.ResourceList{}
		}
		if r.Limits == nil {
			r.Limits = corev1.ResourceList{}
		}
		r.Requests[name], r.Limits[name] = q, q
	}
	if spec.CPUs > 0 {
		fill(corev1.ResourceCPU, *resource.NewQuantity(int64(spec.CPUs), resource.DecimalSI))
	}
	if spec.MemoryMB > 0 {
		fill(corev1.ResourceMemory, *resource.NewQuantity(int64(spec.MemoryMB)<<20, resource.BinarySI))
	}
	return r
}

// secret builds an instance's JIT config Secret, owned by its Pod.
func (p *Provider) secret(spec vm.Spec, pod *corev1.Pod) *corev1.Secret {
	immutable := true
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: secretName(spec.Name), Namespace: pod.Namespace, Labels: p.labels(spec),
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID}},
		},
		Type:      corev1.SecretTypeOpaque,
		Immutable: &immutable,
		Data:      secretData(spec),
	}
}

// envKey is the Secret key of the environment variable name; variable
// names are valid Secret keys (check).
func envKey(name string) string { return "env." + name }

// secretData is an instance's Secret: the runner config and Spec.Env.
func secretData(spec vm.Spec) map[string][]byte {
	data := make(map[string][]byte, len(spec.Env)+1)
	for k, v := range spec.Env {
		if k != JITConfigEnv {
			data[envKey(k)] = []byte(v)
		}
	}
	data[jitKey] = []byte(spec.RunnerConfig)
	return data
}

// cleanup deletes what a failed Create made, on a context that outlives
// ctx's cancellation.
func (p *Provider) cleanup(ctx context.Context, ns, name string) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := p.remove(cctx, ns, name); err != nil {
		p.log.ErrorContext(ctx, "clean up after failed create", "instance", name, "err", err)
	}
}

// remove deletes an instance's Secret, then its Pod (in this order, so
// that no crash leaves a Secret without the Pod that lists it). Missing
// ones are fine.
func (p *Provider) remove(ctx context.Context, ns, name string) error {
	var errs []error
	if err := p.cs.CoreV1().Secrets(ns).Delete(ctx, secretName(name), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		errs = append(errs, fmt.Errorf("delete secret %s/%s: %w", ns, secretName(name), err))
	}
	if err := p.cs.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		errs = append(errs, fmt.Errorf("delete pod %s/%s: %w", ns, name, err))
	}
	return errors.Join(errs...)
}

// Wait blocks until the instance's Pod has Succeeded or Failed and returns
// the runner container's exit code (1 for a Pod that failed without one,
// such as an evicted Pod). A Pod that does not exist, or is deleted while
// waiting, is reported with vm.ErrNotFound.
func (p *Provider) Wait(ctx context.Context, name string) (int, error) {
	code, err := p.w.waitExit(ctx, name)
	if err != nil {
		return 0, fmt.Errorf("wait for instance %s: %w", name, err)
	}
	return code, nil
}

// Destroy deletes the instance's Secret and Pod. An instance that does not
// exist is not an error. It returns once the deletions are accepted; the
// Pod may take its grace period to go.
func (p *Provider) Destroy(ctx context.Context, name string) error {
	for _, msg := range validation.IsDNS1123Label(name) {
		return fmt.Errorf("destroy instance: name %q: %s", name, msg)
	}
	nss := p.namespaces()
	if ns, ok := p.w.namespaceOf(name); ok {
		nss = []string{ns}
	}
	var errs []error
	for _, ns := range nss {
		errs = append(errs, p.remove(ctx, ns, name))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("destroy instance %s: %w", name, err)
	}
	p.log.InfoContext(ctx, "instance destroyed", "instance", name)
	return nil
}

// List returns this controller's instances in every namespace its pools
// use, sorted by name, asking the API server (not the watch cache). Pods
// being deleted are left out.
func (p *Provider) List(ctx context.Context) ([]vm.Instance, error) {
	var out []vm.Instance
	sel := metav1.ListOptions{LabelSelector: vm.LabelController + "=" + p.controller}
	for _, ns := range p.namespaces() {
		pods, err := p.cs.CoreV1().Pods(ns).List(ctx, sel)
		if err != nil {
			return nil, fmt.Errorf("list instances in %s: %w", ns, err)
		}
		for i := range pods.Items {
			pod := &pods.Items[i]
			if pod.DeletionTimestamp == nil && pod.Labels[vm.LabelInstance] != "" {
				out = append(out, instance(pod))
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// instance builds a vm.Instance from a Pod.
func instance(pod *corev1.Pod) vm.Instance {
	return vm.Instance{
		Name:      pod.Labels[vm.LabelInstance],
		Pool:      pod.Labels[vm.LabelPool],
		Labels:    maps.Clone(pod.Labels),
		Running:   pod.Status.Phase == corev1.PodRunning,
		CreatedAt: pod.CreationTimestamp.Time,
	}
}

// String describes the provider for logs.
func (p *Provider) String() string {
	return "kubernetes(" + strconv.Quote(p.host) + ", namespace " + p.namespace + ", controller " + p.controller + ")"
}
