package results

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The CacheService (v2) messages. metadata (repository id and scopes) is
// accepted and ignored: a local run has one scope.
type (
	createCacheEntryRequest struct {
		Metadata json.RawMessage `json:"metadata"`
		Key      string          `json:"key"`
		Version  string          `json:"version"`
	}
	createCacheEntryResponse struct {
		OK              bool   `json:"ok"`
		SignedUploadURL string `json:"signed_upload_url,omitempty"`
		Message         string `json:"message,omitempty"`
	}
	finalizeCacheEntryRequest struct {
		Metadata  json.RawMessage `json:"metadata"`
		Key       string          `json:"key"`
		SizeBytes int64JSON       `json:"size_bytes"`
		Version   string          `json:"version"`
	}
	finalizeCacheEntryResponse struct {
		OK      bool      `json:"ok"`
		EntryID int64JSON `json:"entry_id"`
		Message string    `json:"message,omitempty"`
	}
	cacheDownloadURLRequest struct {
		Metadata    json.RawMessage `json:"metadata"`
		Key         string          `json:"key"`
		RestoreKeys []string        `json:"restore_keys"`
		Version     string          `json:"version"`
	}
	cacheDownloadURLResponse struct {
		OK                bool   `json:"ok"`
		SignedDownloadURL string `json:"signed_download_url,omitempty"`
		MatchedKey        string `json:"matched_key,omitempty"`
	}
)

// checkCacheKey rejects what actions/cache rejects (empty, over 512
// characters, a comma) and control characters.
func checkCacheKey(what, key string) error {
	switch {
	case key == "":
		return errorf(codeInvalidArgument, "the cache %s is empty", what)
	case len(key) > maxNameLen:
		return errorf(codeInvalidArgument, "cache %s %.40q… is over %d bytes", what, key, maxNameLen)
	case strings.Contains(key, ","):
		return errorf(codeInvalidArgument, "cache %s %q contains a comma", what, key)
	}
	for _, r := range key {
		if unicode.IsControl(r) {
			return errorf(codeInvalidArgument, "cache %s %q contains control character %q", what, key, r)
		}
	}
	return nil
}

// checkCacheEntry checks the key and version that name a cache entry.
func checkCacheEntry(key, version string) error {
	if err := checkCacheKey("key", key); err != nil {
		return err
	}
	return checkVersion(version)
}

func checkVersion(v string) error {
	if v == "" || len(v) > maxNameLen {
		return errorf(codeInvalidArgument, "the cache version must be 1 to %d bytes (the toolkit sends a hash of the paths and compression)", maxNameLen)
	}
	return nil
}

func (s *Server) createCacheEntry(r *http.Request, _ identity) (any, error) {
	var req createCacheEntryRequest
	if err := decodeRequest(r, &req); err != nil {
		return nil, err
	}
	if err := checkCacheEntry(req.Key, req.Version); err != nil {
		return nil, err
	}
	st := s.caches()
	s.mu.Lock()
	defer s.mu.Unlock()
	all, err := st.list()
	if err != nil {
		return nil, err
	}
	for _, e := range all {
		if e.Name != req.Key || e.Version != req.Version {
			continue
		}
		// A save that was abandoned (its upload URL has expired) gives
		// way; anything else keeps the key, as caches are immutable.
		if !e.Finalized && s.now().Sub(e.Created) > s.urlTTL {
			if err := st.remove(e.ID); err != nil {
				return nil, err
			}
			continue
		}
		if e.Finalized {
			return nil, errorf(codeAlreadyExists, "a cache entry with key %q and this version already exists; cache entries cannot be overwritten", req.Key)
		}
		return nil, errorf(codeAlreadyExists, "another job is saving a cache entry with key %q and this version", req.Key)
	}
	e := &entry{Name: req.Key, Version: req.Version, Created: s.now()}
	if err := st.create(e); err != nil {
		return nil, err
	}
	u := s.signedURL(baseURL(r), cacheBlobPath(e.ID), permWrite, s.urlTTL)
	return createCacheEntryResponse{OK: true, SignedUploadURL: u}, nil
}

func cacheBlobPath(id int64) string { return blobPrefix + "caches/" + strconv.FormatInt(id, 10) }

