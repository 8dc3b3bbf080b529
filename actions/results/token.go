package results

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// scopePrefix starts the scp claim the toolkits read the run and job
// backend ids from: "Actions.Results:<run>:<job>".
const scopePrefix = "Actions.Results"

// jwtHeader is the fixed header of every token (HS256).
var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

type claims struct {
	Scope    string `json:"scp"`
	IssuedAt int64  `json:"iat"`
}

// Token returns the runtime token for a job of a run: a JWT, HMAC-signed
// with the server's key, whose scp claim names both. It is a secret: give
// it to the job's steps (ACTIONS_RUNTIME_TOKEN) and mask it. It is the same
// for the same run and job, and valid for as long as the server runs. An id
// with a ':' or a space, which the scope cannot carry, gives "".
func (s *Server) Token(runID, jobID string) string {
	if !validID(runID) || !validID(jobID) {
		return ""
	}
	c := claims{Scope: "Actions.Runtime " + scopePrefix + ":" + runID + ":" + jobID, IssuedAt: s.started.Unix()}
	payload, _ := json.Marshal(c)
	unsigned := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	return unsigned + "." + base64.RawURLEncoding.EncodeToString(s.mac([]byte(unsigned)))
}

// validID reports whether id can be a backend id in a token's scope.
func validID(id string) bool {
	return id != "" && len(id) <= 256 && !strings.ContainsAny(id, ": \t\r\n")
}

// mac is the HMAC-SHA256 of data under the server's key.
func (s *Server) mac(data []byte) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write(data)
	return h.Sum(nil)
}

// identity is what a valid token says: the run and job it was minted for.
type identity struct {
	run, job string
}

// verifyToken checks an Authorization header and returns the identity its
// token carries. The token's text never appears in an error.
func (s *Server) verifyToken(header string) (identity, error) {
	tok, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || tok == "" {
		return identity{}, errorf(codeUnauthenticated, "no runtime token: send Authorization: Bearer $ACTIONS_RUNTIME_TOKEN")
	}
	i := strings.LastIndexByte(tok, '.')
	if i < 0 {
		return identity{}, errorf(codeUnauthenticated, "the runtime token is not a JWT")
	}
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil || !hmac.Equal(sig, s.mac([]byte(tok[:i]))) {
		return identity{}, errorf(codeUnauthenticated, "the runtime token was not issued by this server (bad signature)")
	}
	head, payload, ok := strings.Cut(tok[:i], ".")
	if !ok || head != jwtHeader {
		return identity{}, errorf(codeUnauthenticated, "the runtime token has an unexpected header")
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	var c claims
	if err == nil {
		err = json.Unmarshal(raw, &c)
	}
	if err != nil {
		return identity{}, errorf(codeUnauthenticated, "the runtime token's claims do not decode")
	}
	for _, sc := range strings.Fields(c.Scope) {
		parts := strings.Split(sc, ":")
		if parts[0] == scopePrefix && len(parts) == 3 {
			return identity{run: parts[1], job: parts[2]}, nil
		}
	}
	return identity{}, errorf(codeUnauthenticated, "the runtime token has no %s scope", scopePrefix)
}

// Blob permissions a signed URL grants.
const (
	permRead  = "r"
	permWrite = "w"
)

// signedURL returns base+path with an expiry and a signature over the
// permission, the path and the expiry, as a SAS URL carries.
func (s *Server) signedURL(base, path, perm string, ttl time.Duration) string {
	exp := strconv.FormatInt(s.now().Add(ttl).Unix(), 10)
	sig := base64.RawURLEncoding.EncodeToString(s.mac([]byte(perm + "\n" + path + "\n" + exp)))
	return base + path + "?sp=" + perm + "&se=" + exp + "&sig=" + sig
}

// checkSignature verifies a blob URL's signature for perm.
func (s *Server) checkSignature(path, perm, exp, sig string) bool {
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac([]byte(perm+"\n"+path+"\n"+exp))) {
		return false
	}
	n, err := strconv.ParseInt(exp, 10, 64)
	return err == nil && s.now().Unix() <= n
}
