package results

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// serveBlob serves a signed blob URL with the subset of Azure Blob
// Storage that @azure/storage-blob uses for uploads (Put Block, Put Block
// List, Put Blob) and a plain or ranged GET for downloads.
func (s *Server) serveBlob(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	perm := permWrite
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		perm = permRead
	case http.MethodPut:
	default:
		blobError(w, http.StatusMethodNotAllowed, "UnsupportedHttpVerb", "the blob endpoints take GET, HEAD and PUT, not "+r.Method)
		return
	}
	if q.Get("sp") != perm || !s.checkSignature(r.URL.Path, perm, q.Get("se"), q.Get("sig")) {
		blobError(w, http.StatusForbidden, "AuthenticationFailed", "the URL's signature is invalid or has expired, or does not allow this operation")
		return
	}
	st, id, ok := s.blobEntry(r.URL.Path)
	if !ok {
		blobError(w, http.StatusNotFound, "BlobNotFound", "no such blob")
		return
	}
	e, err := st.load(id)
	if err != nil {
		blobError(w, http.StatusNotFound, "BlobNotFound", "no such blob (deleted?)")
		return
	}
	if perm == permRead {
		s.getBlob(w, r, st, e)
		return
	}
	if e.Finalized {
		blobError(w, http.StatusConflict, "OperationNotAllowedInCurrentState", "the blob is finalized and cannot change")
		return
	}
	s.putBlob(w, r, st, e)
}

// blobEntry maps a signed path to its store and entry id.
func (s *Server) blobEntry(path string) (store, int64, bool) {
	parts := strings.Split(strings.TrimPrefix(path, blobPrefix), "/")
	var st store
	switch {
	case len(parts) == 3 && parts[0] == "artifacts" && safeRunID(parts[1]):
		st = store{dir: filepath.Join(s.artifactDir, parts[1])}
	case len(parts) == 2 && parts[0] == "caches":
		st = s.caches()
	default:
		return store{}, 0, false
	}
	id, err := strconv.ParseInt(parts[len(parts)-1], 10, 64)
	return st, id, err == nil && id > 0
}

func (s *Server) getBlob(w http.ResponseWriter, r *http.Request, st store, e *entry) {
	if !e.Finalized {
		blobError(w, http.StatusNotFound, "BlobNotFound", "the blob has not been finalized")
		return
	}
	f, err := os.Open(filepath.Join(st.entryDir(e.ID), dataFile))
	if err != nil {
		blobError(w, http.StatusNotFound, "BlobNotFound", "the blob's data is missing")
		return
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	if e.MimeType != "" {
		h.Set("Content-Type", e.MimeType)
	}
	if e.Run != "" {
		// download-artifact names a file that is not a zip after this.
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": e.Name}))
	}
	h.Set("ETag", etag(e))
	h.Set("x-ms-blob-type", "BlockBlob")
	http.ServeContent(w, r, "", e.Created, f)
}

func etag(e *entry) string { return fmt.Sprintf(`"0x%X"`, e.Created.UnixNano()) }

// maxBlockList bounds a Put Block List body (50,000 block ids at most in
// Azure).
const maxBlockList = 8 << 20

func (s *Server) putBlob(w http.ResponseWriter, r *http.Request, st store, e *entry) {
	q := r.URL.Query()
	var err error
	switch q.Get("comp") {
	case "block":
		var id []byte
		id, err = base64.StdEncoding.DecodeString(q.Get("blockid"))
		if err != nil || len(id) == 0 || len(id) > 64 {
			blobError(w, http.StatusBadRequest, "InvalidQueryParameterValue", "blockid must be base64 of 1 to 64 bytes")
			return
		}
		err = st.putBlock(e.ID, id, r.Body, s.maxBlob)
	case "blocklist":
		var ids [][]byte
		ids, err = parseBlockList(io.LimitReader(r.Body, maxBlockList))
		if err == nil {
			err = st.commitBlocks(e.ID, ids, s.maxBlob)
		}
	case "":
		err = st.putBlob(e.ID, r.Body, s.maxBlob)
	default:
		blobError(w, http.StatusBadRequest, "UnsupportedQueryParameter", "comp="+q.Get("comp")+" is not supported")
		return
	}
	switch {
	case errors.Is(err, errTooLarge):
		blobError(w, http.StatusRequestEntityTooLarge, "RequestBodyTooLarge", fmt.Sprintf("the blob is over the server's limit of %d bytes", s.maxBlob))
	case errors.Is(err, errBadBlockList):
		blobError(w, http.StatusBadRequest, "InvalidBlockList", err.Error())
	case errors.Is(err, fs.ErrNotExist):
		blobError(w, http.StatusNotFound, "BlobNotFound", "the blob was deleted during the upload")
	case err != nil:
		s.log.Error("results: blob upload", "err", err)
		blobError(w, http.StatusInternalServerError, "InternalError", "the server could not store the data")
	default:
		w.Header().Set("ETag", etag(e))
		w.Header().Set("Last-Modified", e.Created.UTC().Format(http.TimeFormat))
		w.Header().Set("x-ms-request-server-encrypted", "false")
		w.WriteHeader(http.StatusCreated)
	}
}

// parseBlockList reads a Put Block List body: <BlockList> with Latest,
// Committed or Uncommitted elements, each a base64 block id. All three
// mean a staged block here.
func parseBlockList(r io.Reader) ([][]byte, error) {
	var list struct {
		XMLName xml.Name `xml:"BlockList"`
		Items   []struct {
			XMLName xml.Name
			Value   string `xml:",chardata"`
		} `xml:",any"`
	}
	if err := xml.NewDecoder(r).Decode(&list); err != nil {
		return nil, fmt.Errorf("%w: %v", errBadBlockList, err)
	}
	ids := make([][]byte, 0, len(list.Items))
	for _, it := range list.Items {
		switch it.XMLName.Local {
		case "Latest", "Committed", "Uncommitted":
		default:
			return nil, fmt.Errorf("%w: unexpected element <%s>", errBadBlockList, it.XMLName.Local)
		}
		id, err := base64.StdEncoding.DecodeString(strings.TrimSpace(it.Value))
		if err != nil || len(id) == 0 || len(id) > 64 {
			return nil, fmt.Errorf("%w: block id %.80q is not base64 of 1 to 64 bytes", errBadBlockList, it.Value)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// blobError writes an error as Azure Storage does, which the SDK parses.
func blobError(w http.ResponseWriter, status int, code, msg string) {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><Error><Code>`)
	_ = xml.EscapeText(&b, []byte(code))
	b.WriteString(`</Code><Message>`)
	_ = xml.EscapeText(&b, []byte(msg))
	b.WriteString(`</Message></Error>`)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-ms-error-code", code)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, b.String())
}
