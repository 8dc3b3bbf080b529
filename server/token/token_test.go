package token

import (
	"bytes"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		plain, hash, err := New()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(plain, Prefix) || len(plain) != len(Prefix)+secretLen {
			t.Fatalf("token %q: want %s and %d characters", plain, Prefix, secretLen)
		}
		if strings.Trim(plain[len(Prefix):], alphabet) != "" {
			t.Fatalf("token %q has characters outside base62", plain)
		}
		if !bytes.Equal(hash, Hash(plain)) || !Matches(plain, hash) {
			t.Fatal("hash does not match its token")
		}
		if seen[plain] {
			t.Fatalf("token %q made twice", plain)
		}
		seen[plain] = true
	}
	if Matches("vmt_other", Hash("vmt_one")) {
		t.Fatal("Matches accepts another token")
	}
}

func TestScope(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		have  string
		need  Scope
		allow bool
	}{
		{name: "read reads", have: "read", need: Read, allow: true},
		{name: "read cannot write", have: "read", need: Write, allow: false},
		{name: "write writes", have: "write", need: Write, allow: true},
		{name: "write is not admin", have: "write", need: Admin, allow: false},
		{name: "admin writes", have: "admin", need: Write, allow: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseScope(tt.have)
			if err != nil {
				t.Fatal(err)
			}
			if s.String() != tt.have {
				t.Fatalf("String() = %q", s)
			}
			if got := s.Allows(tt.need); got != tt.allow {
				t.Fatalf("%v.Allows(%v) = %v", s, tt.need, got)
			}
		})
	}
	if _, err := ParseScope("root"); err == nil || !strings.Contains(err.Error(), "want read, write or admin") {
		t.Fatalf("ParseScope(root): %v", err)
	}
	if Scope(0).Allows(Read) {
		t.Fatal("the zero scope allows reading")
	}
}

func TestFromHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header string
		want   string
		ok     bool
	}{
		{name: "token", header: "token vmt_abc", want: "vmt_abc", ok: true},
		{name: "bearer", header: "Bearer vmt_abc", want: "vmt_abc", ok: true},
		{name: "case", header: "BEARER  vmt_abc ", want: "vmt_abc", ok: true},
		{name: "basic", header: "Basic dXNlcjpwYXNz", ok: false},
		{name: "empty", header: "", ok: false},
		{name: "scheme only", header: "token ", ok: false},
		{name: "no scheme", header: "vmt_abc", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := FromHeader(tt.header)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("FromHeader(%q) = %q, %v; want %q, %v", tt.header, got, ok, tt.want, tt.ok)
			}
		})
	}
}
