package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vermont-ci/vermont/server/store"
)

func TestSessions(t *testing.T) { eachBackend(t, testSessions) }

// testSessions expects a session to name its token until it expires, its
// browser signs out, or its token is deleted.
func testSessions(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, _ := open(t, store.WithClock(c.now))
	tok, err := s.CreateToken(ctx, store.Token{Name: "me", Hash: []byte{9}, Scope: "write"})
	if err != nil {
		t.Fatal(err)
	}
	a, b, gone := []byte("session a"), []byte("session b"), []byte("session c")
	for _, h := range [][]byte{a, b, gone} {
		if err := s.CreateSession(ctx, h, tok.ID, c.now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.SessionToken(ctx, a); err != nil || got.ID != tok.ID || got.Name != "me" {
		t.Fatalf("live session: %+v, %v", got, err)
	}
	if err := s.DeleteSession(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionToken(ctx, gone); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a session signed out: %v, want not found", err)
	}
	c.add(time.Hour)
	if _, err := s.SessionToken(ctx, a); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an expired session: %v, want not found", err)
	}
	if err := s.CreateSession(ctx, a, tok.ID, c.now().Add(time.Hour)); err != nil {
		t.Fatalf("a new session under an expired one's hash (expired ones are forgotten): %v", err)
	}
	if err := s.DeleteToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionToken(ctx, a); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a session of a deleted token: %v, want not found", err)
	}
}
