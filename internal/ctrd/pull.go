package ctrd

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	remoteerrors "github.com/containerd/containerd/v2/core/remotes/errors"
	"github.com/containerd/errdefs"
	"github.com/containerd/log"
	"github.com/distribution/reference"
	"github.com/sirupsen/logrus"
)

// credentials log in to one registry.
type credentials struct {
	username, password string
}

// WithCredentials gives the username and password (or token) of the
// registry at host for Image's pulls. host is the registry as an image
// reference names it ("ghcr.io", "127.0.0.1:5000", "docker.io" for Docker
// Hub); RegistryHost gives it. The credentials go to that registry and to
// the token service its challenge names, as with Docker, and never to
// another registry. Given twice for one host, the last one counts.
func WithCredentials(host, username, password string) ImageOption {
	return func(c *imageConfig) {
		if c.creds == nil {
			c.creds = map[string]credentials{}
		}
		c.creds[requestHost(host)] = credentials{username: username, password: password}
	}
}

// RegistryHost returns the registry of an image reference, as
// WithCredentials wants it: "docker.io" for "busybox", "ghcr.io" for
// "ghcr.io/octo/app:1".
func RegistryHost(ref string) (string, error) {
	n, err := reference.ParseDockerRef(ref)
	if err != nil {
		return "", fmt.Errorf("image reference %q: %w", ref, err)
	}
	return reference.Domain(n), nil
}

// requestHost is the host a registry's requests go to: references to
// Docker Hub say docker.io, but its registry answers at
// registry-1.docker.io, and that is the host containerd asks credentials
// for.
func requestHost(host string) string {
	switch host {
	case "docker.io", "index.docker.io":
		return "registry-1.docker.io"
	}
	return host
}

// credentialsFor answers containerd's authorizer, which asks by the host of
// the request that was refused.
func (cfg *imageConfig) credentialsFor(host string) (string, string, error) {
	cr := cfg.creds[host]
	return cr.username, cr.password, nil
}

// secrets are the strings an error or a log must never show: every
// password, also as it travels in a Basic header and in a form.
func (cfg *imageConfig) secrets() []string {
	var out []string
	for _, cr := range cfg.creds {
		if cr.password == "" {
			continue
		}
		out = append(out, cr.password,
			base64.StdEncoding.EncodeToString([]byte(cr.username+":"+cr.password)),
			url.QueryEscape(cr.password))
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// pull fetches ref from its registry into the namespace and unpacks it.
func (c *Client) pull(ctx context.Context, ref string, cfg imageConfig) (client.Image, error) {
	transport := docker.DefaultHTTPTransport(nil)
	defer transport.CloseIdleConnections()
	hc := &http.Client{Transport: httpsOnly{next: transport}}
	authorizer := docker.NewDockerAuthorizer(docker.WithAuthClient(hc), docker.WithAuthCreds(cfg.credentialsFor))
	resolver := docker.NewResolver(docker.ResolverOptions{Hosts: docker.ConfigureDefaultRegistries(
		docker.WithClient(hc),
		docker.WithAuthorizer(authorizer),
		docker.WithPlainHTTP(docker.MatchLocalhost),
	)})
	img, err := c.c.Pull(quiet(ctx), normalizeRef(ref),
		client.WithResolver(resolver), client.WithPullUnpack, client.WithPullSnapshotter(c.snapshotter))
	if err != nil {
		return nil, c.pullError(ref, &cfg, err)
	}
	return img, nil
}

// quiet gives containerd's code a logger that drops everything. Its
// resolver logs every retry and failure at info level on the process's
// stderr, past Vermont's logger and secret masking, and at debug level the
// bodies of failed token requests, which a registry may fill with what it
// was sent. The error Image returns says what went wrong.
func quiet(ctx context.Context) context.Context {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return log.WithLogger(ctx, logrus.NewEntry(l))
}

// httpsOnly refuses plain HTTP to any host but a loopback one. A registry
// on this machine may speak plain HTTP (docker.MatchLocalhost); every other
// registry, and every token service or blob location a registry names,
// must be HTTPS, so that credentials and tokens never cross a network in
// clear.
type httpsOnly struct {
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t httpsOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" && !docker.IsLocalhost(req.URL.Host) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("refusing plain HTTP to %s: only a registry on this machine may use it", req.URL.Host)
	}
	return t.next.RoundTrip(req)
}

// pullError explains why pulling ref failed: ErrUnauthorized when the
// registry refused, ErrImageNotFound otherwise. Its text never holds a
// password.
func (c *Client) pullError(ref string, cfg *imageConfig, err error) error {
	host, _ := RegistryHost(ref)
	cr, hasCreds := cfg.creds[requestHost(host)]
	var (
		kind = ErrImageNotFound
		why  = fmt.Sprintf("%s is not in containerd namespace %q and pulling it failed", ref, c.namespace)
	)
	switch {
	case refused(err) && !hasCreds:
		kind, why = ErrUnauthorized, fmt.Sprintf("registry %s refused to let %s be pulled without credentials (the image is private, or not there)", host, ref)
	case refused(err) && cr.password == "":
		kind, why = ErrUnauthorized, fmt.Sprintf("registry %s refused to let %s be pulled with the credentials given, whose password is empty", host, ref)
	case refused(err):
		kind, why = ErrUnauthorized, fmt.Sprintf("registry %s refused the credentials given for %s (wrong username or password, or no pull access to the image)", host, ref)
	case errdefs.IsNotFound(err):
		why += fmt.Sprintf(": registry %s does not have it", host)
	}
	return scrub(kind, why, err, cfg.secrets())
}

// refused reports whether a registry or its token service turned the pull
// down for want of authorization.
func refused(err error) bool {
	var status remoteerrors.ErrUnexpectedStatus
	if errors.As(err, &status) && (status.StatusCode == http.StatusUnauthorized || status.StatusCode == http.StatusForbidden) {
		return true
	}
	return errors.Is(err, docker.ErrInvalidAuthorization) || errdefs.IsUnauthorized(err) || errdefs.IsPermissionDenied(err)
}

// scrub returns the error "kind: why: cause". When the cause's text holds a
// secret (a registry may repeat what it was sent), the text is redacted,
// and the error unwraps only to kind and to a context error of the cause,
// never to the cause itself.
func scrub(kind error, why string, cause error, secrets []string) error {
	err := fmt.Errorf("%w: %s: %w", kind, why, cause)
	text := err.Error()
	for _, s := range secrets {
		text = strings.ReplaceAll(text, s, "***")
	}
	if text == err.Error() {
		return err
	}
	chain := []error{kind}
	for _, e := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(cause, e) {
			chain = append(chain, e)
		}
	}
	return &redactedError{text: text, chain: chain}
}

// redactedError is an error whose cause had to be left out.
type redactedError struct {
	text  string
	chain []error
}

func (e *redactedError) Error() string   { return e.text }
func (e *redactedError) Unwrap() []error { return e.chain }
