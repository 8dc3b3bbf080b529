// Command kubebuild builds the Kubernetes test binaries (kube-apiserver and
// kwok) into the user cache, once per machine; internal/testall runs it
// before go test, so the test timeout is not spent on a cold build.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/vermont-ci/vermont/internal/kubetest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	b, err := kubetest.Build(ctx, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kubebuild:", err)
		os.Exit(1)
	}
	fmt.Printf("kube-apiserver %s: %s\nkwok %s: %s\n(%s)\n", kubetest.KubeVersion, b.APIServer, kubetest.KwokVersion, b.Kwok, time.Since(start).Round(time.Second))
}
