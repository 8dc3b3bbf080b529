package ctrd_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/log"
	"github.com/sirupsen/logrus"

	"github.com/vermont-ci/vermont/internal/ctrd"
	"github.com/vermont-ci/vermont/internal/ctrdtest"
)

// These tests pull from ctrdtest's registry on 127.0.0.1 through the
// package's private containerd.

const (
	basicPassword = "basic-Pa55word/with+symbols="
	tokenPassword = "token-Pa55word&more"
)

// marker is a file whose content tells images apart.
func marker(s string) ctrdtest.ImageOptions {
	return ctrdtest.ImageOptions{Files: []ctrdtest.File{{Path: "/marker", Data: []byte(s + "\n")}}}
}

// runImage runs `cat /marker` in a container of img and returns its output.
func runImage(t *testing.T, c *ctrd.Client, img client.Image, id string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(c.Context(context.Background()), time.Minute)
	defer cancel()
	cont, err := c.Containerd().NewContainer(ctx, id,
		client.WithImage(img),
		client.WithSnapshotter(c.Snapshotter()),
		client.WithNewSnapshot(id, img),
		client.WithNewSpec(oci.WithImageConfig(img), oci.WithProcessArgs("cat", "/marker")))
	if err != nil {
		t.Fatalf("new container from %s: %v", img.Name(), err)
	}
	t.Cleanup(func() { c.DeleteContainer(context.Background(), id, 0) })
	logPath := filepath.Join(t.TempDir(), "out.log")
	task, err := cont.NewTask(ctx, cio.LogFile(logPath))
	if err != nil {
		t.Fatalf("new task: %v", err)
	}
	exited, err := task.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := task.Start(ctx); err != nil {
		t.Fatalf("start task: %v", err)
	}
	st := <-exited
	if _, err := task.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if st.ExitCode() != 0 {
		t.Fatalf("cat /marker exited %d: %s", st.ExitCode(), out)
	}
	return strings.TrimSpace(string(out))
}

func TestPullFromRegistry(t *testing.T) {
	d := daemon.Get(t)
	other := ctrdtest.NewRegistry(t, ctrdtest.RegistryOptions{Auth: ctrdtest.AuthBasic, Username: "someone", Password: "other-registry-pw"})
	tests := []struct {
		name     string
		registry ctrdtest.RegistryOptions
		login    bool   // give the registry's credentials
		byDigest bool   // pull HOST/NAME@sha256:… rather than a tag
		wantUser string // the user every authenticated request names
	}{
		{name: "no auth", registry: ctrdtest.RegistryOptions{}},
		{name: "basic", registry: ctrdtest.RegistryOptions{Auth: ctrdtest.AuthBasic, Username: "alice", Password: basicPassword},
			login: true, wantUser: "alice"},
		{name: "basic by digest", registry: ctrdtest.RegistryOptions{Auth: ctrdtest.AuthBasic, Username: "alice", Password: basicPassword},
			login: true, byDigest: true, wantUser: "alice"},
		{name: "bearer oauth2", registry: ctrdtest.RegistryOptions{Auth: ctrdtest.AuthBearer, Username: "bob", Password: tokenPassword},
			login: true, wantUser: "bob"},
		{name: "bearer token by GET", registry: ctrdtest.RegistryOptions{Auth: ctrdtest.AuthBearer, Username: "bob", Password: tokenPassword, TokenGETOnly: true},
			login: true, wantUser: "bob"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := d.Client(t, ctrd.WithNamespace(fmt.Sprintf("pull-%d", i)))
			r := ctrdtest.NewRegistry(t, tt.registry)
			ref := r.Push(t, "team/app:1", marker("pulled "+tt.name))
			if tt.byDigest {
				ref = r.Host() + "/team/app@" + r.Digest(ref)
			}
			// Credentials for another registry must never reach this one.
			opts := []ctrd.ImageOption{ctrd.WithPull(), ctrd.WithCredentials(other.Host(), "someone", "other-registry-pw")}
			if tt.login {
				opts = append(opts, ctrd.WithCredentials(r.Host(), tt.registry.Username, tt.registry.Password))
			}
			img, err := c.Image(context.Background(), ref, opts...)
			if err != nil {
				t.Fatalf("Image(%s, pull): %v", ref, err)
			}
			if got := runImage(t, c, img, "pulled"); got != "pulled "+tt.name {
				t.Errorf("the pulled image's /marker = %q, want %q", got, "pulled "+tt.name)
			}
			if _, err := c.Image(context.Background(), ref); err != nil {
				t.Errorf("Image(%s) after the pull, without pulling: %v", ref, err)
			}
			var authenticated, tokens int
			for _, q := range r.Requests() {
				if q.Username != "" && q.Username != tt.wantUser || q.Scheme != "" && tt.wantUser == "" {
					t.Errorf("request %+v: want credentials of %q only", q, tt.wantUser)
				}
				if q.Scheme != "" {
					authenticated++
				}
				if q.Path == "/token" && q.Status == 200 {
					tokens++
				}
			}
			if tt.login && authenticated == 0 {
				t.Errorf("no request carried credentials or a token: %+v", r.Requests())
			}
			if (tt.registry.Auth == ctrdtest.AuthBearer) != (tokens > 0) {
				t.Errorf("%d tokens issued by a registry with auth %d", tokens, tt.registry.Auth)
			}
		})
	}
	if n := len(other.Requests()); n != 0 {
		t.Errorf("the registry that holds nothing pulled got %d requests", n)
	}
}

