package ctrd

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// roundTripFunc records that the request got through.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestHTTPSOnly checks that plain HTTP reaches only loopback hosts: a
// registry's token realm or blob redirect on another host must be HTTPS,
// so a password never crosses a network in clear.
func TestHTTPSOnly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url     string
		allowed bool
	}{
		{url: "http://127.0.0.1:5000/v2/", allowed: true},
		{url: "http://localhost:5000/token", allowed: true},
		{url: "http://[::1]:5000/v2/", allowed: true},
		{url: "https://ghcr.io/token", allowed: true},
		{url: "http://203.0.113.7/token?scope=repository:x:pull", allowed: false},
		{url: "http://registry.example.com/v2/", allowed: false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			reached := false
			rt := httpsOnly{next: roundTripFunc(func(*http.Request) (*http.Response, error) {
				reached = true
				return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}, nil
			})}
			req, err := http.NewRequest(http.MethodPost, tt.url, strings.NewReader("password=secret"))
			if err != nil {
				t.Fatal(err)
			}
			_, err = rt.RoundTrip(req)
			if reached != tt.allowed || (err == nil) != tt.allowed {
				t.Errorf("RoundTrip(%s): reached %v, err %v; want allowed=%v", tt.url, reached, err, tt.allowed)
			}
			if err != nil && !strings.Contains(err.Error(), "refusing plain HTTP") {
				t.Errorf("error %q should say why", err)
			}
		})
	}
}

func TestCredentialsByHost(t *testing.T) {
	t.Parallel()
	var cfg imageConfig
	for _, o := range []ImageOption{
		WithCredentials("docker.io", "hub-user", "hub-pw"),
		WithCredentials("127.0.0.1:5000", "local", "first"),
		WithCredentials("127.0.0.1:5000", "local", "second"),
	} {
		o(&cfg)
	}
	tests := []struct{ host, user, pass string }{
		{host: "registry-1.docker.io", user: "hub-user", pass: "hub-pw"}, // where Docker Hub's requests go
		{host: "127.0.0.1:5000", user: "local", pass: "second"},
		{host: "127.0.0.1:5001"},
		{host: "ghcr.io"},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			u, p, err := cfg.credentialsFor(tt.host)
			if err != nil || u != tt.user || p != tt.pass {
				t.Errorf("credentialsFor(%s) = %q, %q, %v; want %q, %q", tt.host, u, p, err, tt.user, tt.pass)
			}
		})
	}
}

func TestScrub(t *testing.T) {
	t.Parallel()
	var cfg imageConfig
	WithCredentials("r.example", "user", "p@ss word")(&cfg)
	secrets := cfg.secrets()
	tests := []struct {
		name      string
		cause     error
		wantText  string
		wantCause bool // the cause stays in the chain
		wantCtx   error
	}{
		{name: "clean cause is wrapped", cause: errors.New("401 Unauthorized"),
			wantText: "unauthorized: why: 401 Unauthorized", wantCause: true},
		{name: "password", cause: errors.New("denied for user:p@ss word"),
			wantText: "unauthorized: why: denied for user:***"},
		{name: "basic header", cause: errors.New("sent Basic dXNlcjpwQHNzIHdvcmQ="),
			wantText: "unauthorized: why: sent Basic ***"},
		{name: "form", cause: errors.New("body password=p%40ss+word"),
			wantText: "unauthorized: why: body password=***"},
		{name: "context kept", cause: fmt.Errorf("p@ss word: %w", context.Canceled),
			wantText: "unauthorized: why: ***: context canceled", wantCtx: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := scrub(ErrUnauthorized, "why", tt.cause, secrets)
			if err.Error() != tt.wantText {
				t.Errorf("text %q, want %q", err, tt.wantText)
			}
			if !errors.Is(err, ErrUnauthorized) {
				t.Error("not ErrUnauthorized")
			}
			if errors.Is(err, tt.cause) != tt.wantCause {
				t.Errorf("cause in the chain: %v, want %v", errors.Is(err, tt.cause), tt.wantCause)
			}
			if tt.wantCtx != nil && !errors.Is(err, tt.wantCtx) {
				t.Errorf("lost %v", tt.wantCtx)
			}
		})
	}
}
