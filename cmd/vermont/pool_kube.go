//go:build !thin

package main

import (
	"strconv"
	"time"

	"gopkg.in/yaml.v3"

	vmkube "github.com/vermont-ci/vermont/vm/kubernetes"
)

// kubeFile is a --config file's top-level kubernetes section: how to reach
// the cluster, shared by every kubernetes pool.
//
//	kubernetes:
//	  kubeconfig: /etc/vermont/kubeconfig   # default: $KUBECONFIG, ~/.kube/config, or in-cluster
//	  namespace: runners                    # default: the kubeconfig context's, or in-cluster
//	  pull-timeout: 5m
type kubeFile struct {
	kubeconfig  string
	namespace   string
	pullTimeout time.Duration
}

// parseKubeFile parses the top-level kubernetes section.
func parseKubeFile(n *yaml.Node, fail func(*yaml.Node, string, ...any)) kubeFile {
	var kf kubeFile
	if n.Kind != yaml.MappingNode {
		fail(n, "kubernetes: want a mapping")
		return kf
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "kubeconfig":
			kf.kubeconfig = yamlString(v, fail)
		case "namespace":
			kf.namespace = yamlString(v, fail)
		case "pull-timeout":
			kf.pullTimeout = yamlDuration(v, fail)
		default:
			fail(k, "unknown kubernetes key %q (want kubeconfig, namespace, pull-timeout)", k.Value)
		}
	}
	return kf
}

// parseKubePool parses a pool's kubernetes section: its Pods' settings.
//
//	kubernetes:
//	  namespace: runners
//	  requests: {cpu: 500m, memory: 1Gi}
//	  limits: {cpu: "2", memory: 4Gi}
//	  node-selector: {kubernetes.io/arch: amd64}
//	  tolerations: [{key: dedicated, value: ci, effect: NoSchedule}]
//	  runtime-class: gvisor
//	  service-account: runner
//	  image-pull-secrets: [regcred]
//	  command: [/home/runner/run.sh]
func parseKubePool(n *yaml.Node, fail func(*yaml.Node, string, ...any)) *vmkube.PoolOptions {
	o := &vmkube.PoolOptions{}
	if n.Kind != yaml.MappingNode {
		fail(n, "kubernetes: want a mapping")
		return o
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "namespace":
			o.Namespace = yamlString(v, fail)
		case "requests":
			o.Requests = yamlStringMap(v, fail)
		case "limits":
			o.Limits = yamlStringMap(v, fail)
		case "node-selector":
			o.NodeSelector = yamlStringMap(v, fail)
		case "tolerations":
			o.Tolerations = parseTolerations(v, fail)
		case "runtime-class":
			o.RuntimeClassName = yamlString(v, fail)
		case "service-account":
			o.ServiceAccount = yamlString(v, fail)
		case "image-pull-secrets":
			o.ImagePullSecrets = yamlStrings(v, fail)
		case "command":
			o.Command = yamlStrings(v, fail)
		default:
			fail(k, "unknown pool kubernetes key %q (want namespace, requests, limits, node-selector, tolerations, runtime-class, service-account, image-pull-secrets, command)", k.Value)
		}
	}
	return o
}

func parseTolerations(n *yaml.Node, fail func(*yaml.Node, string, ...any)) []vmkube.Toleration {
	if n.Kind != yaml.SequenceNode {
		fail(n, "tolerations: want a list")
		return nil
	}
	var out []vmkube.Toleration
	for _, tn := range n.Content {
		if tn.Kind != yaml.MappingNode {
			fail(tn, "toleration: want a mapping")
			continue
		}
		var t vmkube.Toleration
		for i := 0; i+1 < len(tn.Content); i += 2 {
			k, v := tn.Content[i], tn.Content[i+1]
			switch k.Value {
			case "key":
				t.Key = yamlString(v, fail)
			case "operator":
				t.Operator = yamlString(v, fail)
			case "value":
				t.Value = yamlString(v, fail)
			case "effect":
				t.Effect = yamlString(v, fail)
			case "seconds":
				s := int64(yamlInt(v, fail, 0))
				t.Seconds = &s
			default:
				fail(k, "unknown toleration key %q (want key, operator, value, effect, seconds)", k.Value)
			}
		}
		out = append(out, t)
	}
	return out
}

func yamlStringMap(n *yaml.Node, fail func(*yaml.Node, string, ...any)) map[string]string {
	if n.Kind != yaml.MappingNode {
		fail(n, "want a mapping of strings")
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		out[yamlString(n.Content[i], fail)] = yamlString(n.Content[i+1], fail)
	}
	return out
}

func yamlStrings(n *yaml.Node, fail func(*yaml.Node, string, ...any)) []string {
	if n.Kind != yaml.SequenceNode {
		fail(n, "want a list of strings")
		return nil
	}
	var out []string
	for _, s := range n.Content {
		out = append(out, yamlString(s, fail))
	}
	return out
}

func yamlDuration(n *yaml.Node, fail func(*yaml.Node, string, ...any)) time.Duration {
	d, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil || d <= 0 {
		fail(n, "want a positive duration such as 5m, got %s", strconv.Quote(n.Value))
		return 0
	}
	return d
}

// kubeOptions returns the provider options for the kubernetes pools of pf.
func kubeOptions(pf poolFile, controller string) []vmkube.Option {
	opts := []vmkube.Option{vmkube.WithControllerID(controller)}
	if pf.kube.kubeconfig != "" {
		opts = append(opts, vmkube.WithKubeconfig(pf.kube.kubeconfig))
	}
	if pf.kube.namespace != "" {
		opts = append(opts, vmkube.WithNamespace(pf.kube.namespace))
	}
	if pf.kube.pullTimeout > 0 {
		opts = append(opts, vmkube.WithPullTimeout(pf.kube.pullTimeout))
	}
	for _, ps := range pf.pools {
		if ps.provider == "kubernetes" && ps.kube != nil {
			opts = append(opts, vmkube.WithPool(ps.name, *ps.kube))
		}
	}
	return opts
}