// errorTexts returns the text of err and of every error it wraps.
func errorTexts(err error) []string {
	if err == nil {
		return nil
	}
	out := []string{err.Error()}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		out = append(out, errorTexts(u.Unwrap())...)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			out = append(out, errorTexts(e)...)
		}
	}
	return out
}

func TestPullErrors(t *testing.T) {
	d := daemon.Get(t)
	c := d.Client(t, ctrd.WithNamespace("pull-errors"))
	basic := ctrdtest.RegistryOptions{Auth: ctrdtest.AuthBasic, Username: "alice", Password: basicPassword}
	bearer := ctrdtest.RegistryOptions{Auth: ctrdtest.AuthBearer, Username: "bob", Password: tokenPassword}
	echo := func(o ctrdtest.RegistryOptions) ctrdtest.RegistryOptions { o.EchoCredentials = true; return o }
	getOnly := bearer
	getOnly.TokenGETOnly = true
	const wrong = "Wr0ng-pa55word"
	tests := []struct {
		name       string
		registry   ctrdtest.RegistryOptions
		image      string // pulled from the registry; team/app:1 is there
		user, pass string // credentials given; none when both are empty
		is         error
		want       []string // in the error text
	}{
		{name: "basic without credentials", registry: basic, image: "team/app:1",
			is: ctrd.ErrUnauthorized, want: []string{"unauthorized", "without credentials"}},
		{name: "basic wrong password", registry: basic, image: "team/app:1", user: "alice", pass: wrong,
			is: ctrd.ErrUnauthorized, want: []string{"unauthorized", "refused the credentials given", "401"}},
		{name: "basic empty password", registry: basic, image: "team/app:1", user: "alice", pass: "",
			is: ctrd.ErrUnauthorized, want: []string{"password is empty"}},
		{name: "bearer without credentials", registry: bearer, image: "team/app:1",
			is: ctrd.ErrUnauthorized, want: []string{"without credentials", "insufficient_scope"}},
		{name: "bearer wrong password", registry: bearer, image: "team/app:1", user: "bob", pass: wrong,
			is: ctrd.ErrUnauthorized, want: []string{"refused the credentials given", "401"}},
		{name: "bearer by GET wrong password", registry: getOnly, image: "team/app:1", user: "bob", pass: wrong,
			is: ctrd.ErrUnauthorized, want: []string{"refused the credentials given"}},
		{name: "echoing registry, basic", registry: echo(basic), image: "team/app:1", user: "alice", pass: wrong,
			is: ctrd.ErrUnauthorized, want: []string{"refused the credentials given", "403"}},
		{name: "echoing registry, bearer", registry: echo(bearer), image: "team/app:1", user: "bob", pass: wrong,
			is: ctrd.ErrUnauthorized, want: []string{"refused the credentials given", "403"}},
		{name: "missing tag", registry: basic, image: "team/app:2", user: "alice", pass: basicPassword,
			is: ctrd.ErrImageNotFound, want: []string{"pulling it failed", "does not have it"}},
		{name: "missing repository", registry: bearer, image: "team/none:1", user: "bob", pass: tokenPassword,
			is: ctrd.ErrImageNotFound, want: []string{"does not have it"}},
		{name: "missing image, no auth", registry: ctrdtest.RegistryOptions{}, image: "team/app:latest",
			is: ctrd.ErrImageNotFound, want: []string{"does not have it"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ctrdtest.NewRegistry(t, tt.registry)
			r.Push(t, "team/app:1", ctrdtest.ImageOptions{})
			ref := r.Host() + "/" + tt.image
			opts := []ctrd.ImageOption{ctrd.WithPull()}
			if tt.user != "" || tt.pass != "" {
				opts = append(opts, ctrd.WithCredentials(r.Host(), tt.user, tt.pass))
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := c.Image(ctx, ref, opts...)
			if !errors.Is(err, tt.is) {
				t.Fatalf("Image(%s, pull) = %v, want %v", ref, err, tt.is)
			}
			if tt.is == ctrd.ErrUnauthorized && errors.Is(err, ctrd.ErrImageNotFound) {
				t.Errorf("an unauthorized pull is also ErrImageNotFound: %v", err)
			}
			for _, w := range append(tt.want, ref) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			for _, text := range errorTexts(err) {
				for _, secret := range []string{wrong, basicPassword, tokenPassword} {
					if strings.Contains(text, secret) {
						t.Errorf("an error in the chain shows a password: %q", text)
					}
				}
			}
			if tt.registry.EchoCredentials && !strings.Contains(err.Error(), "***") && tt.registry.Auth == ctrdtest.AuthBasic {
				t.Errorf("the registry's message repeating the password should be redacted to ***: %v", err)
			}
		})
	}
}

// TestPullLogsNoSecret turns containerd's global logger up to debug, where
// its resolver logs the body of a failed token request, and pulls from a
// registry that repeats wrong credentials in that body: nothing may reach
// the log. (The logger is containerd's process-wide one; this test restores
// it and no other test of the package reads it.)
func TestPullLogsNoSecret(t *testing.T) {
	d := daemon.Get(t)
	c := d.Client(t, ctrd.WithNamespace("pull-logs"))
	var buf syncBuffer
	l := log.L.Logger
	out, level := l.Out, l.GetLevel()
	l.SetOutput(&buf)
	l.SetLevel(logrus.TraceLevel)
	t.Cleanup(func() { l.SetOutput(out); l.SetLevel(level) })

	const wrong = "Leaky-pa55word"
	for _, opts := range []ctrdtest.RegistryOptions{
		{Auth: ctrdtest.AuthBearer, Username: "bob", Password: tokenPassword, EchoCredentials: true},
		{Auth: ctrdtest.AuthBasic, Username: "alice", Password: basicPassword, EchoCredentials: true},
	} {
		r := ctrdtest.NewRegistry(t, opts)
		ref := r.Push(t, "team/app:1", ctrdtest.ImageOptions{})
		_, err := c.Image(context.Background(), ref, ctrd.WithPull(), ctrd.WithCredentials(r.Host(), opts.Username, wrong))
		if !errors.Is(err, ctrd.ErrUnauthorized) {
			t.Fatalf("Image(%s) = %v, want ErrUnauthorized", ref, err)
		}
	}
	if s := buf.String(); strings.Contains(s, wrong) {
		t.Errorf("containerd's log shows the password:\n%s", s)
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestRegistryHost(t *testing.T) {
	t.Parallel()
	tests := []struct{ ref, want string }{
		{ref: "busybox", want: "docker.io"},
		{ref: "library/busybox:1", want: "docker.io"},
		{ref: "ghcr.io/octo/app:1", want: "ghcr.io"},
		{ref: "127.0.0.1:5000/team/app@sha256:" + strings.Repeat("a", 64), want: "127.0.0.1:5000"},
		{ref: "localhost/app", want: "localhost"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			got, err := ctrd.RegistryHost(tt.ref)
			if err != nil || got != tt.want {
				t.Errorf("RegistryHost(%q) = %q, %v; want %q", tt.ref, got, err, tt.want)
			}
		})
	}
	if _, err := ctrd.RegistryHost("Not A Ref"); err == nil || !strings.Contains(err.Error(), "Not A Ref") {
		t.Errorf("RegistryHost(bad) = %v, want an error naming it", err)
	}
}
