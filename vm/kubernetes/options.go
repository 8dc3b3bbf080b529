package kubernetes

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Defaults used when an option is not given.
const (
	// DefaultImage is GitHub's runner image; Pods of it run
	// DefaultCommand, which reads the JIT config from JITConfigEnv.
	DefaultImage        = "ghcr.io/actions/actions-runner:latest"
	DefaultControllerID = "vermont"
	// DefaultPullTimeout bounds how long Create waits for a Pod whose image
	// does not pull (ErrImagePull, ImagePullBackOff) before failing.
	DefaultPullTimeout = 5 * time.Minute
)

// DefaultCommand is the runner image's entry point, as
// actions-runner-controller runs it.
var DefaultCommand = []string{"/home/runner/run.sh"}

// PoolOptions are the Pod settings of one pool's instances. The zero value
// runs in the provider's namespace with no requests, limits or placement.
type PoolOptions struct {
	// Namespace holds the pool's Pods and Secrets (default: the
	// kubeconfig context's namespace, or the in-cluster one, or "default").
	Namespace string
	// Requests and Limits map resource names (cpu, memory,
	// ephemeral-storage, …) to quantities ("500m", "2Gi"). Spec.CPUs and
	// Spec.MemoryMB, when set, fill cpu and memory where these do not.
	Requests map[string]string
	Limits   map[string]string
	// NodeSelector constrains the Pods to Nodes with these labels.
	NodeSelector map[string]string
	// Tolerations let the Pods run on tainted Nodes.
	Tolerations []Toleration
	// RuntimeClassName selects a RuntimeClass, such as gVisor's or Kata's.
	RuntimeClassName string
	// ServiceAccount runs the Pods as this ServiceAccount and mounts its
	// token; without it no token is mounted.
	ServiceAccount string
	// ImagePullSecrets name Secrets (in Namespace) for pulling the image.
	ImagePullSecrets []string
	// Command overrides the image's entry point; DefaultCommand is used for
	// DefaultImage when Command is empty.
	Command []string
}

// Toleration is a Pod toleration, as in the Kubernetes API.
type Toleration struct {
	Key      string
	Operator string // Exists or Equal (default)
	Value    string
	Effect   string // NoSchedule, PreferNoSchedule, NoExecute or empty (all)
	// Seconds bounds how long a NoExecute taint is tolerated; nil: forever.
	Seconds *int64
}

// poolPods is a pool's PoolOptions, checked and converted.
type poolPods struct {
	namespace    string
	requests     corev1.ResourceList
	limits       corev1.ResourceList
	nodeSelector map[string]string
	tolerations  []corev1.Toleration
	runtimeClass *string
	sa           string
	pullSecrets  []corev1.LocalObjectReference
	command      []string
}

// compile checks o and converts it.
func (o PoolOptions) compile() (poolPods, error) {
	var errs []error
	pp := poolPods{namespace: o.Namespace, nodeSelector: o.NodeSelector, sa: o.ServiceAccount, command: o.Command}
	if o.Namespace != "" {
		for _, msg := range validation.IsDNS1123Label(o.Namespace) {
			errs = append(errs, fmt.Errorf("namespace %q: %s", o.Namespace, msg))
		}
	}
	var err error
	if pp.requests, err = resources("requests", o.Requests); err != nil {
		errs = append(errs, err)
	}
	if pp.limits, err = resources("limits", o.Limits); err != nil {
		errs = append(errs, err)
	}
	for k, v := range o.NodeSelector {
		for _, msg := range validation.IsQualifiedName(k) {
			errs = append(errs, fmt.Errorf("nodeSelector key %q: %s", k, msg))
		}
		for _, msg := range validation.IsValidLabelValue(v) {
			errs = append(errs, fmt.Errorf("nodeSelector %s value %q: %s", k, v, msg))
		}
	}
	for i, t := range o.Tolerations {
		ct, err := t.compile()
		if err != nil {
			errs = append(errs, fmt.Errorf("tolerations[%d]: %w", i, err))
		}
		pp.tolerations = append(pp.tolerations, ct)
	}
	if o.RuntimeClassName != "" {
		for _, msg := range validation.IsDNS1123Subdomain(o.RuntimeClassName) {
			errs = append(errs, fmt.Errorf("runtimeClassName %q: %s", o.RuntimeClassName, msg))
		}
		rc := o.RuntimeClassName
		pp.runtimeClass = &rc
	}
	if o.ServiceAccount != "" {
		for _, msg := range validation.IsDNS1123Subdomain(o.ServiceAccount) {
			errs = append(errs, fmt.Errorf("serviceAccount %q: %s", o.ServiceAccount, msg))
		}
	}
	for _, s := range o.ImagePullSecrets {
		for _, msg := range validation.IsDNS1123Subdomain(s) {
			errs = append(errs, fmt.Errorf("imagePullSecrets %q: %s", s, msg))
		}
		pp.pullSecrets = append(pp.pullSecrets, corev1.LocalObjectReference{Name: s})
	}
	return pp, errors.Join(errs...)
}

