package hyperv

import (
	"github.com/vermont-ci/vermont/vm"
	"github.com/vermont-ci/vermont/vm/github"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackerScriptsMatchProvider checks that the image packer/ builds
// provides what the provider's defaults rely on: the entrypoint at the
// default command's path, reading the config file and variables the
// process document sets.
func TestPackerScriptsMatchProvider(t *testing.T) {
	t.Parallel()
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join("..", "..", "packer", "scripts", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	install, entry := read("install-runner.ps1"), read("vermont-entrypoint.ps1")
	tests := []struct {
		name, text, want string
	}{
		{name: "installs the entrypoint where the command runs it", text: install, want: `Join-Path $dir 'vermont-entrypoint.ps1'`},
		{name: "runner folder is the working directory", text: install, want: `$dir = '` + defaultWorkingDir + `'`},
		{name: "reads the runner name", text: entry, want: "$env:" + envRunnerName},
		{name: "reads the config file variable", text: entry, want: "$env:" + envConfigFile},
		{name: "default config file is the mapped one", text: entry, want: `'` + guestConfigDir + `\` + configFileName + `'`},
		{name: "runs one job", text: entry, want: "--jitconfig"},
		// The pool's registration-token fallback (old GHES) must be
		// recognised by the kind vm/github writes.
		{name: "knows the registration fallback", text: entry, want: `$reg.kind -eq '` + github.KindRegistration + `'`},
		{name: "registers an ephemeral runner", text: entry, want: "--ephemeral"},
		{name: "shows the instance token to the pool", text: entry, want: "$env:" + vm.EnvInstanceToken},
	}
	if !strings.Contains(defaultCommand, defaultWorkingDir+`\vermont-entrypoint.ps1`) {
		t.Errorf("default command %q does not run %s\\vermont-entrypoint.ps1", defaultCommand, defaultWorkingDir)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(tt.text, tt.want) {
				t.Errorf("script lacks %q", tt.want)
			}
		})
	}
}
