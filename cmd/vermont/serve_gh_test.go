//go:build !thin && !windows

package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testTLS is a certificate for 127.0.0.1 from a CA made for the test.
type testTLS struct {
	ca, cert, key string // PEM files
}

func newTestTLS(t *testing.T) *testTLS {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "vermont serve test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	c := &testTLS{ca: filepath.Join(dir, "ca.pem"), cert: filepath.Join(dir, "cert.pem"), key: filepath.Join(dir, "key.pem")}
	for path, b := range map[string]*pem.Block{c.ca: {Type: "CERTIFICATE", Bytes: caDER},
		c.cert: {Type: "CERTIFICATE", Bytes: leafDER}, c.key: {Type: "EC PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(path, pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func (c *testTLS) client() *http.Client {
	pool := x509.NewCertPool()
	b, _ := os.ReadFile(c.ca)
	pool.AppendCertsFromPEM(b)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// TestServeGH drives the real service with Debian's gh, unchanged, as an
// enterprise host over TLS: workflows listed and dispatched with -f,
// runs listed and viewed with their logs and jobs, a failed job re-run,
// a running one cancelled, and a secret set and listed.
func TestServeGH(t *testing.T) {
	t.Parallel()
	bin := requireGH(t)
	marker := filepath.Join(t.TempDir(), "fixed")
	pidFile := filepath.Join(t.TempDir(), "pid")
	repo := newSrcRepo(t, map[string]string{
		".github/workflows/greet.yml": dispatchWorkflow,
		".github/workflows/fragile.yml": "name: Fragile\non: workflow_dispatch\njobs:\n  check:\n    runs-on: ubuntu-latest\n    steps:\n" +
			"      - run: test -f " + marker + "\n",
		".github/workflows/slow.yml": "name: Slow\non: workflow_dispatch\njobs:\n  slow:\n    runs-on: ubuntu-latest\n    steps:\n" +
			"      - run: |\n          sleep 600 &\n          echo $! > " + pidFile + "\n          wait\n",
	})
	cert := newTestTLS(t)
	s := startService(t, serveConfig{repo: repo, tls: cert})
	host := strings.TrimPrefix(s.url, "https://")
	gh := func(args ...string) string {
		t.Helper()
		cmd := osexec.Command(bin, append(args, "-R", "octo/app")...)
		tmp := t.TempDir()
		cmd.Env = append(os.Environ(), "GH_HOST="+host, "GH_ENTERPRISE_TOKEN="+s.token, "SSL_CERT_FILE="+cert.ca,
			"GH_CONFIG_DIR="+filepath.Join(tmp, "config"), "TMPDIR="+tmp, "GH_PROMPT_DISABLED=1",
			"GH_NO_UPDATE_NOTIFIER=1", "NO_COLOR=1", "GH_PAGER=", "PAGER=", "GH_TOKEN=", "GITHUB_TOKEN=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("gh %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if out := gh("workflow", "list"); !strings.Contains(out, "Fragile") || !strings.Contains(out, "Slow") {
		t.Fatalf("gh workflow list:\n%s", out)
	}
	gh("workflow", "run", "greet.yml", "--ref", "main", "-f", "who=mona", "-f", "loud=true")
	greet := s.waitRun("of greet", func(r apiRun) bool { return r.Path == ".github/workflows/greet.yml" })
	if greet.Conclusion != "success" {
		t.Fatalf("greet: %+v", greet)
	}
	id := strconv.FormatInt(greet.ID, 10)
	if out := gh("run", "list"); !strings.Contains(out, id) {
		t.Fatalf("gh run list lacks run %s:\n%s", id, out)
	}
	if out := gh("run", "view", id, "--log"); !strings.Contains(out, "who=mona times=2 loud=true level=low") {
		t.Fatalf("gh run view --log:\n%s", out)
	}
	var view struct {
		Jobs []struct {
			Name       string `json:"name"`
			Conclusion string `json:"conclusion"`
		} `json:"jobs"`
	}
	if err := json.Unmarshal([]byte(gh("run", "view", id, "--json", "jobs")), &view); err != nil || len(view.Jobs) != 1 ||
		view.Jobs[0].Name != "greet" || view.Jobs[0].Conclusion != "success" {
		t.Fatalf("gh run view --json jobs: %+v %v", view, err)
	}

	gh("workflow", "run", "fragile.yml", "--ref", "main")
	fragile := s.waitRun("of fragile", func(r apiRun) bool { return r.Path == ".github/workflows/fragile.yml" })
	if fragile.Conclusion != "failure" {
		t.Fatalf("fragile: %+v", fragile)
	}
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	gh("run", "rerun", strconv.FormatInt(fragile.ID, 10), "--failed")
	if again := s.waitRun("of fragile, again", func(r apiRun) bool { return r.ID == fragile.ID && r.RunAttempt == 2 }); again.Conclusion != "success" {
		t.Fatalf("fragile re-run: %+v", again)
	}

	gh("workflow", "run", "slow.yml", "--ref", "main")
	waitPID(t, pidFile)
	slow := s.runOf(".github/workflows/slow.yml").ID
	gh("run", "cancel", strconv.FormatInt(slow, 10))
	if done := s.waitRun("of slow", func(r apiRun) bool { return r.ID == slow }); done.Conclusion != "cancelled" {
		t.Fatalf("slow: %+v", done)
	}

	gh("secret", "set", "DEPLOY_TOKEN", "--body", "s3kr1t-from-gh")
	if out := gh("secret", "list"); !strings.Contains(out, "DEPLOY_TOKEN") || strings.Contains(out, "s3kr1t") {
		t.Fatalf("gh secret list:\n%s", out)
	}
}

// requireGH finds gh; without it the test fails under CI=true.
func requireGH(t *testing.T) string {
	t.Helper()
	p, err := osexec.LookPath("gh")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("gh is not installed (apt-get install gh); under CI=true this fails")
		}
		t.Skip("gh is not installed (apt-get install gh)")
	}
	return p
}
