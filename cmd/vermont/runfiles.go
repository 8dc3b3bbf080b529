package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/vermont-ci/vermont/internal/runfiles"
)

// rcName is the defaults file of vermont run, as act's .actrc: one flag
// per line ("-P ubuntu-latest=host", "--secret-file .secrets"), blank lines
// and lines starting with # ignored.
const rcName = ".vermontrc"

// rcArgs returns the flags of the defaults files: the home directory's,
// then the repository's (the -C directory named in args, else the current
// one), so that the repository's come later and win where a flag takes one
// value, and flags on the command line, which follow both, win over them.
// This is act's order (~/.actrc, then ./.actrc, then the command line).
func rcArgs(args []string, fset *flag.FlagSet) ([]string, error) {
	var files []string
	if home, err := os.UserHomeDir(); err == nil {
		files = append(files, filepath.Join(home, rcName))
	}
	repo := filepath.Join(repoDirArg(args), rcName)
	if len(files) == 0 || !sameFile(files[0], repo) {
		files = append(files, repo)
	}
	var out []string
	for _, name := range files {
		data, err := os.ReadFile(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		a, err := runfiles.ParseRC(name, data, fset)
		if err != nil {
			return nil, err
		}
		out = append(out, a...)
	}
	return out, nil
}

// repoDirArg is the value of -C in args, or ".".
func repoDirArg(args []string) string {
	dir := "."
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "C" {
			continue
		}
		if hasVal {
			dir = val
		} else if i+1 < len(args) {
			dir = args[i+1]
			i++
		}
	}
	return dir
}

func sameFile(a, b string) bool {
	ia, errA := os.Stat(a)
	ib, errB := os.Stat(b)
	if errA != nil || errB != nil {
		return filepath.Clean(a) == filepath.Clean(b)
	}
	return os.SameFile(ia, ib)
}

// envFiles reads the --env-file files into env: by default .env in the
// repository, which may be missing; a file named on the command line must
// exist. Later files win; --env, applied after, wins over all.
func (f *runFlags) envFiles() (map[string]string, error) {
	env := map[string]string{}
	files := []string(f.envFileList)
	explicit := len(files) > 0
	if !explicit {
		files = []string{filepath.Join(f.dir, ".env")}
	}
	for _, name := range files {
		kvs, err := readDotEnv(name)
		if !explicit && errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("--env-file: %w", err)
		}
		for k, v := range kvs {
			env[k] = v
		}
	}
	for _, s := range f.env {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			if v, ok = os.LookupEnv(k); !ok {
				return nil, fmt.Errorf("--env %s: no value given and no such environment variable", k)
			}
		}
		env[k] = v
	}
	return env, nil
}
