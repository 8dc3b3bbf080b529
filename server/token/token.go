// Package token makes and checks the API tokens of `vermont serve`. A token
// is shown once, when it is made; the service keeps only its SHA-256.
// Clients send it as GitHub's do: `Authorization: token T` or
// `Authorization: Bearer T`
// (https://docs.github.com/en/rest/authentication/authenticating-to-the-rest-api).
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"
)

// Prefix starts every token, as GitHub's start with ghp_, so a token is
// easy to recognise in a leaked file and for secret scanners.
const Prefix = "vmt_"

// Scope is what a token may do. Each scope includes the ones below it.
type Scope int

const (
	// Read may read everything the API serves except secrets' values, which
	// nobody may read.
	Read Scope = iota + 1
	// Write may also dispatch, cancel, re-run and delete runs, and set
	// secrets and variables.
	Write
	// Admin may do everything.
	Admin
)

// scopeNames are the scopes as written on the command line and stored.
var scopeNames = map[Scope]string{Read: "read", Write: "write", Admin: "admin"}

// String returns "read", "write" or "admin".
func (s Scope) String() string {
	if n, ok := scopeNames[s]; ok {
		return n
	}
	return fmt.Sprintf("Scope(%d)", int(s))
}

// ParseScope parses "read", "write" or "admin".
func ParseScope(s string) (Scope, error) {
	for sc, n := range scopeNames {
		if s == n {
			return sc, nil
		}
	}
	return 0, fmt.Errorf("token: unknown scope %q: want read, write or admin", s)
}

// Allows reports whether s includes need.
func (s Scope) Allows(need Scope) bool { return s >= need && s <= Admin }

// alphabet is base62, as GitHub's tokens use.
const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// secretLen is the random part's length: 40 base62 characters are 238 bits.
const secretLen = 40

// New returns a new random token and its hash.
func New() (plain string, hash []byte, err error) {
	var b strings.Builder
	b.WriteString(Prefix)
	buf := make([]byte, 64)
	for b.Len() < len(Prefix)+secretLen {
		if _, err := rand.Read(buf); err != nil {
			return "", nil, fmt.Errorf("token: %w", err)
		}
		for _, c := range buf {
			// 248 = 4*62: rejecting the bytes above keeps every
			// character equally likely.
			if c < 248 && b.Len() < len(Prefix)+secretLen {
				b.WriteByte(alphabet[c%62])
			}
		}
	}
	plain = b.String()
	return plain, Hash(plain), nil
}

// Hash is the SHA-256 of a token, as stored.
func Hash(plain string) []byte {
	h := sha256.Sum256([]byte(plain))
	return h[:]
}

// Matches reports in constant time whether plain's hash is hash.
func Matches(plain string, hash []byte) bool {
	return subtle.ConstantTimeCompare(Hash(plain), hash) == 1
}

// FromHeader returns the token of an Authorization header value, in
// GitHub's forms "token T" and "Bearer T" (the scheme case-insensitive),
// and false for anything else.
func FromHeader(v string) (string, bool) {
	scheme, t, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return "", false
	}
	if !strings.EqualFold(scheme, "token") && !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	t = strings.TrimSpace(t)
	return t, t != ""
}
