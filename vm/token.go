package vm

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// EnvInstanceToken is the environment variable through which every instance
// gets its token: what it must show (as "Authorization: Bearer TOKEN") to
// fetch its runner config or report completion at the pool's HTTP API, so
// that nobody else who can reach the port can take the config, a
// credential. The token is a secret.
const EnvInstanceToken = "VERMONT_RUNNER_TOKEN"

// InstanceToken returns the token of the named instance: an HMAC of the
// name under a key kept in the pool's state, so it survives a restart. It is
// empty before Start.
func (p *Pool) InstanceToken(name string) string {
	if len(p.key) == 0 {
		return ""
	}
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(name))
	return hex.EncodeToString(m.Sum(nil))
}

// CheckInstanceToken reports, in constant time, whether token is the named
// instance's.
func (p *Pool) CheckInstanceToken(name, token string) bool {
	want := p.InstanceToken(name)
	return want != "" && hmac.Equal([]byte(token), []byte(want))
}
