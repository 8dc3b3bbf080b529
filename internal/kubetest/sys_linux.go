package kubetest

import "syscall"

// sysProcAttr kills a component when the test binary dies, so no etcd or
// kube-apiserver outlives a crashed test.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
