// Package secrets is the cryptography behind `vermont serve`'s Actions
// secrets: each repository's Curve25519 public key, which GitHub's clients
// (gh secret set, @octokit/rest, go-github) encrypt a secret to as a
// libsodium sealed box, and the encryption of secrets at rest under the
// service's key.
//
// GitHub's flow: GET /repos/{owner}/{repo}/actions/secrets/public-key answers
// a key_id and a base64 key; the client seals the value to it
// (crypto_box_seal: an ephemeral public key followed by a box whose nonce is
// blake2b(ephemeral pk || recipient pk)) and PUTs it as encrypted_value with
// the key_id
// (https://docs.github.com/en/rest/actions/secrets#create-or-update-a-repository-secret).
// Box.OpenSealed opens that; Box.Encrypt and Box.Decrypt keep the value under
// AES-256-GCM at rest. A secret's value never appears in an error of this
// package.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"

	"golang.org/x/crypto/curve25519"
	"golang.org/x/crypto/nacl/box"
)

// KeySize is the size of the service key, in bytes (AES-256).
const KeySize = 32

// Errors, checked with errors.Is.
var (
	// ErrKeyID is a sealed value for a key_id that is not the repository's.
	ErrKeyID = errors.New("secrets: key_id does not match the repository's public key")
	// ErrSealed is an encrypted_value that is not base64 or does not open
	// with the repository's key.
	ErrSealed = errors.New("secrets: encrypted_value is not a sealed box for the repository's public key")
	// ErrCorrupt is a value at rest that does not decrypt under the key.
	ErrCorrupt = errors.New("secrets: stored value does not decrypt under the service key")
)

// Box holds the service key and derives every other key from it. It is
// safe for concurrent use.
type Box struct {
	key [KeySize]byte
}

// New returns a Box over a KeySize-byte service key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secrets: the service key is %d bytes, want %d", len(key), KeySize)
	}
	b := &Box{}
	copy(b.key[:], key)
	return b, nil
}

// PublicKey is a repository's public key as GitHub's API answers it.
type PublicKey struct {
	KeyID string // a decimal number, as GitHub's key_id
	Key   string // the Curve25519 public key, base64 (standard, padded)
}

// derive returns a 32-byte subkey of the service key for purpose.
func (b *Box) derive(purpose string) [32]byte {
	k, err := hkdf.Key(sha256.New, b.key[:], nil, "vermont secrets: "+purpose, 32)
	if err != nil {
		// hkdf.Key fails only for a length above 255*32.
		panic("secrets: hkdf: " + err.Error())
	}
	var out [32]byte
	copy(out[:], k)
	return out
}

// keyPair returns repo's Curve25519 key pair. It is derived from the service
// key, so nothing more is stored and it survives restarts; repo is the
// repository's full name (owner/name).
func (b *Box) keyPair(repo string) (pub, priv *[32]byte) {
	priv = new([32]byte)
	*priv = b.derive("repository key pair: " + repo)
	pub = new([32]byte)
	p, err := curve25519.X25519(priv[:], curve25519.Basepoint)
	if err != nil {
		// X25519 fails only for a low-order point, which the base point is not.
		panic("secrets: x25519: " + err.Error())
	}
	copy(pub[:], p)
	return pub, priv
}

// keyID names a public key as GitHub does: a decimal number (GitHub's are
// 19 digits, such as "568250167242549743").
func keyID(pub *[32]byte) string {
	h := sha256.Sum256(pub[:])
	return strconv.FormatUint(binary.BigEndian.Uint64(h[:8])>>1, 10)
}

// PublicKey returns repo's public key.
func (b *Box) PublicKey(repo string) PublicKey {
	pub, _ := b.keyPair(repo)
	return PublicKey{KeyID: keyID(pub), Key: base64.StdEncoding.EncodeToString(pub[:])}
}

// OpenSealed opens encryptedValue (base64 of a sealed box) that a client
// sealed to repo's public key keyID, and returns the plaintext.
func (b *Box) OpenSealed(repo, keyIDGiven, encryptedValue string) ([]byte, error) {
	pub, priv := b.keyPair(repo)
	if keyIDGiven != keyID(pub) {
		return nil, ErrKeyID
	}
	sealed, err := base64.StdEncoding.DecodeString(encryptedValue)
	if err != nil {
		return nil, ErrSealed
	}
	out, ok := box.OpenAnonymous(nil, sealed, pub, priv)
	if !ok {
		return nil, ErrSealed
	}
	return out, nil
}

// Encrypt encrypts plaintext for storage with AES-256-GCM under a subkey of
// the service key, with a random nonce. context binds the ciphertext to
// where it is stored (such as "repo 7 secret NAME"), so a value copied to
// another row does not decrypt.
func (b *Box) Encrypt(context string, plaintext []byte) (nonce, ciphertext []byte, err error) {
	aead, err := b.aead()
	if err != nil {
		return nil, nil, err
	}
	nonce = make([]byte, aead.NonceSize())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return nil, nil, fmt.Errorf("secrets: nonce: %w", err)
	}
	return nonce, aead.Seal(nil, nonce, plaintext, []byte(context)), nil
}

// Decrypt reverses Encrypt for the same context.
func (b *Box) Decrypt(context string, nonce, ciphertext []byte) ([]byte, error) {
	aead, err := b.aead()
	if err != nil {
		return nil, err
	}
	if len(nonce) != aead.NonceSize() || len(ciphertext) < aead.Overhead() {
		return nil, ErrCorrupt
	}
	out, err := aead.Open(nil, nonce, ciphertext, []byte(context))
	if err != nil {
		return nil, ErrCorrupt
	}
	return out, nil
}

func (b *Box) aead() (cipher.AEAD, error) {
	k := b.derive("at rest")
	c, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	return cipher.NewGCM(c)
}

// SubKey returns a 32-byte key for purpose derived from the service key,
// for other uses of it (such as signing download URLs); distinct purposes
// give independent keys.
func (b *Box) SubKey(purpose string) [32]byte {
	return b.derive("subkey: " + purpose)
}

// RowContext is the context a repository's secret is encrypted under at
// rest (Encrypt, Decrypt): repoID is the repository's id in the store (0 for
// the service-wide secrets), name the secret's name as stored.
func RowContext(repoID int64, name string) string {
	return "repository " + strconv.FormatInt(repoID, 10) + " secret " + name
}
