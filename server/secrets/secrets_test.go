package secrets

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/crypto/nacl/box"
)

func newBox(t *testing.T) *Box {
	t.Helper()
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	b, err := New(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// seal is what gh and go-github do: crypto_box_seal to the repository's
// public key (https://docs.github.com/en/rest/guides/encrypting-secrets-for-the-rest-api).
func seal(t *testing.T, pk PublicKey, value string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(pk.Key)
	if err != nil || len(raw) != 32 {
		t.Fatalf("public key %q: %v (%d bytes)", pk.Key, err, len(raw))
	}
	var pub [32]byte
	copy(pub[:], raw)
	out, err := box.SealAnonymous(nil, []byte(value), &pub, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(out)
}

func TestOpenSealed(t *testing.T) {
	t.Parallel()
	b := newBox(t)
	pk := b.PublicKey("octo/hello")
	other := b.PublicKey("octo/other")
	if pk.KeyID == other.KeyID || pk.Key == other.Key {
		t.Fatalf("two repositories share a key: %+v %+v", pk, other)
	}
	if again := b.PublicKey("octo/hello"); again != pk {
		t.Fatalf("public key changed between calls: %+v then %+v", pk, again)
	}
	tests := []struct {
		name    string
		repo    string
		keyID   string
		value   string
		wantErr error
	}{
		{name: "ok", repo: "octo/hello", keyID: pk.KeyID, value: seal(t, pk, "s3cr3t value")},
		{name: "wrong key id", repo: "octo/hello", keyID: other.KeyID, value: seal(t, pk, "x"), wantErr: ErrKeyID},
		{name: "sealed to another repository", repo: "octo/hello", keyID: pk.KeyID, value: seal(t, other, "x"), wantErr: ErrSealed},
		{name: "not base64", repo: "octo/hello", keyID: pk.KeyID, value: "%%%", wantErr: ErrSealed},
		{name: "truncated", repo: "octo/hello", keyID: pk.KeyID, value: base64.StdEncoding.EncodeToString([]byte("short")), wantErr: ErrSealed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := b.OpenSealed(tt.repo, tt.keyID, tt.value)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("OpenSealed: err %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && string(got) != "s3cr3t value" {
				t.Fatalf("OpenSealed = %q", got)
			}
		})
	}
}

func TestEncryptDecrypt(t *testing.T) {
	t.Parallel()
	b := newBox(t)
	nonce, ct, err := b.Encrypt("repo octo/hello secret A", []byte("hunter2"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, []byte("hunter2")) {
		t.Fatal("ciphertext contains the plaintext")
	}
	nonce2, ct2, _ := b.Encrypt("repo octo/hello secret A", []byte("hunter2"))
	if bytes.Equal(ct, ct2) || bytes.Equal(nonce, nonce2) {
		t.Fatal("two encryptions of one value are equal: the nonce is not random")
	}
	tests := []struct {
		name    string
		box     *Box
		context string
		nonce   []byte
		data    []byte
		wantErr error
	}{
		{name: "ok", box: b, context: "repo octo/hello secret A", nonce: nonce, data: ct},
		{name: "other context", box: b, context: "repo octo/hello secret B", nonce: nonce, data: ct, wantErr: ErrCorrupt},
		{name: "other key", box: newBox(t), context: "repo octo/hello secret A", nonce: nonce, data: ct, wantErr: ErrCorrupt},
		{name: "other nonce", box: b, context: "repo octo/hello secret A", nonce: nonce2, data: ct, wantErr: ErrCorrupt},
		{name: "flipped bit", box: b, context: "repo octo/hello secret A", nonce: nonce, data: flip(ct), wantErr: ErrCorrupt},
		{name: "short", box: b, context: "repo octo/hello secret A", nonce: nonce, data: ct[:10], wantErr: ErrCorrupt},
		{name: "no nonce", box: b, context: "repo octo/hello secret A", data: ct, wantErr: ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.box.Decrypt(tt.context, tt.nonce, tt.data)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Decrypt: err %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && string(got) != "hunter2" {
				t.Fatalf("Decrypt = %q", got)
			}
		})
	}
}

func flip(b []byte) []byte {
	c := bytes.Clone(b)
	c[len(c)-1] ^= 1
	return c
}

func TestLoadKey(t *testing.T) {
	t.Parallel()
	envKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, KeySize))
	t.Run("created once with mode 0600", func(t *testing.T) {
		dir := t.TempDir()
		k1, err := LoadKey(dir, "")
		if err != nil {
			t.Fatal(err)
		}
		k2, err := LoadKey(dir, "")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(k1, k2) || len(k1) != KeySize {
			t.Fatalf("key changed between loads or has %d bytes", len(k1))
		}
		fi, err := os.Stat(filepath.Join(dir, KeyFile))
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file mode %04o, want 0600", fi.Mode().Perm())
		}
	})
	t.Run("environment wins", func(t *testing.T) {
		dir := t.TempDir()
		k, err := LoadKey(dir, envKey)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(k, bytes.Repeat([]byte{7}, KeySize)) {
			t.Fatal("VERMONT_SECRET_KEY not used")
		}
		if _, err := os.Stat(filepath.Join(dir, KeyFile)); err == nil {
			t.Fatal("a key file was written although the environment gave the key")
		}
	})
	tests := []struct {
		name    string
		env     string
		file    string
		mode    os.FileMode
		wantErr string
	}{
		{name: "env not base64", env: "not base64!", wantErr: "VERMONT_SECRET_KEY: the key is not base64"},
		{name: "env too short", env: base64.StdEncoding.EncodeToString([]byte("short")), wantErr: "the key is 5 bytes, want 32"},
		{name: "file readable by others", file: envKey, mode: 0o644, wantErr: "readable by its owner only"},
		{name: "file garbage", file: "???", mode: 0o600, wantErr: "the key is not base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.mode&0o077 != 0 && runtime.GOOS == "windows" {
				return // Windows has no Unix modes; checkMode documents that.
			}
			dir := t.TempDir()
			if tt.file != "" {
				if err := os.WriteFile(filepath.Join(dir, KeyFile), []byte(tt.file), tt.mode); err != nil {
					t.Fatal(err)
				}
				os.Chmod(filepath.Join(dir, KeyFile), tt.mode)
			}
			_, err := LoadKey(dir, tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("LoadKey: err %v, want %q", err, tt.wantErr)
			}
			if tt.env != "" && strings.Contains(err.Error(), tt.env) {
				t.Fatalf("error %q contains the key", err)
			}
		})
	}
}

// FuzzOpenSealed feeds arbitrary encrypted_value strings, as a client may
// send any: no panic, and only a value sealed to the key opens.
func FuzzOpenSealed(f *testing.F) {
	b, err := New(bytes.Repeat([]byte{1}, KeySize))
	if err != nil {
		f.Fatal(err)
	}
	pk := b.PublicKey("o/r")
	raw, _ := base64.StdEncoding.DecodeString(pk.Key)
	var pub [32]byte
	copy(pub[:], raw)
	sealed, _ := box.SealAnonymous(nil, []byte("v"), &pub, rand.Reader)
	f.Add(base64.StdEncoding.EncodeToString(sealed))
	f.Add("")
	f.Add("AAAA")
	f.Fuzz(func(t *testing.T, v string) {
		out, err := b.OpenSealed("o/r", pk.KeyID, v)
		if err == nil && out == nil {
			t.Fatal("nil plaintext without error")
		}
	})
}
