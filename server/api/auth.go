package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/vermont-ci/vermont/server/store"
	"github.com/vermont-ci/vermont/server/token"
)

// Tokens finds the token a request carries.
type Tokens interface {
	TokenByHash(ctx context.Context, hash []byte) (store.Token, error)
	TouchToken(ctx context.Context, id int64, t time.Time) error
}

// touchEvery bounds how often a token's last use is written: once a
// minute is enough to tell a token in use from a stale one, and keeps a
// write off every request.
const touchEvery = time.Minute

// authenticate returns the call of the token r carries, or GitHub's 401
// when it carries none or an unknown one.
func (a *API) authenticate(ctx context.Context, r *http.Request) (*call, error) {
	plain, ok := token.FromHeader(r.Header.Get("Authorization"))
	if !ok {
		return nil, errBadCredentials
	}
	t, err := a.store.TokenByHash(ctx, token.Hash(plain))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errBadCredentials
	}
	if err != nil {
		return nil, err
	}
	// The lookup was by hash; compare again in constant time so that the
	// answer never depends on how much of a guess matched.
	if !token.Matches(plain, t.Hash) {
		return nil, errBadCredentials
	}
	scope, err := token.ParseScope(t.Scope)
	if err != nil {
		return nil, errBadCredentials
	}
	if now := a.now(); now.Sub(t.LastUsedAt) >= touchEvery {
		if err := a.store.TouchToken(ctx, t.ID, now); err != nil {
			a.log.WarnContext(ctx, "api: recording a token's use", "token", t.Name, "err", err)
		}
	}
	return &call{user: user{id: t.ID, login: t.Name, scope: scope}, base: a.base(r)}, nil
}
