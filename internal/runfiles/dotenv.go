// Package runfiles parses the small files the vermont command reads
// before a run: NAME=VALUE files (--env-file, --var-file, --secret-file,
// a pool's .env) and .vermontrc defaults. Its own package, so that their
// fuzz targets build without the command's dependencies.
package runfiles

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ParseDotEnv reads KEY=VALUE lines (optionally "export KEY=VALUE"), with #
// comments and single or double quotes. Errors read "file:line:col: ...".
func ParseDotEnv(name string, data []byte) (map[string]string, error) {
	out := map[string]string{}
	var errs []error
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		trimmed := strings.TrimLeft(line, " \t")
		col := len(line) - len(trimmed) + 1
		if trimmed == "" || trimmed[0] == '#' {
			continue
		}
		if rest, ok := strings.CutPrefix(trimmed, "export "); ok {
			col += len(trimmed) - len(rest)
			trimmed = rest
		}
		key, val, ok := strings.Cut(trimmed, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" || strings.ContainsAny(key, " \t\"'") {
			errs = append(errs, fmt.Errorf("%s:%d:%d: want KEY=VALUE", name, n, col))
			continue
		}
		v, err := dotEnvValue(strings.TrimSpace(val))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d:%d: %s: %w", name, n, col+len(key)+1, key, err))
			continue
		}
		out[key] = v
	}
	return out, errors.Join(errs...)
}

func dotEnvValue(v string) (string, error) {
	switch {
	case strings.HasPrefix(v, `"`):
		end := closingQuote(v)
		if end < 0 {
			return "", errors.New("unterminated double quote")
		}
		s, err := strconv.Unquote(v[:end+1])
		if err != nil {
			return "", fmt.Errorf("bad escape in double-quoted value")
		}
		return s, nil
	case strings.HasPrefix(v, "'"):
		end := strings.IndexByte(v[1:], '\'')
		if end < 0 {
			return "", errors.New("unterminated single quote")
		}
		return v[1 : end+1], nil
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = v[:i]
	}
	return strings.TrimSpace(v), nil
}

// closingQuote returns the index of the double quote that closes v[0].
func closingQuote(v string) int {
	for i := 1; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}
