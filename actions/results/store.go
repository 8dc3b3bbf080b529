package results

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// entry is one artifact or cache entry, kept as meta.json beside its data.
type entry struct {
	ID        int64     `json:"id"`
	Run       string    `json:"run,omitempty"` // artifacts: the run it belongs to
	Job       string    `json:"job,omitempty"` // the job that created it
	Name      string    `json:"name"`          // artifact name or cache key
	Version   string    `json:"version,omitempty"`
	MimeType  string    `json:"mime_type,omitempty"`
	Size      int64     `json:"size"`
	Digest    string    `json:"digest,omitempty"`  // "sha256:<hex>" once finalized
	Created   time.Time `json:"created"`           // when it was finalized (or created, until then)
	Accessed  time.Time `json:"accessed,omitzero"` // caches: the last restore, if any
	Finalized bool      `json:"finalized"`
}

// lastUse is when a cache entry was last saved or restored.
func (e *entry) lastUse() time.Time {
	if e.Accessed.After(e.Created) {
		return e.Accessed
	}
	return e.Created
}

// store keeps entries in dir: dir/<id>/meta.json, dir/<id>/data, and the
// staged blocks of an upload in dir/<id>/blocks/. Ids are random, so
// several servers can share a cache directory.
type store struct {
	dir string
}

const metaFile, dataFile, blocksDir = "meta.json", "data", "blocks"

func (st store) entryDir(id int64) string { return filepath.Join(st.dir, strconv.FormatInt(id, 10)) }

// create gives e a fresh id and writes it.
func (st store) create(e *entry) error {
	if err := os.MkdirAll(st.dir, 0o755); err != nil {
		return fmt.Errorf("results store: %w", err)
	}
	for range 10 {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return fmt.Errorf("results store: %w", err)
		}
		// Positive and at most 2^53, so JavaScript's Number(id) is exact.
		e.ID = int64(binary.BigEndian.Uint64(b[:])>>11) + 1
		err := os.Mkdir(st.entryDir(e.ID), 0o755)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("results store: %w", err)
		}
		return st.save(e)
	}
	return errors.New("results store: no free entry id")
}

// save writes e's metadata atomically.
func (st store) save(e *entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	dir := st.entryDir(e.ID)
	tmp, err := os.CreateTemp(dir, metaFile+".*")
	if err != nil {
		return fmt.Errorf("results store: %w", err)
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, metaFile))
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("results store: %w", err)
	}
	return nil
}

// load reads the entry with id; fs.ErrNotExist when there is none.
func (st store) load(id int64) (*entry, error) {
	b, err := os.ReadFile(filepath.Join(st.entryDir(id), metaFile))
	if err != nil {
		return nil, err
	}
	var e entry
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("results store: entry %d: %w", id, err)
	}
	return &e, nil
}

// list reads every entry of the store. Unreadable ones (a half-written
// entry of another process) are skipped.
func (st store) list() ([]*entry, error) {
	des, err := os.ReadDir(st.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("results store: %w", err)
	}
	var out []*entry
	for _, de := range des {
		id, err := strconv.ParseInt(de.Name(), 10, 64)
		if err != nil || !de.IsDir() {
			continue
		}
		if e, err := st.load(id); err == nil {
			out = append(out, e)
		}
	}
	return out, nil
}

func (st store) remove(id int64) error {
	return os.RemoveAll(st.entryDir(id))
}

// writeFile streams r into path through a temporary file, refusing more
// than limit bytes.
func writeFile(path string, r io.Reader, limit int64) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(tmp, io.LimitReader(r, limit+1))
	if err == nil && n > limit {
		err = errTooLarge
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return 0, err
	}
	return n, nil
}

var errTooLarge = errors.New("the blob is larger than the server allows")

// putBlock stages one block of an upload.
func (st store) putBlock(id int64, blockID []byte, r io.Reader, limit int64) error {
	dir := filepath.Join(st.entryDir(id), blocksDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	_, err := writeFile(filepath.Join(dir, hex.EncodeToString(blockID)), r, limit)
	return err
}

// commitBlocks makes the blob from staged blocks, in the order given.
func (st store) commitBlocks(id int64, blockIDs [][]byte, limit int64) error {
	dir := st.entryDir(id)
	pr, pw := io.Pipe()
	go func() {
		for _, b := range blockIDs {
			f, err := os.Open(filepath.Join(dir, blocksDir, hex.EncodeToString(b)))
			if err != nil {
				pw.CloseWithError(fmt.Errorf("%w: block %x was not uploaded", errBadBlockList, b))
				return
			}
			_, err = io.Copy(pw, f)
			f.Close()
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.Close()
	}()
	_, err := writeFile(filepath.Join(dir, dataFile), pr, limit)
	pr.Close()
	if err != nil {
		return err
	}
	return os.RemoveAll(filepath.Join(dir, blocksDir))
}

var errBadBlockList = errors.New("invalid block list")

// putBlob writes the whole blob at once.
func (st store) putBlob(id int64, r io.Reader, limit int64) error {
	_, err := writeFile(filepath.Join(st.entryDir(id), dataFile), r, limit)
	return err
}

// seal computes the size and digest of the uploaded data.
func (st store) seal(e *entry) error {
	f, err := os.Open(filepath.Join(st.entryDir(e.ID), dataFile))
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return err
	}
	e.Size, e.Digest = n, "sha256:"+hex.EncodeToString(h.Sum(nil))
	return nil
}
