//go:build !windows

package secrets

import (
	"fmt"
	"os"
)

// checkMode refuses a key file that group or others can read or write.
func checkMode(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("secrets: %w", err)
	}
	if m := fi.Mode().Perm(); m&0o077 != 0 {
		return fmt.Errorf("secrets: %s has mode %04o; the service key must be readable by its owner only (chmod 600 %s)", path, m, path)
	}
	return nil
}
