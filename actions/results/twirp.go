package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// twirpError is an error in Twirp's wire form: {"code": ..., "msg": ...}.
// The toolkits show msg to the user, so it says what was wrong.
type twirpError struct {
	code string
	msg  string
}

func (e *twirpError) Error() string { return e.code + ": " + e.msg }

// Twirp error codes used here, with the HTTP status Twirp gives each.
const (
	codeInvalidArgument  = "invalid_argument"
	codeMalformed        = "malformed"
	codeUnauthenticated  = "unauthenticated"
	codePermissionDenied = "permission_denied"
	codeNotFound         = "not_found"
	codeAlreadyExists    = "already_exists"
	codeFailedPrecond    = "failed_precondition"
	codeBadRoute         = "bad_route"
	codeInternal         = "internal"
)

var twirpStatus = map[string]int{
	codeInvalidArgument:  http.StatusBadRequest,
	codeMalformed:        http.StatusBadRequest,
	codeUnauthenticated:  http.StatusUnauthorized,
	codePermissionDenied: http.StatusForbidden,
	codeNotFound:         http.StatusNotFound,
	codeAlreadyExists:    http.StatusConflict,
	codeFailedPrecond:    http.StatusPreconditionFailed,
	codeBadRoute:         http.StatusNotFound,
	codeInternal:         http.StatusInternalServerError,
}

func errorf(code, format string, args ...any) *twirpError {
	return &twirpError{code: code, msg: fmt.Sprintf(format, args...)}
}

// writeTwirpError writes err as a Twirp error. Errors that are not Twirp
// errors are internal; their text stays in the server (it may name paths)
// and the client gets a generic message.
func writeTwirpError(w http.ResponseWriter, err error) {
	var te *twirpError
	if !errors.As(err, &te) {
		te = &twirpError{code: codeInternal, msg: "internal error in the Vermont results service"}
	}
	status, ok := twirpStatus[te.code]
	if !ok {
		status = http.StatusInternalServerError
	}
	b, _ := json.Marshal(map[string]string{"code": te.code, "msg": te.msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeTwirpError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// maxRequestBody bounds a Twirp request; the real ones are a few hundred
// bytes.
const maxRequestBody = 1 << 20

// decodeRequest reads a Twirp JSON request body into v. Unknown fields are
// ignored, as Twirp servers do, so newer clients keep working.
func decodeRequest(r *http.Request, v any) error {
	if r.Method != http.MethodPost {
		return errorf(codeBadRoute, "%s: Twirp methods take POST, not %s", r.URL.Path, r.Method)
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/json" {
		return errorf(codeBadRoute, "%s: want Content-Type application/json (only Twirp's JSON encoding is served), got %q", r.URL.Path, r.Header.Get("Content-Type"))
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		return errorf(codeMalformed, "reading the request body: %v", err)
	}
	if len(body) > maxRequestBody {
		return errorf(codeMalformed, "the request body is over %d bytes", maxRequestBody)
	}
	return decodeJSON(body, v)
}

// decodeJSON decodes one JSON object into v, with a message that says
// where it went wrong.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var ue *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return errorf(codeMalformed, "the request is not valid JSON (offset %d): %v", se.Offset, se)
		case errors.As(err, &ue):
			return errorf(codeMalformed, "field %q: want %s, got JSON %s", ue.Field, ue.Type, ue.Value)
		default:
			return errorf(codeMalformed, "the request does not decode: %v", err)
		}
	}
	if dec.More() {
		return errorf(codeMalformed, "the request has data after its JSON object")
	}
	return nil
}

// int64JSON is a protobuf int64 in JSON: a string ("123", as protobuf's
// JSON mapping writes it) or a number on input; always a string on output.
type int64JSON int64

func (n int64JSON) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatInt(int64(n), 10) + `"`), nil
}

func (n *int64JSON) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("want an int64 (a number or a decimal string), got %s", b)
	}
	*n = int64JSON(v)
	return nil
}
