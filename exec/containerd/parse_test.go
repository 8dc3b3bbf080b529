package containerd

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vermont-ci/vermont/exec"
)

func TestParseCreateOptions(t *testing.T) {
	t.Setenv("VERMONT_TEST_FROM_HOST", "copied")
	entry := "/bin/serve"
	tests := []struct {
		name    string
		in      string
		want    createOptions
		wantErr string
	}{
		{name: "empty", in: "", want: createOptions{}},
		{name: "user workdir env", in: `--user 1000:1000 -w /src -e A=1 --env=B=2`, want: createOptions{user: "1000:1000", workdir: "/src", env: []string{"A=1", "B=2"}}},
		{name: "env from host", in: `-e VERMONT_TEST_FROM_HOST -e VERMONT_TEST_UNSET_X`, want: createOptions{env: []string{"VERMONT_TEST_FROM_HOST=copied", ""}}},
		{name: "entrypoint", in: `--entrypoint /bin/serve`, want: createOptions{entrypoint: &entry}},
		{
			name: "health with quotes",
			in:   `--health-cmd "pg_isready -U \"postgres\"" --health-interval=10s --health-timeout 5s --health-retries 5 --health-start-period 1m`,
			want: createOptions{health: &healthCheck{cmd: `pg_isready -U "postgres"`, interval: 10 * time.Second, timeout: 5 * time.Second, retries: 5, startPeriod: time.Minute}},
		},
		{
			name: "health defaults",
			in:   `--health-cmd 'redis-cli ping'`,
			want: createOptions{health: &healthCheck{cmd: "redis-cli ping", interval: 30 * time.Second, timeout: 30 * time.Second, retries: 3}},
		},
		{name: "unknown", in: `--gpus all`, wantErr: "--gpus is not supported by the containerd backend (supported: --user"},
		{name: "unknown bool-looking", in: `--init`, wantErr: "--init is not supported"},
		{name: "unknown with value", in: `--network=foo`, wantErr: "--network is not supported"},
		{name: "missing value", in: `--user`, wantErr: "--user needs a value"},
		{name: "bad duration", in: `--health-cmd x --health-interval 10`, wantErr: `--health-interval "10": want a duration`},
		{name: "bad retries", in: `--health-cmd x --health-retries many`, wantErr: `--health-retries "many": want a whole number`},
		{name: "timings without cmd", in: `--health-interval 1s`, wantErr: "need --health-cmd"},
		{name: "relative workdir", in: `--workdir src`, wantErr: "must be an absolute path"},
		{name: "stray word", in: `postgres`, wantErr: `unexpected argument "postgres"`},
		{name: "unterminated", in: `--health-cmd "x`, wantErr: "unterminated \" quote at column 14"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseCreateOptions(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseCreateOptions(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseCreateOptions(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseCreateOptions(%q) = %+v (health %+v), want %+v (health %+v)", tt.in, got, got.health, tt.want, tt.want.health)
			}
		})
	}
}

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{in: "", want: nil},
		{in: "  a  b\t c\n", want: []string{"a", "b", "c"}},
		{in: `'a b' "c d" e\ f`, want: []string{"a b", "c d", "e f"}},
		{in: `"a\"b\\c\d"`, want: []string{`a"b\c\d`}},
		{in: `x'y'"z"`, want: []string{"xyz"}},
		{in: `''`, want: []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := splitWords(tt.in)
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("splitWords(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParsePort(t *testing.T) {
	tests := []struct {
		in      string
		want    portMapping
		wantErr string
	}{
		{in: "80", want: portMapping{hostIP: "127.0.0.1", containerPort: 80}},
		{in: "8080:80", want: portMapping{hostIP: "127.0.0.1", hostPort: 8080, containerPort: 80}},
		{in: "0.0.0.0:8080:80/tcp", want: portMapping{hostIP: "0.0.0.0", hostPort: 8080, containerPort: 80}},
		{in: "127.0.0.1::5432", want: portMapping{hostIP: "127.0.0.1", containerPort: 5432}},
		{in: "[::1]:8080:80", want: portMapping{hostIP: "::1", hostPort: 8080, containerPort: 80}},
		{in: "53/udp", wantErr: "only tcp"},
		{in: "http", wantErr: `container port "http" is not a port number`},
		{in: "0", wantErr: "container port"},
		{in: "70000:80", wantErr: "host port"},
		{in: "nowhere:1:2", wantErr: "not an IP address"},
		{in: "1:2:3:4", wantErr: "want CONTAINER"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parsePort(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parsePort(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parsePort(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseVolume(t *testing.T) {
	tests := []struct {
		in      string
		want    volume
		wantErr string
	}{
		{in: "/data", want: volume{dst: "/data"}},
		{in: "cache:/cache", want: volume{src: "cache", dst: "/cache"}},
		{in: "/host:/ctr:ro", want: volume{src: "/host", dst: "/ctr", ro: true}},
		{in: "/host:/ctr:rw", want: volume{src: "/host", dst: "/ctr"}},
		{in: "data", wantErr: "must be an absolute path"},
		{in: "a/b:/c", wantErr: "absolute host path or a volume name"},
		{in: "/a:/b:z", wantErr: `mode "z"`},
		{in: ":/b", wantErr: "empty source"},
		{in: "a:b:c:d", wantErr: "want SOURCE"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseVolume(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseVolume(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parseVolume(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestMergeEnv(t *testing.T) {
	got := mergeEnv([]string{"PATH=/bin", "A=1", ""}, []string{"A=2", "B=3", "PATH=/usr/bin:/bin"})
	want := []string{"PATH=/usr/bin:/bin", "A=2", "B=3"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mergeEnv = %q, want %q", got, want)
	}
}

// TestPlanReportsAll checks that every problem in a job's containers is
// reported at once, before anything is created.
func TestPlanReportsAll(t *testing.T) {
	var b Backend
	_, err := b.plan(exec.JobSpec{
		Image:     "busybox",
		Container: &exec.ContainerSpec{Options: "--cap-add NET_FOO", Ports: []string{"x"}},
		Services: []exec.ServiceSpec{
			{Name: "db", ContainerSpec: exec.ContainerSpec{Image: "postgres", Volumes: []string{"rel"}}},
			{Name: "db", ContainerSpec: exec.ContainerSpec{Image: "postgres"}},
			{Name: "bad name", ContainerSpec: exec.ContainerSpec{Image: "x"}},
			{Name: "noimage"},
		},
	})
	if err == nil {
		t.Fatal("plan accepted a bad job")
	}
	for _, want := range []string{
		`container: options: --cap-add "NET_FOO": unknown capability "CAP_NET_FOO"`,
		`container port "x"`,
		"services: db: volumes",
		`"db" is defined twice`,
		`"bad name" is not a valid host name`,
		"services: noimage: no image",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("plan error does not contain %q:\n%v", want, err)
		}
	}
}

func TestOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		opt  Option
		want string
	}{
		{name: "network", opt: WithNetwork("bridge"), want: `unknown network "bridge"`},
		{name: "empty network", opt: WithNetwork(""), want: "network must not be empty"},
		{name: "grace", opt: WithGrace(-time.Second), want: "grace must not be negative"},
		{name: "health", opt: WithHealthTimeout(0), want: "health timeout must be positive"},
		{name: "host", opt: WithHost(nil), want: "host backend must not be nil"},
		{name: "logger", opt: WithLogger(nil), want: "logger must not be nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c config
			if err := tt.opt(&c); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("option error = %v, want %q", err, tt.want)
			}
		})
	}
}

func FuzzParseCreateOptions(f *testing.F) {
	for _, s := range []string{
		`--health-cmd "pg_isready" --health-interval 10s`,
		`-e A=1 --user=1000 -w /x`,
		`--entrypoint '' "unterminated`,
		`\`,
		`--cpus 1.5 --memory=512m --memory-swap -1 --pids-limit 50 --privileged --read-only=false`,
		`--cap-add ALL --cap-drop net_raw --tmpfs /run:rw,size=1m --security-opt seccomp=unconfined`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := parseCreateOptions(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "options: ") {
				t.Errorf("error without the options: prefix: %v", err)
			}
			return
		}
		if o.health != nil && (o.health.cmd == "" || o.health.interval <= 0 || o.health.retries <= 0) {
			t.Errorf("incomplete health check %+v from %q", o.health, s)
		}
		if o.workdir != "" && !strings.HasPrefix(o.workdir, "/") {
			t.Errorf("relative workdir %q from %q", o.workdir, s)
		}
		if l := o.limits; l.memory < 0 || l.memory > 0 && l.memory < minMemory || l.nanoCPUs < 0 || l.memorySwap > 0 && l.memorySwap < l.memory {
			t.Errorf("limits %+v from %q", l, s)
		}
		for _, m := range o.limits.tmpfs {
			if !strings.HasPrefix(m.Destination, "/") || m.Destination == "/" {
				t.Errorf("tmpfs at %q from %q", m.Destination, s)
			}
		}
	})
}

func FuzzParsePort(f *testing.F) {
	for _, s := range []string{"80", "8080:80", "127.0.0.1:1:2/tcp", "[::1]:1:2", "1:2:3:4", "/udp"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parsePort(s)
		if err != nil {
			return
		}
		if m.containerPort < 1 || m.containerPort > 65535 || m.hostPort < 0 || m.hostPort > 65535 || m.hostIP == "" {
			t.Errorf("parsePort(%q) = %+v", s, m)
		}
	})
}
