package api

import (
	"github.com/vermont-ci/vermont/server/secrets"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gh runs Debian's gh against the test server as an enterprise host: GH_HOST
// names it, GH_ENTERPRISE_TOKEN is the token, SSL_CERT_FILE the test CA, and
// a private GH_CONFIG_DIR and TMPDIR (gh caches run logs there) keep the
// user's own configuration out.
func (e *env) gh(tok string, args ...string) (string, error) {
	e.t.Helper()
	bin := requireTool(e.t, "gh", "apt-get install gh")
	cmd := exec.Command(bin, args...)
	tmp := e.t.TempDir()
	cmd.Env = append(os.Environ(),
		"GH_HOST="+e.host,
		"GH_ENTERPRISE_TOKEN="+tok,
		"SSL_CERT_FILE="+e.caFile,
		"GH_CONFIG_DIR="+filepath.Join(tmp, "config"),
		"TMPDIR="+tmp,
		"GH_PROMPT_DISABLED=1",
		"GH_NO_UPDATE_NOTIFIER=1",
		"NO_COLOR=1",
		"GH_PAGER=",
		"GH_DEBUG="+os.Getenv("VERMONT_GH_DEBUG"),
		"PAGER=",
		"GH_TOKEN=", "GITHUB_TOKEN=", "GH_ENTERPRISE_TOKEN_FILE=",
	)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestGH(t *testing.T) {
	e := newEnv(t)
	R := []string{"-R", "octo/hello"}
	tests := []struct {
		name    string
		tok     string
		args    []string
		want    []string // substrings of the output
		wantErr bool
		check   func(t *testing.T, out string)
	}{
		{
			name: "run list",
			args: []string{"run", "list"},
			want: []string{"commit a1b2c3d", "commit d4e5f6a", "commit f00ba47", "CI", "main", "feature", "push", itoa(e.runs.success.ID)},
		},
		{
			name: "run list filtered by branch",
			args: []string{"run", "list", "--branch", "feature"},
			want: []string{"commit f00ba47"},
			check: func(t *testing.T, out string) {
				if strings.Contains(out, "a1b2c3d") {
					t.Errorf("branch filter let a main run through:\n%s", out)
				}
			},
		},
		{
			name: "workflow list",
			args: []string{"workflow", "list"},
			want: []string{"CI", "active", itoa(e.runs.ciWorkflow.ID), "Deploy"},
		},
		{
			name: "run view --log",
			args: []string{"run", "view", itoa(e.runs.success.ID), "--log"},
			want: []string{"build\tSet up job\t", "log of build step Set up job", "build\tRun make build\t", "log of build step Run make build"},
		},
		{
			name: "run view --json jobs",
			args: []string{"run", "view", itoa(e.runs.failure.ID), "--json", "jobs", "--jq", `.jobs[] | "\(.name) \(.conclusion) \(.steps | length)"`},
			want: []string{"lint success 2", "test failure 2"},
		},
		{
			name: "workflow run -f",
			args: []string{"workflow", "run", "deploy.yml", "--ref", "main", "-f", "environment=staging", "-f", "replicas=3"},
			check: func(t *testing.T, out string) {
				calls := e.control.Calls()
				if len(calls) == 0 || calls[len(calls)-1] != `dispatch .github/workflows/deploy.yml {"dry-run":false,"environment":"staging","note":"","replicas":3} by writer` {
					t.Errorf("dispatch not delivered as expected: %q", calls)
				}
			},
		},
		{
			name:    "workflow run with a bad input",
			args:    []string{"workflow", "run", "deploy.yml", "--ref", "main", "-f", "environment=moon"},
			wantErr: true,
			want:    []string{"HTTP 422", "Provided value 'moon' for input 'environment' not in the list of allowed values"},
		},
		{
			name:    "read token cannot cancel",
			tok:     e.read,
			args:    []string{"run", "cancel", itoa(e.runs.running.ID)},
			wantErr: true,
			want:    []string{"HTTP 403", "Resource not accessible by personal access token"},
		},
		{
			name: "run cancel",
			args: []string{"run", "cancel", itoa(e.runs.running.ID)},
			want: []string{"Request to cancel workflow submitted"},
		},
		{
			name: "run rerun --failed",
			args: []string{"run", "rerun", itoa(e.runs.failure.ID), "--failed"},
			check: func(t *testing.T, out string) {
				calls := e.control.Calls()
				if len(calls) == 0 || calls[len(calls)-1] != "rerun "+itoa(e.runs.failure.ID)+" failed by writer" {
					t.Errorf("re-run not delivered: %q", calls)
				}
			},
		},
		{
			name: "secret set",
			args: []string{"secret", "set", "DEPLOY_KEY", "--body", "gh-s3cr3t-value"},
		},
		{
			name: "secret list",
			args: []string{"secret", "list"},
			want: []string{"DEPLOY_KEY"},
			check: func(t *testing.T, out string) {
				if strings.Contains(out, "gh-s3cr3t-value") {
					t.Errorf("secret list shows the value:\n%s", out)
				}
			},
		},
		{
			name:    "bad token",
			tok:     "vmt_not_a_token",
			args:    []string{"run", "list"},
			wantErr: true,
			want:    []string{"HTTP 401", "Bad credentials"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := tt.tok
			if tok == "" {
				tok = e.write
			}
			out, err := e.gh(tok, append(tt.args, R...)...)
			if (err != nil) != tt.wantErr {
				t.Fatalf("gh %s: err %v, want error %v\n%s", strings.Join(tt.args, " "), err, tt.wantErr, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("gh %s: output lacks %q:\n%s", strings.Join(tt.args, " "), w, out)
				}
			}
			if tt.check != nil {
				tt.check(t, out)
			}
		})
	}
	if testing.Verbose() {
		t.Log(e.logBuf.String())
	}
	// The secret gh set opens to its value under the service key.
	sec, err := e.store.Secret(t.Context(), e.repo.ID, "DEPLOY_KEY")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := e.box.Decrypt(secrets.RowContext(e.repo.ID, "DEPLOY_KEY"), sec.Nonce, sec.Ciphertext)
	if err != nil || string(plain) != "gh-s3cr3t-value" {
		t.Fatalf("stored secret decrypts to %q, %v", plain, err)
	}
	run, err := e.store.Run(t.Context(), e.runs.running.ID)
	if err != nil || run.Conclusion != "cancelled" {
		t.Fatalf("cancelled run: %+v, %v", run, err)
	}
}
