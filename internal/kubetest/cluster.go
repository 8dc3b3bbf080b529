// Package kubetest starts a real Kubernetes control plane for tests: Debian's
// etcd, kube-apiserver built from the Go module proxy, and kwok, which moves
// Pods through their phases since no kubelet runs. There is no scheduler nor
// controller-manager: the cluster binds unscheduled Pods to its one kwok
// Node itself, and creates the default ServiceAccount of each namespace it
// is asked for (Namespace).
//
// Pods of BadImage stay Pending in ImagePullBackOff; a running Pod exits
// with code N once annotated ExitCodeAnnotation=N (Exit does that).
//
// The binaries are built once per machine (Build, or `go run
// ./internal/kubetest/cmd/kubebuild`) under os.UserCacheDir()/vermont/kube.
// It is for tests only, and runs on Linux.
package kubetest

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Test hooks the kwok stages react to.
const (
	// BadImage is an image whose Pods never pull: they stay Pending with
	// the container waiting in ImagePullBackOff.
	BadImage = "registry.invalid/vermont/no-such-image:0"
	// ExitCodeAnnotation on a running Pod makes its container terminate
	// with that exit code (0: Succeeded, else Failed).
	ExitCodeAnnotation = "kubetest.vermont.dev/exit-code"
	// NodeName is the cluster's one (kwok) Node.
	NodeName = "kwok-node-0"
	// User is an authenticated user with no permissions of its own, for
	// tests of what a provider does without them (grant some with RBAC).
	User = "kubetest-user"
)

//go:embed stages.yaml
var stagesYAML string

// Cluster is a running test control plane.
type Cluster struct {
	// Kubeconfig is the path of a kubeconfig for the admin (a
	// system:masters bearer token), context "kubetest".
	Kubeconfig string
	// UserKubeconfig is the same for User.
	UserKubeconfig string
	// Config and Client talk to the API server as the admin.
	Config *rest.Config
	Client kubernetes.Interface

	dir     string
	bins    Binaries
	sec     secrets
	etcdURL string
	apiPort int

	mu        sync.Mutex
	etcd      *proc
	apiserver *proc
	kwok      *proc
	stopBind  context.CancelFunc
	bindDone  chan struct{}
}

