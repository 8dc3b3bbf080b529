//go:build !unix

package kubetest

import "errors"

// lockFile is not implemented off Unix: the test cluster runs on Linux only.
func lockFile(string) (func(), error) {
	return nil, errors.New("the Kubernetes test cluster runs on Linux only")
}
