package results

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

var fuzzMethods = []string{
	"ArtifactService/CreateArtifact", "ArtifactService/FinalizeArtifact", "ArtifactService/ListArtifacts",
	"ArtifactService/GetSignedArtifactURL", "ArtifactService/DeleteArtifact",
	"CacheService/CreateCacheEntry", "CacheService/FinalizeCacheEntryUpload", "CacheService/GetCacheEntryDownloadURL",
}

// FuzzTwirpRequest sends arbitrary bodies to every Twirp method. The
// properties: no panic, and every answer is a success or a Twirp error
// whose code is known and whose HTTP status is the code's.
func FuzzTwirpRequest(f *testing.F) {
	seeds := []string{
		`{"workflow_run_backend_id":"r","workflow_job_run_backend_id":"j","name":"dist","version":4,"expires_at":"2024-01-01T00:00:00Z","mime_type":"application/zip"}`,
		`{"workflow_run_backend_id":"r","workflow_job_run_backend_id":"j","name":"dist","size":"123","hash":"sha256:00"}`,
		`{"workflow_run_backend_id":"r","workflow_job_run_backend_id":"j","name_filter":"dist","id_filter":"7"}`,
		`{"metadata":{"repository_id":"1","scope":[{"scope":"refs/heads/main","permission":"3"}]},"key":"k","version":"v"}`,
		`{"key":"k","restore_keys":["a","b"],"version":"v"}`,
		`{"key":"k","size_bytes":12,"version":"v"}`,
		`{"name":"../x"}`, `[]`, `null`, `{"size":1e99}`, `{} {}`, ``,
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	s, err := New(WithArtifactDir(f.TempDir()+"/a"), WithCacheDir(f.TempDir()+"/c"))
	if err != nil {
		f.Fatal(err)
	}
	token := s.Token("r", "j")
	f.Fuzz(func(t *testing.T, m uint8, body []byte) {
		method := fuzzMethods[int(m)%len(fuzzMethods)]
		req := httptest.NewRequest(http.MethodPost, twirpPrefix+method, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK {
			return
		}
		var te struct{ Code, Msg string }
		if err := json.Unmarshal(rec.Body.Bytes(), &te); err != nil {
			t.Fatalf("%s: status %d with a body that is not a Twirp error: %q", method, rec.Code, rec.Body)
		}
		if want, ok := twirpStatus[te.Code]; !ok || want != rec.Code || te.Msg == "" {
			t.Fatalf("%s: status %d with error %+v", method, rec.Code, te)
		}
		if te.Code == codeInternal {
			t.Fatalf("%s: internal error for %q", method, body)
		}
	})
}

// FuzzBlockList feeds arbitrary Put Block List bodies to the parser: no
// panic, and every id it returns is 1 to 64 bytes.
func FuzzBlockList(f *testing.F) {
	for _, s := range []string{
		`<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>AAAA</Latest><Committed>AQID</Committed></BlockList>`,
		`<BlockList><Uncommitted> AAAA </Uncommitted></BlockList>`, `<BlockList><Other/></BlockList>`, `<x/>`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ids, err := parseBlockList(bytes.NewReader(body))
		if err != nil {
			return
		}
		for _, id := range ids {
			if len(id) == 0 || len(id) > 64 {
				t.Fatalf("block id of %d bytes accepted", len(id))
			}
		}
	})
}
