package containerd

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/internal/ctrdtest"
)

// These tests pull job and service images that live only in ctrdtest's
// registries on 127.0.0.1, through exec.ContainerSpec.Credentials.

const (
	jobPassword = "job-registry-Pa55"
	svcPassword = "service-registry-Pa55"
)

// privateRegistries starts a Basic registry holding team/job:1 and
// team/locked:1 (user alice) and a token registry holding team/web:1 and
// team/db:1 (user bob), as GHCR and Docker Hub authenticate.
func privateRegistries(t *testing.T) (basic, token *ctrdtest.Registry) {
	t.Helper()
	basic = ctrdtest.NewRegistry(t, ctrdtest.RegistryOptions{Auth: ctrdtest.AuthBasic, Username: "alice", Password: jobPassword})
	token = ctrdtest.NewRegistry(t, ctrdtest.RegistryOptions{Auth: ctrdtest.AuthBearer, Username: "bob", Password: svcPassword})
	mark := func(s string) []ctrdtest.File {
		return []ctrdtest.File{{Path: "/etc/vermont-test-image", Data: []byte(s + "\n")}}
	}
	basic.Push(t, "team/job:1", ctrdtest.ImageOptions{Files: mark("private job image")})
	basic.Push(t, "team/locked:1", ctrdtest.ImageOptions{Files: mark("never pulled")})
	web := ctrdtest.ImageOptions{Entrypoint: []string{"/serve.sh"}, Files: []ctrdtest.File{{Path: "/serve.sh", Mode: 0o755, Data: []byte(webScript)}}}
	token.Push(t, "team/web:1", web)
	token.Push(t, "team/db:1", web)
	return basic, token
}

// privateService is a web service from the token registry.
func privateService(token *ctrdtest.Registry, name, image string, creds *exec.Credentials) exec.ServiceSpec {
	return exec.ServiceSpec{Name: name, ContainerSpec: exec.ContainerSpec{
		Image:       token.Host() + "/" + image,
		Env:         map[string]string{"PORT": "8080", "MESSAGE": "from a private service"},
		Options:     "--health-cmd 'wget -q -O /dev/null http://127.0.0.1:8080/' --health-interval 100ms --health-retries 100",
		Credentials: creds,
	}}
}

// wantOnlyUser fails when a request to r named a user other than want, or
// carried credentials when want is "".
func wantOnlyUser(t *testing.T, r *ctrdtest.Registry, want string) {
	t.Helper()
	for _, q := range r.Requests() {
		if q.Username != "" && q.Username != want || want == "" && q.Scheme != "" {
			t.Errorf("registry %s got %s %s as %q (%s); want only %q", r.Host(), q.Method, q.Path, q.Username, q.Scheme, want)
		}
	}
}

func TestPullWithCredentials(t *testing.T) {
	f := newFixture(t, "pull-credentials", WithPull())
	basic, token := privateRegistries(t)
	jobImage := basic.Host() + "/team/job:1"
	r := f.start(t, exec.JobSpec{
		Image: jobImage,
		Container: &exec.ContainerSpec{Image: jobImage,
			Credentials: &exec.Credentials{Username: "alice", Password: jobPassword}},
		Services: []exec.ServiceSpec{privateService(token, "web", "team/web:1",
			&exec.Credentials{Username: "bob", Password: svcPassword})},
	})
	code, out := run(t, r, `cat /etc/vermont-test-image; wget -q -O - http://web:8080/`)
	if want := "private job image\nfrom a private service\n"; code != 0 || out != want {
		t.Errorf("job = %d, %q; want 0, %q", code, out, want)
	}
	// Each image's credentials went to its own registry only.
	wantOnlyUser(t, basic, "alice")
	wantOnlyUser(t, token, "bob")
	var tokens int
	for _, q := range token.Requests() {
		if q.Path == "/token" && q.Status == 200 && q.Username == "bob" {
			tokens++
		}
	}
	if tokens == 0 {
		t.Errorf("the token registry issued bob no token: %+v", token.Requests())
	}
}

func TestPullWithCredentialsErrors(t *testing.T) {
	f := newFixture(t, "pull-credentials-errors", WithPull())
	basic, token := privateRegistries(t)
	locked := basic.Host() + "/team/locked:1"
	tests := []struct {
		name string
		spec exec.JobSpec
		is   error
		want []string // in the error
	}{
		{name: "job container without credentials",
			spec: exec.JobSpec{Image: locked, Container: &exec.ContainerSpec{Image: locked}},
			is:   ErrUnauthorized,
			want: []string{locked, "unauthorized", "without credentials", "job container", "container.credentials"}},
		{name: "job container with a wrong password",
			spec: exec.JobSpec{Image: locked, Container: &exec.ContainerSpec{Image: locked,
				Credentials: &exec.Credentials{Username: "alice", Password: "wrong-" + jobPassword}}},
			is:   ErrUnauthorized,
			want: []string{locked, "refused the credentials given", "check container.credentials"}},
		{name: "service with another user's credentials",
			spec: exec.JobSpec{Services: []exec.ServiceSpec{privateService(token, "db", "team/db:1",
				&exec.Credentials{Username: "alice", Password: jobPassword})}},
			is:   ErrUnauthorized,
			want: []string{token.Host() + "/team/db:1", "service db", "services.db.credentials"}},
		{name: "service without credentials",
			spec: exec.JobSpec{Image: f.busy, Services: []exec.ServiceSpec{privateService(token, "db", "team/db:1", nil)}},
			is:   ErrUnauthorized,
			want: []string{token.Host() + "/team/db:1", "without credentials", "services.db.credentials"}},
		{name: "missing image",
			spec: exec.JobSpec{Image: basic.Host() + "/team/job:2", Container: &exec.ContainerSpec{Image: basic.Host() + "/team/job:2",
				Credentials: &exec.Credentials{Username: "alice", Password: jobPassword}}},
			is:   ErrImageNotFound,
			want: []string{basic.Host() + "/team/job:2", "does not have it"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.RunID, tt.spec.Job = f.runID, "private"
			_, err := f.b.Start(context.Background(), tt.spec)
			if !errors.Is(err, tt.is) {
				t.Fatalf("Start = %v, want %v", err, tt.is)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			for _, pw := range []string{jobPassword, svcPassword} {
				if strings.Contains(err.Error(), pw) {
					t.Errorf("error shows a password: %v", err)
				}
			}
			if l := f.leftovers(t); len(l) > 0 {
				t.Errorf("left behind: %v", l)
			}
		})
	}
}

// TestNoPullWithoutWithPull checks that credentials do not make the backend
// pull: without WithPull (`vermont run --pull`) a missing image is an error
// and no registry is asked.
func TestNoPullWithoutWithPull(t *testing.T) {
	f := newFixture(t, "no-pull")
	basic, _ := privateRegistries(t)
	ref := basic.Host() + "/team/job:1"
	_, err := f.b.Start(context.Background(), exec.JobSpec{RunID: f.runID, Job: "j", Image: ref,
		Container: &exec.ContainerSpec{Image: ref, Credentials: &exec.Credentials{Username: "alice", Password: jobPassword}}})
	if !errors.Is(err, ErrImageNotFound) || !strings.Contains(err.Error(), "--pull") {
		t.Errorf("Start = %v; want ErrImageNotFound suggesting --pull", err)
	}
	if n := len(basic.Requests()); n != 0 {
		t.Errorf("the registry got %d requests, want none", n)
	}
}
