package actions

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/vermont-ci/vermont/actions/actionstest"
)

// BenchmarkResolveCached20 resolves 20 distinct cached actions (20
// repositories, each owner/repo@v1) as one run does. "cold" uses a new
// offline Resolver each iteration, so every resolution reads the ref index,
// checks the entry and parses action.yml from disk; "warm" reuses one
// Resolver, as a long-lived runner would. One iteration is all 20.
func BenchmarkResolveCached20(b *testing.B) {
	srv := actionstest.NewServer(b)
	tool := actionstest.ReadTree(b, filepath.Join(fixtures, "hello"))
	uses := make([]string, 20)
	for i := range uses {
		repo := srv.NewRepo(b, "bench", fmt.Sprintf("action%02d", i))
		repo.Commit("v1", tool)
		repo.Git("tag", "v1")
		repo.Push()
		uses[i] = fmt.Sprintf("bench/action%02d@v1", i)
	}
	cache := b.TempDir()
	ctx := context.Background()
	fill, err := NewResolver(WithCacheDir(cache), WithGitHubURL(srv.URL))
	if err != nil {
		b.Fatal(err)
	}
	for _, u := range uses {
		if _, _, err := fill.Action(ctx, u, ""); err != nil {
			b.Fatal(err)
		}
	}
	srv.Close()
	resolveAll := func(b *testing.B, r *Resolver) {
		for _, u := range uses {
			if _, meta, err := r.Action(ctx, u, ""); err != nil || meta.Runs == nil {
				b.Fatal(u, err)
			}
		}
	}
	b.Run("cold", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r, err := NewResolver(WithCacheDir(cache), WithGitHubURL(srv.URL), WithOffline(true))
			if err != nil {
				b.Fatal(err)
			}
			resolveAll(b, r)
		}
	})
	b.Run("warm", func(b *testing.B) {
		r, err := NewResolver(WithCacheDir(cache), WithGitHubURL(srv.URL), WithOffline(true))
		if err != nil {
			b.Fatal(err)
		}
		resolveAll(b, r)
		b.ReportAllocs()
		for b.Loop() {
			resolveAll(b, r)
		}
	})
}
