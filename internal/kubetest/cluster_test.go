package kubetest

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var (
	shared Shared
	runs   atomic.Int64
)

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Close()
	os.Exit(code)
}

// waitPod polls a Pod until cond holds; the deadline only guards a hang.
func waitPod(t *testing.T, c *Cluster, ns, name, what string, cond func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		pod, err := c.Client.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err == nil && cond(pod) {
			return pod
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod %s: timed out waiting for %s (last: %+v, %v)\nkwok:\n%s", name, what, pod.Status, err, c.Logs("kwok"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testPod(name, image string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{{Name: "c", Image: image}},
		},
	}
}

// TestPodPhases drives Pods through the stages the provider tests rely on:
// running, exiting with a chosen code, a bad image stuck pulling, deletion;
// and survives an API server restart.
func TestPodPhases(t *testing.T) {
	c := shared.Get(t)
	ctx := context.Background()
	ns := fmt.Sprintf("phases-%d", runs.Add(1))
	if err := c.Namespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	pods := c.Client.CoreV1().Pods(ns)
	if _, err := pods.Create(ctx, testPod("ok", "busybox"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := waitPod(t, c, ns, "ok", "Running", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
	if pod.Spec.NodeName != NodeName {
		t.Errorf("node = %q, want %q", pod.Spec.NodeName, NodeName)
	}
	if err := c.Exit(ctx, ns, "ok", 7); err != nil {
		t.Fatal(err)
	}
	pod = waitPod(t, c, ns, "ok", "Failed", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodFailed })
	if got := pod.Status.ContainerStatuses[0].State.Terminated; got == nil || got.ExitCode != 7 {
		t.Errorf("terminated = %+v, want exit code 7", got)
	}

	if _, err := pods.Create(ctx, testPod("bad", BadImage), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod = waitPod(t, c, ns, "bad", "ImagePullBackOff", func(p *corev1.Pod) bool {
		return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Waiting != nil &&
			p.Status.ContainerStatuses[0].State.Waiting.Reason == "ImagePullBackOff"
	})
	if pod.Status.Phase != corev1.PodPending {
		t.Errorf("bad image: phase %s, want Pending", pod.Status.Phase)
	}

	if err := c.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	if err := c.StartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ok", "bad"} {
		if err := pods.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pods.Create(ctx, testPod("after-restart", "busybox"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitPod(t, c, ns, "after-restart", "Running after an API server restart", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
	deadline := time.Now().Add(time.Minute)
	for {
		list, err := pods.List(ctx, metav1.ListOptions{})
		if err == nil && len(list.Items) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deleted pods still there: %v %v", list, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
