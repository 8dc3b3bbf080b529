// Package release holds no code, only the test that keeps the release
// configuration honest: TestReleaseTargetsBuild cross-compiles every
// goos/goarch pair that .goreleaser.yaml at the repository root names, with
// the flags it names, so a tag push cannot meet a target that does not build.
package release
