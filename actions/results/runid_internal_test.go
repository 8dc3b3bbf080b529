package results

import (
	"regexp"
	"strings"
	"testing"
)

// TestSafeRunID: the loop accepts exactly what the regexp it replaced did.
func TestSafeRunID(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
	for _, id := range []string{"", "1", "1796594823644", "a.b-c_D", ".", "..", "a/b", `a\b`, "a b", "ü", "x\n",
		strings.Repeat("a", 64), strings.Repeat("a", 65), "run:1", "%2e"} {
		if got, want := safeRunID(id), re.MatchString(id); got != want {
			t.Errorf("safeRunID(%q) = %v, want %v", id, got, want)
		}
	}
}
