package secrets

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeyFile is the service key's file inside the data directory.
const KeyFile = "secret.key"

// KeyEnv is the environment variable that gives the service key instead of
// the file: 32 bytes, base64 (standard or URL alphabet, padded or not).
const KeyEnv = "VERMONT_SECRET_KEY"

// LoadKey returns the service key: envValue (VERMONT_SECRET_KEY's value)
// when it is not empty, else the key in dataDir/secret.key, which is
// created with mode 0600 on first use. A key file readable by others is
// refused on Unix, as ssh refuses such a private key.
func LoadKey(dataDir, envValue string) ([]byte, error) {
	if envValue != "" {
		k, err := decodeKey(envValue)
		if err != nil {
			return nil, fmt.Errorf("secrets: %s: %w", KeyEnv, err)
		}
		return k, nil
	}
	path := filepath.Join(dataDir, KeyFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	if err := checkMode(path); err != nil {
		return nil, err
	}
	k, err := decodeKey(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, fmt.Errorf("secrets: %s: %w", path, err)
	}
	return k, nil
}

// decodeKey decodes a base64 key of KeySize bytes. The error never
// includes the value.
func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != KeySize {
				return nil, fmt.Errorf("the key is %d bytes, want %d (make one with: head -c 32 /dev/urandom | base64)", len(k), KeySize)
			}
			return k, nil
		}
	}
	return nil, errors.New("the key is not base64 (make one with: head -c 32 /dev/urandom | base64)")
}

// createKey writes a new random key to path, mode 0600, failing if the
// file appeared meanwhile (another process started at the same moment).
func createKey(path string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadKey(filepath.Dir(path), "")
	}
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("secrets: write %s: %w", path, err)
	}
	return k, nil
}
