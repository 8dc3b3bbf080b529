package containerd

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// createOptions is the subset of `docker create` options that a workflow's
// jobs.<id>.container.options and services.<id>.options may use:
//
//	--user, -u USER[:GROUP]      user the processes run as
//	--entrypoint CMD             services and Docker actions: replaces the
//	                             image's entrypoint (and its cmd, as in Docker);
//	                             ignored for the job container, whose
//	                             entrypoint is always the keep-alive command,
//	                             as on GitHub's runner
//	--workdir, -w DIR            working directory
//	--env, -e KEY=VALUE | KEY    environment (KEY alone copies it from ours)
//	--health-cmd CMD             `sh -c CMD`; Start waits until it succeeds
//	--health-interval DURATION   between checks (default 30s)
//	--health-timeout DURATION    for one check (default 30s)
//	--health-retries N           failures in a row that make a service
//	                             unhealthy (default 3)
//	--health-start-period D      failures during D don't count (default 0)
//
// and the resource and security options of limits. Flags take their value
// as the next word or after '=', except --privileged and --read-only, which
// take one only after '='. Anything else is an error naming the option.
type createOptions struct {
	user       string
	entrypoint *string
	workdir    string
	env        []string
	health     *healthCheck
	limits     limits
}

// healthCheck is a --health-cmd and its timings, with Docker's defaults.
type healthCheck struct {
	cmd         string
	interval    time.Duration
	timeout     time.Duration
	retries     int
	startPeriod time.Duration
}

// supportedOptions lists the accepted options for error messages.
const supportedOptions = "--user, --entrypoint, --workdir, --env, --health-cmd, --health-interval, --health-timeout, --health-retries, --health-start-period, " +
	"--cpus, --memory, --memory-swap, --pids-limit, --cap-add, --cap-drop, --privileged, --read-only, --tmpfs, --security-opt"

// parseCreateOptions parses an options string such as
// `--health-cmd "redis-cli ping" --health-interval 10s -e A=1`.
func parseCreateOptions(s string) (createOptions, error) {
	var o createOptions
	words, err := splitWords(s)
	if err != nil {
		return o, err
	}
	var hc healthCheck
	seenHealth := false
	for i := 0; i < len(words); i++ {
		name, value, hasValue := strings.Cut(words[i], "=")
		if !strings.HasPrefix(name, "-") {
			return o, fmt.Errorf("options: unexpected argument %q: options are flags such as --user, and the image is set by the image key", words[i])
		}
		switch {
		case boolOption(name):
			if !hasValue {
				value = "true"
			}
		case !hasValue:
			if i+1 >= len(words) {
				if !isKnownOption(name) {
					return o, unknownOption(name)
				}
				return o, fmt.Errorf("options: %s needs a value", name)
			}
			i++
			value = words[i]
		}
		switch name {
		case "--user", "-u":
			o.user = value
		case "--entrypoint":
			v := value
			o.entrypoint = &v
		case "--workdir", "-w":
			if !strings.HasPrefix(value, "/") {
				return o, fmt.Errorf("options: %s %q: the working directory must be an absolute path", name, value)
			}
			o.workdir = value
		case "--env", "-e":
			o.env = append(o.env, envOption(value))
		case "--health-cmd":
			hc.cmd = value
			seenHealth = true
		case "--health-interval", "--health-timeout", "--health-start-period":
			d, err := time.ParseDuration(value)
			if err != nil || d < 0 {
				return o, fmt.Errorf("options: %s %q: want a duration such as 10s or 1m30s", name, value)
			}
			switch name {
			case "--health-interval":
				hc.interval = d
			case "--health-timeout":
				hc.timeout = d
			default:
				hc.startPeriod = d
			}
			seenHealth = true
		case "--health-retries":
			n, err := strconv.Atoi(value)
			if err != nil || n < 0 {
				return o, fmt.Errorf("options: %s %q: want a whole number", name, value)
			}
			hc.retries = n
			seenHealth = true
		default:
			if err := o.limits.set(name, value); err != nil {
				return o, err
			}
		}
	}
	if err := o.limits.check(); err != nil {
		return o, err
	}
	if seenHealth {
		if hc.cmd == "" {
			return o, errors.New("options: --health-interval, --health-timeout, --health-retries and --health-start-period need --health-cmd")
		}
		if hc.interval == 0 {
			hc.interval = 30 * time.Second
		}
		if hc.timeout == 0 {
			hc.timeout = 30 * time.Second
		}
		if hc.retries == 0 {
			hc.retries = 3
		}
		o.health = &hc
	}
	return o, nil
}

func isKnownOption(name string) bool {
	switch name {
	case "--user", "-u", "--entrypoint", "--workdir", "-w", "--env", "-e",
		"--health-cmd", "--health-interval", "--health-timeout", "--health-retries", "--health-start-period":
		return true
	}
	return limitOption(name)
}

func unknownOption(name string) error {
	return fmt.Errorf("options: %s is not supported by the containerd backend (supported: %s)", name, supportedOptions)
}

// envOption turns a --env value into KEY=VALUE; a bare KEY takes its value
// from this process's environment, as Docker does, and is dropped when
// unset.
func envOption(v string) string {
	if strings.Contains(v, "=") {
		return v
	}
	if val, ok := os.LookupEnv(v); ok {
		return v + "=" + val
	}
	return ""
}

// splitWords splits s into words the way a POSIX shell does for quoting
// only: whitespace separates, '…' is literal, "…" allows \" \\ \$ \`, and
// a backslash outside quotes escapes the next character.
func splitWords(s string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		in    bool // inside a word
	)
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		case ch == '\\':
			in = true
			if i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			}
		case ch == '\'':
			in = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("options: unterminated ' quote at column %d", i+1)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case ch == '"':
			in = true
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) && strings.IndexByte("\"\\$`", s[j+1]) >= 0 {
					j++
				}
				cur.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, fmt.Errorf("options: unterminated \" quote at column %d", i+1)
			}
			i = j
		default:
			in = true
			cur.WriteByte(ch)
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}
