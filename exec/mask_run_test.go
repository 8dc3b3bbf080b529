//go:build !windows

package exec_test

import (
	"encoding/base64"
	"testing"

	"github.com/vermont-ci/vermont/schedule"
)

// TestRunMasksEncodedSecrets prints a secret as base64 (also inside
// base64("user:" + secret), as HTTP Basic auth does), URL-, XML- and
// JSON-escaped, some of it across two writes, and expects every form
// masked, as GitHub's runner masks them (exec/mask_encode.go).
func TestRunMasksEncodedSecrets(t *testing.T) {
	t.Parallel()
	const secret = `p@ss w0rd/<secret>"!`
	r := runFile(t, td("mask-encoded.yml"), runOpts{secrets: map[string]any{"MY_SECRET": secret}})
	if r.res.Result != schedule.Success {
		t.Fatalf("result %s\n%s", r.res.Result, r.events.String())
	}
	// "user:" is 5 bytes, so the secret's second byte starts a base64
	// group: the 8 characters of "user:p" stay, the rest is the shifted form.
	basic := base64.StdEncoding.EncodeToString([]byte("user:" + secret))[:8]
	r.events.WantLines(t, "encoded",
		"base64: ***",
		"basic: "+basic+"***",
		"url: ?q=***&x=1",
		"xml: <v>***</v>",
		`json: {"s":"***"}`)
	for _, leak := range []string{"w0rd", base64.StdEncoding.EncodeToString([]byte(secret))[4:12], "w0rd%2F"} {
		notLines(t, r, leak)
	}
}
