package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/vermont-ci/vermont/vm"
)

// watcher keeps this controller's Pods in one informer per namespace. An
// informer lists, then watches from the list's resourceVersion; when the
// watch breaks (the API server restarted, a network blip) it resumes from
// the last resourceVersion it saw, and lists again only when that is too
// old (410 Gone), backing off while the API server is unreachable.
// Waiters block on changed, which is closed and replaced on every event.
type watcher struct {
	informers map[string]cache.SharedIndexInformer // namespace → informer
	stopCh    chan struct{}
	stopOnce  sync.Once
	log       *slog.Logger

	mu      sync.Mutex
	changed chan struct{}
	lastErr error // the last failed list or watch, until the next event
}

func newWatcher(cs kubernetes.Interface, controller string, namespaces []string, log *slog.Logger) *watcher {
	w := &watcher{informers: map[string]cache.SharedIndexInformer{}, stopCh: make(chan struct{}), changed: make(chan struct{}), log: log}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { w.event() },
		UpdateFunc: func(any, any) { w.event() },
		DeleteFunc: func(any) { w.event() },
	}
	for _, ns := range namespaces {
		lw := cache.NewFilteredListWatchFromClient(cs.CoreV1().RESTClient(), "pods", ns, func(o *metav1.ListOptions) {
			o.LabelSelector = vm.LabelController + "=" + controller
		})
		inf := cache.NewSharedIndexInformer(lw, &corev1.Pod{}, 0, cache.Indexers{})
		_, _ = inf.AddEventHandler(handler) // fails only on a started informer
		_ = inf.SetWatchErrorHandler(func(_ *cache.Reflector, err error) { w.watchFailed(ns, err) })
		w.informers[ns] = inf
		go inf.Run(w.stopCh)
	}
	return w
}

func (w *watcher) stop() { w.stopOnce.Do(func() { close(w.stopCh) }) }

// event wakes the waiters after a change to a Pod.
func (w *watcher) event() {
	w.mu.Lock()
	w.lastErr = nil
	close(w.changed)
	w.changed = make(chan struct{})
	w.mu.Unlock()
}

// watchFailed records a failed list or watch (the informer retries with
// backoff) and wakes the waiters, which give up at once when it is one
// that retrying cannot fix: no permission, or bad credentials. It replaces
// client-go's default handler, which logs through klog.
func (w *watcher) watchFailed(ns string, err error) {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return // the server closed the watch; it resumes
	}
	w.mu.Lock()
	wrapped := fmt.Errorf("watching pods in %s: %w", ns, err)
	repeated := w.lastErr != nil && w.lastErr.Error() == wrapped.Error()
	w.lastErr = wrapped
	close(w.changed)
	w.changed = make(chan struct{})
	w.mu.Unlock()
	if !repeated {
		w.log.Warn("watching pods failed; retrying", "namespace", ns, "err", err)
	}
}

// err returns the last failed list or watch since the last event.
func (w *watcher) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastErr
}

// fatal reports whether err is a watch failure that retrying cannot fix.
func fatal(err error) bool {
	return err != nil && (apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err))
}

// next returns the channel closed on the next event; take it before
// looking at the cache so that no event is missed.
func (w *watcher) next() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.changed
}

// synced reports whether every informer has listed once.
func (w *watcher) synced() bool {
	for _, inf := range w.informers {
		if !inf.HasSynced() {
			return false
		}
	}
	return true
}

// get returns the cached Pod ns/name.
func (w *watcher) get(ns, name string) (*corev1.Pod, bool) {
	inf := w.informers[ns]
	if inf == nil {
		return nil, false
	}
	obj, ok, err := inf.GetStore().GetByKey(ns + "/" + name)
	if err != nil || !ok {
		return nil, false
	}
	pod, ok := obj.(*corev1.Pod)
	return pod, ok
}

// find returns the cached Pod named name in any namespace.
func (w *watcher) find(name string) (*corev1.Pod, bool) {
	for ns := range w.informers {
		if pod, ok := w.get(ns, name); ok {
			return pod, true
		}
	}
	return nil, false
}

// namespaceOf returns the namespace of the cached Pod named name.
func (w *watcher) namespaceOf(name string) (string, bool) {
	pod, ok := w.find(name)
	if !ok {
		return "", false
	}
	return pod.Namespace, true
}