func resources(what string, m map[string]string) (corev1.ResourceList, error) {
	if len(m) == 0 {
		return nil, nil
	}
	out := corev1.ResourceList{}
	var errs []error
	for k, v := range m {
		q, err := resource.ParseQuantity(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %q is not a quantity (such as 500m or 2Gi)", what, k, v))
			continue
		}
		if q.Sign() < 0 {
			errs = append(errs, fmt.Errorf("%s %s: %q is negative", what, k, v))
			continue
		}
		out[corev1.ResourceName(k)] = q
	}
	return out, errors.Join(errs...)
}

func (t Toleration) compile() (corev1.Toleration, error) {
	ct := corev1.Toleration{Key: t.Key, Value: t.Value, TolerationSeconds: t.Seconds}
	switch t.Operator {
	case "", "Equal":
		ct.Operator = corev1.TolerationOpEqual
	case "Exists":
		ct.Operator = corev1.TolerationOpExists
		if t.Value != "" {
			return ct, fmt.Errorf("operator Exists takes no value (got %q)", t.Value)
		}
	default:
		return ct, fmt.Errorf("operator %q: want Equal or Exists", t.Operator)
	}
	switch corev1.TaintEffect(t.Effect) {
	case "", corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		ct.Effect = corev1.TaintEffect(t.Effect)
	default:
		return ct, fmt.Errorf("effect %q: want NoSchedule, PreferNoSchedule or NoExecute", t.Effect)
	}
	if t.Key == "" && ct.Operator != corev1.TolerationOpExists {
		return ct, errors.New("an empty key needs operator Exists")
	}
	if t.Seconds != nil && ct.Effect != corev1.TaintEffectNoExecute {
		return ct, errors.New("seconds applies to effect NoExecute only")
	}
	return ct, nil
}

type config struct {
	kubeconfig  string
	namespace   string
	controller  string
	pullTimeout time.Duration
	pools       map[string]PoolOptions
	log         *slog.Logger
}

// Option configures New.
type Option func(*config) error

// WithKubeconfig reads the cluster, credentials and default namespace from
// a kubeconfig file. Without it New uses $KUBECONFIG or ~/.kube/config when
// present, and the in-cluster service account otherwise.
func WithKubeconfig(path string) Option {
	return func(c *config) error {
		if path == "" {
			return errors.New("kubeconfig path must not be empty")
		}
		c.kubeconfig = path
		return nil
	}
}

// WithNamespace sets the namespace of pools that name none.
func WithNamespace(ns string) Option {
	return func(c *config) error {
		for _, msg := range validation.IsDNS1123Label(ns) {
			return fmt.Errorf("namespace %q: %s", ns, msg)
		}
		c.namespace = ns
		return nil
	}
}

// WithControllerID sets the controller ID stamped on every Pod and Secret as
// the vm.LabelController label (default "vermont"). List and reconciliation
// see only this controller's Pods.
func WithControllerID(id string) Option {
	return func(c *config) error {
		for _, msg := range validation.IsValidLabelValue(id) {
			return fmt.Errorf("controller ID %q: %s", id, msg)
		}
		if id == "" {
			return errors.New("controller ID must not be empty")
		}
		c.controller = id
		return nil
	}
}

// WithPool sets the Pod options of the pool named name.
func WithPool(name string, o PoolOptions) Option {
	return func(c *config) error {
		if c.pools == nil {
			c.pools = map[string]PoolOptions{}
		}
		c.pools[name] = o
		return nil
	}
}

// WithPullTimeout bounds how long Create waits on a Pod whose image does not
// pull (default DefaultPullTimeout).
func WithPullTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("pull timeout must be positive, got %s", d)
		}
		c.pullTimeout = d
		return nil
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.log = l
		return nil
	}
}
