package kubetest

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// bind stands in for kube-scheduler: it binds every unscheduled Pod to the
// kwok Node, ignoring nodeSelector, tolerations and resources (there is one
// Node). It lists, then watches, and starts over when the watch ends (the
// API server stopped, or the watch expired).
func (c *Cluster) bind(ctx context.Context) {
	defer close(c.bindDone)
	opts := metav1.ListOptions{FieldSelector: "spec.nodeName="}
	for ctx.Err() == nil {
		pods, err := c.Client.CoreV1().Pods("").List(ctx, opts)
		if err != nil {
			sleep(ctx, 200*time.Millisecond)
			continue
		}
		for i := range pods.Items {
			c.bindPod(ctx, &pods.Items[i])
		}
		wopts := opts
		wopts.ResourceVersion = pods.ResourceVersion
		w, err := c.Client.CoreV1().Pods("").Watch(ctx, wopts)
		if err != nil {
			sleep(ctx, 200*time.Millisecond)
			continue
		}
		for ev := range w.ResultChan() {
			if pod, ok := ev.Object.(*corev1.Pod); ok && ev.Type == watch.Added {
				c.bindPod(ctx, pod)
			}
		}
		w.Stop()
	}
}

func (c *Cluster) bindPod(ctx context.Context, pod *corev1.Pod) {
	if pod.Spec.NodeName != "" || pod.DeletionTimestamp != nil {
		return
	}
	b := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: NodeName},
	}
	// A Pod deleted or bound meanwhile fails here; nothing to do then.
	_ = c.Client.CoreV1().Pods(pod.Namespace).Bind(ctx, b, metav1.CreateOptions{})
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
