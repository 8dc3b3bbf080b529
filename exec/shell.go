package exec

import (
	"fmt"
	"strings"
)

// A shellSpec is how GitHub runs a `run:` script for one `shell:` value
// ("Workflow syntax", jobs.<job_id>.steps[*].shell).
type shellSpec struct {
	Template string // the command line, {0} is the script file
	Ext      string // the script file's extension
}

// shells are GitHub's built-in shell keywords.
var shells = map[string]shellSpec{
	"bash":       {"bash --noprofile --norc -eo pipefail {0}", ".sh"},
	"sh":         {"sh -e {0}", ".sh"},
	"python":     {"python {0}", ".py"},
	"pwsh":       {"pwsh -command \". '{0}'\"", ".ps1"},
	"powershell": {"powershell -command \". '{0}'\"", ".ps1"},
	"cmd":        {"%ComSpec% /D /E:ON /V:OFF /S /C \"CALL \"{0}\"\"", ".cmd"},
}

// resolveShell returns the spec for a shell: value. An empty value is
// GitHub's default: `bash -e {0}` where bash is found (have reports it),
// else `sh -e {0}`; on Windows, pwsh.
func resolveShell(shell, goos string, have func(string) bool) (shellSpec, error) {
	switch shell {
	case "":
		if goos == "windows" {
			return shells["pwsh"], nil
		}
		if have("bash") {
			return shellSpec{"bash -e {0}", ".sh"}, nil
		}
		return shells["sh"], nil
	case "python":
		if !have("python") && have("python3") {
			return shellSpec{"python3 {0}", ".py"}, nil
		}
	}
	if s, ok := shells[shell]; ok {
		return s, nil
	}
	if !strings.Contains(shell, "{0}") {
		return shellSpec{}, fmt.Errorf("shell %q is not a known shell and has no {0} placeholder for the script file; use bash, sh, pwsh, python, cmd, powershell, or a command like \"perl {0}\"", shell)
	}
	return shellSpec{Template: shell}, nil
}

// argv splits the template into arguments, honouring double quotes, and
// puts the script path in place of {0}.
func (s shellSpec) argv(script string) []string {
	var args []string
	var cur strings.Builder
	inQuote, any := false, false
	tpl := s.Template
	for i := 0; i < len(tpl); i++ {
		c := tpl[i]
		switch {
		case c == '"':
			inQuote = !inQuote
			any = true
		case (c == ' ' || c == '\t') && !inQuote:
			if any {
				args = append(args, cur.String())
				cur.Reset()
				any = false
			}
		default:
			cur.WriteByte(c)
			any = true
		}
	}
	if any {
		args = append(args, cur.String())
	}
	for i, a := range args {
		args[i] = strings.ReplaceAll(a, "{0}", script)
	}
	return args
}
