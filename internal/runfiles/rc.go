package runfiles

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"strings"
)

// ParseRC reads one defaults file: each line a flag of fset, with its value
// after a space or an =. An unknown flag is an error at file:line:col.
func ParseRC(name string, data []byte, fset *flag.FlagSet) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || trimmed[0] == '#' {
			continue
		}
		col := strings.Index(line, trimmed) + 1
		if !strings.HasPrefix(trimmed, "-") {
			return nil, fmt.Errorf("%s:%d:%d: want a flag (-X or --name), one per line", name, n, col)
		}
		flagPart, value, hasValue := strings.Cut(trimmed, " ")
		fname, _, _ := strings.Cut(strings.TrimLeft(flagPart, "-"), "=")
		if fset.Lookup(fname) == nil {
			return nil, fmt.Errorf("%s:%d:%d: unknown flag %q for vermont run", name, n, col, flagPart)
		}
		out = append(out, flagPart)
		if hasValue {
			out = append(out, strings.TrimSpace(value))
		}
	}
	return out, sc.Err()
}