// pullFailure returns the waiting reason and message of a container that
// does not pull its image, and whether the failure is permanent.
func pullFailure(pod *corev1.Pod) (reason, msg string, permanent, failing bool) {
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.State.Waiting == nil {
			continue
		}
		switch r := cs.State.Waiting.Reason; r {
		case "InvalidImageName", "ErrImageNeverPull":
			return r, cs.State.Waiting.Message, true, true
		case "ErrImagePull", "ImagePullBackOff":
			return r, cs.State.Waiting.Message, false, true
		}
	}
	return "", "", false, false
}

// waitRunning waits until the Pod ns/name is Running. A Pod that ends
// first fails with ErrExited; one whose image does not pull, with
// ErrImagePull, at once for an invalid name and after pullTimeout
// otherwise. The cache may not have seen the Pod yet when this starts.
func (w *watcher) waitRunning(ctx context.Context, ns, name string, pullTimeout time.Duration) (*corev1.Pod, error) {
	deadline := time.NewTimer(pullTimeout)
	defer deadline.Stop()
	var seen, timedOut bool
	for {
		ch := w.next()
		pod, ok := w.get(ns, name)
		switch {
		case ok && pod.DeletionTimestamp != nil:
			return nil, fmt.Errorf("pod deleted while starting: %w", vm.ErrNotFound)
		case ok && pod.Status.Phase == corev1.PodRunning:
			return pod, nil
		case ok && (pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed):
			return nil, fmt.Errorf("%w (phase %s, exit code %d)", ErrExited, pod.Status.Phase, exitCode(pod))
		case ok:
			seen = true
			if reason, msg, permanent, failing := pullFailure(pod); failing && (permanent || timedOut) {
				return nil, fmt.Errorf("image %q: %s: %s: %w", podImage(pod), reason, msg, ErrImagePull)
			}
		case seen && w.synced():
			return nil, fmt.Errorf("pod vanished while starting: %w", vm.ErrNotFound)
		}
		if err := w.err(); !ok && fatal(err) { // read once: an event may clear it meanwhile
			return nil, err
		}
		select {
		case <-ch:
		case <-deadline.C:
			timedOut = true
		case <-ctx.Done():
			if err := w.err(); err != nil && pod == nil {
				return nil, fmt.Errorf("pod not seen running: %w (%w)", ctx.Err(), err)
			}
			return nil, waitErr(ctx, pod)
		}
	}
}

// waitErr says what the Pod was doing when ctx ended.
func waitErr(ctx context.Context, pod *corev1.Pod) error {
	if pod == nil {
		return fmt.Errorf("pod not seen running: %w", ctx.Err())
	}
	if reason, msg, _, failing := pullFailure(pod); failing {
		return fmt.Errorf("image %q: %s: %s: %w (%w)", podImage(pod), reason, msg, ErrImagePull, ctx.Err())
	}
	return fmt.Errorf("pod still %s: %w", pod.Status.Phase, ctx.Err())
}

func podImage(pod *corev1.Pod) string {
	if len(pod.Spec.Containers) == 0 {
		return ""
	}
	return pod.Spec.Containers[0].Image
}

// waitExit waits until the Pod named name has Succeeded or Failed and
// returns its exit code. A Pod the synced cache does not hold, or that is
// deleted, is vm.ErrNotFound.
func (w *watcher) waitExit(ctx context.Context, name string) (int, error) {
	for {
		ch := w.next()
		pod, ok := w.find(name)
		switch {
		case ok && (pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed):
			return exitCode(pod), nil
		case ok && pod.DeletionTimestamp != nil:
			return 0, fmt.Errorf("pod being deleted: %w", vm.ErrNotFound)
		case !ok && w.synced():
			return 0, vm.ErrNotFound
		}
		if err := w.err(); !ok && fatal(err) {
			return 0, err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// exitCode is the runner container's exit code; a failed Pod without one
// (evicted, deadline exceeded) counts as 1.
func exitCode(pod *corev1.Pod) int {
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name == containerName && cs.State.Terminated != nil {
			if c := int(cs.State.Terminated.ExitCode); c != 0 || pod.Status.Phase != corev1.PodFailed {
				return c
			}
		}
	}
	if pod.Status.Phase == corev1.PodFailed {
		return 1
	}
	return 0
}