// proc is a started child process.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Start starts etcd, kube-apiserver and kwok with their state in dir (a
// test's temp dir), waits until the API server is ready, and creates the
// kwok Node and the default namespace's ServiceAccount. The binaries must be
// built (Cached); etcd must be on PATH. Close stops everything.
func Start(ctx context.Context, dir string) (c *Cluster, err error) {
	bins, err := Cached()
	if err != nil {
		return nil, err
	}
	if _, err := lookEtcd(); err != nil {
		return nil, err
	}
	c = &Cluster{dir: dir, bins: bins}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	if c.sec, err = writeSecrets(dir); err != nil {
		return nil, fmt.Errorf("kubetest: secrets: %w", err)
	}
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	c.etcdURL = "http://127.0.0.1:" + strconv.Itoa(ports[0])
	c.apiPort = ports[2]
	c.etcd, err = start(dir, "etcd", "etcd",
		"--data-dir="+filepath.Join(dir, "etcd"),
		"--name=kubetest",
		"--listen-client-urls="+c.etcdURL, "--advertise-client-urls="+c.etcdURL,
		"--listen-peer-urls=http://127.0.0.1:"+strconv.Itoa(ports[1]),
		"--initial-advertise-peer-urls=http://127.0.0.1:"+strconv.Itoa(ports[1]),
		"--initial-cluster=kubetest=http://127.0.0.1:"+strconv.Itoa(ports[1]),
		"--unsafe-no-fsync")
	if err != nil {
		return nil, err
	}
	server := "https://127.0.0.1:" + strconv.Itoa(c.apiPort)
	c.Kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(c.Kubeconfig, c.sec.kubeconfig(server, c.sec.token), 0o600); err != nil {
		return nil, fmt.Errorf("kubetest: %w", err)
	}
	c.UserKubeconfig = filepath.Join(dir, "kubeconfig-user")
	if err := os.WriteFile(c.UserKubeconfig, c.sec.kubeconfig(server, c.sec.userToken), 0o600); err != nil {
		return nil, fmt.Errorf("kubetest: %w", err)
	}
	if c.Config, err = clientcmd.BuildConfigFromFlags("", c.Kubeconfig); err != nil {
		return nil, fmt.Errorf("kubetest: %w", err)
	}
	c.Config.QPS, c.Config.Burst = 200, 400
	if c.Client, err = kubernetes.NewForConfig(c.Config); err != nil {
		return nil, fmt.Errorf("kubetest: %w", err)
	}
	if err := c.StartAPIServer(ctx); err != nil {
		return nil, err
	}
	if err := c.Namespace(ctx, "default"); err != nil {
		return nil, err
	}
	if err := c.createNode(ctx); err != nil {
		return nil, err
	}
	stages := strings.NewReplacer("{{BAD_IMAGE}}", BadImage, "{{EXIT_ANNOTATION}}", ExitCodeAnnotation).Replace(stagesYAML)
	stagesFile := filepath.Join(dir, "kwok.yaml")
	if err := os.WriteFile(stagesFile, []byte(stages), 0o644); err != nil {
		return nil, fmt.Errorf("kubetest: %w", err)
	}
	c.kwok, err = start(dir, "kwok", bins.Kwok,
		"--kubeconfig="+c.Kubeconfig, "--config="+stagesFile,
		"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		"--cidr=10.0.0.1/16", "--node-ip=10.0.0.1")
	if err != nil {
		return nil, err
	}
	bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.stopBind, c.bindDone = cancel, make(chan struct{})
	go c.bind(bctx)
	if err := c.waitNodeReady(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// StartAPIServer starts kube-apiserver (again, after StopAPIServer: same
// port, same etcd) and waits until it is ready.
func (c *Cluster) StartAPIServer(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.apiserver != nil {
		return errors.New("kubetest: kube-apiserver already running")
	}
	p, err := start(c.dir, "kube-apiserver", c.bins.APIServer,
		"--etcd-servers="+c.etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(c.apiPort),
		"--tls-cert-file="+c.sec.certFile, "--tls-private-key-file="+c.sec.keyFile,
		"--cert-dir="+filepath.Join(c.dir, "certs"),
		"--token-auth-file="+c.sec.tokenFile,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+c.sec.saPub,
		"--service-account-signing-key-file="+c.sec.saKey,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--endpoint-reconciler-type=none",
		"--enable-priority-and-fairness=false",
		// Debian's etcd (3.4.23) lacks the watch progress requests that
		// streaming lists need, so the API server cannot serve them; with
		// the gate on it accepts the request and then ends the watch with
		// an error, and every informer stalls until it relists. Off, it
		// refuses sendInitialEvents and clients fall back to LIST+WATCH.
		"--feature-gates=WatchList=false",
		"--profiling=false")
	if err != nil {
		return err
	}
	c.apiserver = p
	if err := c.waitReady(ctx, p); err != nil {
		return err
	}
	return nil
}

// StopAPIServer kills kube-apiserver, as a crash would (its graceful
// shutdown takes its time over open watches); etcd, kwok and their state
// stay.
func (c *Cluster) StopAPIServer() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.apiserver == nil {
		return errors.New("kubetest: kube-apiserver not running")
	}
	_ = c.apiserver.cmd.Process.Kill()
	<-c.apiserver.done
	c.apiserver = nil
	return nil
}

// Close stops kwok, kube-apiserver and etcd.
func (c *Cluster) Close() {
	if c.stopBind != nil {
		c.stopBind()
		<-c.bindDone
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range []*proc{c.kwok, c.apiserver, c.etcd} {
		if p != nil {
			p.stop()
		}
	}
	c.kwok, c.apiserver, c.etcd = nil, nil, nil
}

// Logs returns the tail of a component's log ("etcd", "kube-apiserver",
// "kwok"), for failure messages.
func (c *Cluster) Logs(name string) string {
	data, _ := os.ReadFile(filepath.Join(c.dir, name+".log"))
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}

// start starts a component with its output in dir/<name>.log.
func start(dir, name, bin string, args ...string) (*proc, error) {
	log, err := os.OpenFile(filepath.Join(dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("kubetest: %w", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("kubetest: start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		log.Close()
		close(p.done)
	}()
	return p, nil
}

// stop sends SIGTERM, then SIGKILL after 10 s, and waits.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// waitReady polls /readyz until it answers ok, p exits, or a minute passes.
func (c *Cluster) waitReady(ctx context.Context, p *proc) error {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	var last error
	for {
		body, err := c.Client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err == nil && bytes.Equal(bytes.TrimSpace(body), []byte("ok")) {
			return nil
		}
		last = err
		select {
		case <-p.done:
			return fmt.Errorf("kubetest: kube-apiserver exited: %v\n%s", p.err, c.Logs("kube-apiserver"))
		case <-ctx.Done():
			return fmt.Errorf("kubetest: kube-apiserver not ready: %w (last: %v)\n%s", ctx.Err(), last, c.Logs("kube-apiserver"))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Namespace creates namespace ns (if needed) and its default ServiceAccount,
// which the ServiceAccount admission plugin requires of every Pod and which
// no controller-manager creates here.
func (c *Cluster) Namespace(ctx context.Context, ns string) error {
	_, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("kubetest: namespace %s: %w", ns, err)
	}
	_, err = c.Client.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("kubetest: service account %s/default: %w", ns, err)
	}
	return nil
}

// createNode registers the kwok Node, without taints.
func (c *Cluster) createNode(ctx context.Context) error {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name:        NodeName,
		Annotations: map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
		Labels:      map[string]string{"type": "kwok", "kubernetes.io/hostname": NodeName, "kubernetes.io/os": "linux"},
	}}
	_, err := c.Client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("kubetest: node: %w", err)
	}
	return nil
}

// waitNodeReady waits for kwok to mark the Node Ready.
func (c *Cluster) waitNodeReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		n, err := c.Client.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err == nil {
			for _, cond := range n.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					return nil
				}
			}
		}
		select {
		case <-c.kwok.done:
			return fmt.Errorf("kubetest: kwok exited: %v\n%s", c.kwok.err, c.Logs("kwok"))
		case <-ctx.Done():
			return fmt.Errorf("kubetest: node %s not ready: %w\n%s", NodeName, ctx.Err(), c.Logs("kwok"))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Exit makes a running Pod's container exit with code (through kwok's
// pod-exit stage).
func (c *Cluster) Exit(ctx context.Context, ns, pod string, code int) error {
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, ExitCodeAnnotation, strconv.Itoa(code))
	_, err := c.Client.CoreV1().Pods(ns).Patch(ctx, pod, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("kubetest: exit %s/%s: %w", ns, pod, err)
	}
	return nil
}

// lookEtcd finds Debian's etcd.
func lookEtcd() (string, error) {
	p, err := exec.LookPath("etcd")
	if err != nil {
		return "", fmt.Errorf("kubetest: etcd not found (Debian: apt-get install etcd-server): %w", err)
	}
	return p, nil
}

// freePorts returns n distinct free loopback ports.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("kubetest: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
