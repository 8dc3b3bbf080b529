package exec

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
)

// parseKeyValueFile reads a GITHUB_ENV / GITHUB_OUTPUT / GITHUB_STATE file:
// lines of NAME=value, or NAME<<DELIMITER, the value's lines, DELIMITER.
// The format is GitHub's ("Multiline strings" in "Workflow commands").
// A missing file is empty.
func parseKeyValueFile(path string) ([]keyValue, error) {
	b, err := readCommandFile(path)
	if err != nil {
		return nil, err
	}
	return parseKeyValues(path, b)
}

type keyValue struct{ Key, Value string }

func parseKeyValues(name string, b []byte) ([]keyValue, error) {
	var out []keyValue
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		eq := strings.IndexByte(line, '=')
		hd := strings.Index(line, "<<")
		if eq >= 0 && (hd < 0 || eq < hd) {
			key := line[:eq]
			if key == "" {
				return nil, fmt.Errorf("%s:%d: invalid format %q: the name is empty", name, lineNo, line)
			}
			out = append(out, keyValue{key, line[eq+1:]})
			continue
		}
		if hd < 0 {
			return nil, fmt.Errorf("%s:%d: invalid format %q: want NAME=value or NAME<<DELIMITER", name, lineNo, line)
		}
		key, delim := line[:hd], line[hd+2:]
		if key == "" || delim == "" {
			return nil, fmt.Errorf("%s:%d: invalid format %q: the name and the delimiter must not be empty", name, lineNo, line)
		}
		start := lineNo
		var value []string
		closed := false
		for sc.Scan() {
			lineNo++
			l := strings.TrimSuffix(sc.Text(), "\r")
			if l == delim {
				closed = true
				break
			}
			value = append(value, l)
		}
		if !closed {
			return nil, fmt.Errorf("%s:%d: matching delimiter %q not found for %q", name, start, delim, key)
		}
		out = append(out, keyValue{key, strings.Join(value, "\n")})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// parsePathFile reads a GITHUB_PATH file: one directory per line.
func parsePathFile(path string) ([]string, error) {
	b, err := readCommandFile(path)
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			dirs = append(dirs, l)
		}
	}
	return dirs, nil
}

// readCommandFile reads a step's command file: nothing when it is missing,
// or empty, as it is after most steps; a stat then costs one system call
// where reading costs nine.
func readCommandFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err == nil && fi.Mode().IsRegular() && fi.Size() == 0 {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	return b, err
}