func (s *Server) finalizeCacheEntry(r *http.Request, _ identity) (any, error) {
	var req finalizeCacheEntryRequest
	if err := decodeRequest(r, &req); err != nil {
		return nil, err
	}
	if err := checkCacheEntry(req.Key, req.Version); err != nil {
		return nil, err
	}
	st := s.caches()
	s.mu.Lock()
	defer s.mu.Unlock()
	all, err := st.list()
	if err != nil {
		return nil, err
	}
	var pending *entry
	for _, e := range all {
		if !e.Finalized && e.Name == req.Key && e.Version == req.Version {
			pending = e
		}
	}
	if pending == nil {
		return nil, errorf(codeNotFound, "no cache entry with key %q and this version is being saved (CreateCacheEntry first)", req.Key)
	}
	if err := s.sealEntry(st, pending, nil); err != nil {
		return nil, err
	}
	if err := s.evictCaches(st, all, pending.ID); err != nil {
		s.log.Warn("evicting cache entries", "err", err)
	}
	return finalizeCacheEntryResponse{OK: true, EntryID: int64JSON(pending.ID)}, nil
}

// cacheMaxIdle is how long GitHub keeps a cache entry nobody restores.
const cacheMaxIdle = 7 * 24 * time.Hour

// evictCaches does what GitHub does to a repository's caches: it removes
// the entries not saved or restored for seven days, and then, while the
// total is over the limit, the least recently used ones, among all (the
// store's entries, as listed under s.mu). The entry just saved (keep)
// stays. Callers hold s.mu.
func (s *Server) evictCaches(st store, all []*entry, keep int64) error {
	now := s.now()
	var live []*entry
	var total int64
	var errs []error
	for _, e := range all {
		switch {
		case !e.Finalized:
		case e.ID != keep && now.Sub(e.lastUse()) > cacheMaxIdle:
			errs = append(errs, st.remove(e.ID))
		default:
			live = append(live, e)
			total += e.Size
		}
	}
	sort.Slice(live, func(i, j int) bool { return live[i].lastUse().Before(live[j].lastUse()) })
	for _, e := range live {
		if total <= s.cacheLimit {
			break
		}
		if e.ID == keep {
			continue
		}
		errs = append(errs, st.remove(e.ID))
		total -= e.Size
	}
	return errors.Join(errs...)
}

func (s *Server) cacheEntryDownloadURL(r *http.Request, _ identity) (any, error) {
	var req cacheDownloadURLRequest
	if err := decodeRequest(r, &req); err != nil {
		return nil, err
	}
	if err := checkCacheKey("key", req.Key); err != nil {
		return nil, err
	}
	for _, k := range req.RestoreKeys {
		if err := checkCacheKey("restore key", k); err != nil {
			return nil, err
		}
	}
	if err := checkVersion(req.Version); err != nil {
		return nil, err
	}
	all, err := s.caches().list()
	if err != nil {
		return nil, err
	}
	e := matchCache(all, req.Key, req.RestoreKeys, req.Version)
	if e == nil {
		return cacheDownloadURLResponse{OK: false}, nil
	}
	// A restore keeps the entry from eviction.
	s.mu.Lock()
	e.Accessed = s.now()
	err = s.caches().save(e)
	s.mu.Unlock()
	if err != nil {
		s.log.Warn("recording a cache restore", "key", e.Name, "err", err)
	}
	u := s.signedURL(baseURL(r), cacheBlobPath(e.ID), permRead, s.urlTTL)
	return cacheDownloadURLResponse{OK: true, SignedDownloadURL: u, MatchedKey: e.Name}, nil
}

// matchCache finds the entry a restore gets, as GitHub documents for
// actions/cache ("Cache hits and misses"): within the version, an exact
// hit on key; else the newest entry whose key starts with key; else, for
// each restore key in order, an exact hit and then the newest prefix
// match.
func matchCache(all []*entry, key string, restoreKeys []string, version string) *entry {
	var usable []*entry
	for _, e := range all {
		if e.Finalized && e.Version == version {
			usable = append(usable, e)
		}
	}
	for _, k := range append([]string{key}, restoreKeys...) {
		var exact, newest *entry
		for _, e := range usable {
			switch {
			case e.Name == k:
				if exact == nil || e.Created.After(exact.Created) {
					exact = e
				}
			case strings.HasPrefix(e.Name, k):
				if newest == nil || e.Created.After(newest.Created) {
					newest = e
				}
			}
		}
		if exact != nil {
			return exact
		}
		if newest != nil {
			return newest
		}
	}
	return nil
}
