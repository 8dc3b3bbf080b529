package hyperv

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// recordFile is the sidecar, in each instance directory, that carries what
// schema 1 documents cannot: labels, the pool, the creation time, and the
// runner PID for reopening after a restart. (The endpoint is found by name.)
const recordFile = "instance.json"

// recordVersion is bumped when the record's meaning changes.
const recordVersion = 1

// record is the sidecar's content. It holds no secret.
type record struct {
	Version   int               `json:"version"`
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Pool      string            `json:"pool"`
	Labels    map[string]string `json:"labels"`
	CreatedAt time.Time         `json:"createdAt"`
	PID       int               `json:"pid,omitempty"`
}

// writeRecord writes r into dir atomically (temp file, then rename), so a
// crash leaves either the old record or the new one.
func writeRecord(dir string, r *record) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding instance record: %w", err)
	}
	tmp, err := os.CreateTemp(dir, recordFile+".*")
	if err != nil {
		return fmt.Errorf("writing instance record: %w", err)
	}
	_, werr := tmp.Write(append(data, '\n'))
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("writing instance record: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, recordFile)); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("writing instance record: %w", err)
	}
	return nil
}

// readRecord reads dir's record; a missing one wraps fs.ErrNotExist.
func readRecord(dir string) (*record, error) {
	data, err := os.ReadFile(filepath.Join(dir, recordFile))
	if err != nil {
		return nil, fmt.Errorf("reading instance record: %w", err)
	}
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("reading instance record %s: %w", filepath.Join(dir, recordFile), err)
	}
	if r.Version != recordVersion {
		return nil, fmt.Errorf("instance record %s: version %d, want %d", filepath.Join(dir, recordFile), r.Version, recordVersion)
	}
	return &r, nil
}

// writeConfig writes the runner config where the container sees it. The
// file is created fresh (O_EXCL) and readable by its owner only.
func writeConfig(configDir, config string) error {
	if err := os.MkdirAll(configDir, 0o700); err != nil {
		return fmt.Errorf("creating config folder: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(configDir, configFileName), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("creating runner config file: %w", err)
	}
	_, werr := f.WriteString(config)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		// Deliberately not wrapping werr/cerr text with the content: only
		// the OS error, which never contains what was written.
		return fmt.Errorf("writing runner config file: %w", err)
	}
	return nil
}

// isNotExist reports whether err says a file is missing.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
