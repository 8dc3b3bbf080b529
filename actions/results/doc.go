// Package results serves GitHub's Actions Results Service to the steps of a
// local run, so that actions/upload-artifact@v4, actions/download-artifact@v4
// and actions/cache@v4 (the npm packages @actions/artifact 2+ and
// @actions/cache 4+ underneath them) work unchanged.
//
// The toolkits speak Twirp JSON to
// $ACTIONS_RESULTS_URL/twirp/github.actions.results.api.v1.ArtifactService/<Method>
// and .../CacheService/<Method> (cache service v2), then move the bytes
// through signed blob URLs with Azure Blob Storage semantics (Put Block,
// Put Block List, Put Blob; a plain, possibly ranged, GET). A Server
// implements both: it mints the runtime token steps get in
// ACTIONS_RUNTIME_TOKEN (a JWT whose scp claim names the run and job,
// HMAC-signed with a key of its own), checks it on every Twirp call, signs
// every blob URL it hands out, and stores blobs on disk.
//
// Artifacts belong to a run: a later job of the same run lists and
// downloads them. Cache entries are shared by every run that uses the same
// cache directory, and are matched as actions/cache documents: the exact
// key first, then the newest entry whose key starts with the key, then each
// restore key in turn (exact, then newest prefix match), always within the
// same version.
package results
