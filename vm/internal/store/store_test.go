package store

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestStoreRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		dir  func(t *testing.T) string
	}{
		{name: "file", dir: func(t *testing.T) string { return t.TempDir() }},
		{name: "memory", dir: func(*testing.T) string { return "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, err := Open(ctx, tt.dir(t))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			now := time.Unix(1700000000, 123)
			recs := []Record{
				{Name: "b", Pool: "p", State: "idle", RunnerID: 7, CreatedAt: now, UpdatedAt: now},
				{Name: "a", Pool: "p", State: "busy", RunnerID: 8, JobID: 99, CreatedAt: now, UpdatedAt: now},
			}
			for _, r := range recs {
				if err := s.Put(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			upd := recs[1]
			upd.State, upd.UpdatedAt = "destroying", now.Add(time.Second)
			if err := s.Put(ctx, upd); err != nil {
				t.Fatal(err)
			}
			got, err := s.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[0].Name != "a" || got[0].State != "destroying" || got[0].JobID != 99 ||
				!got[0].CreatedAt.Equal(now) || !got[0].UpdatedAt.Equal(now.Add(time.Second)) || got[1].RunnerID != 7 {
				t.Fatalf("List = %+v", got)
			}
			if err := s.Delete(ctx, "a"); err != nil {
				t.Fatal(err)
			}
			if err := s.Delete(ctx, "missing"); err != nil {
				t.Fatalf("Delete(missing) = %v, want nil", err)
			}
			got, _ = s.List(ctx)
			if len(got) != 1 || got[0].Name != "b" {
				t.Fatalf("after delete List = %+v", got)
			}
		})
	}
}

func TestStoreSurvivesReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	id1, err := s.ControllerID(ctx)
	if err != nil || len(id1) != 12 {
		t.Fatalf("ControllerID = %q, %v", id1, err)
	}
	key1, err := s.InstanceKey(ctx)
	if err != nil || len(key1) != 32 {
		t.Fatalf("InstanceKey = %x, %v", key1, err)
	}
	if err := s.Put(ctx, Record{Name: "x", Pool: "p", State: "idle", CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	// No Close: a crashed process leaves the WAL behind.
	s2, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	id2, _ := s2.ControllerID(ctx)
	if id1 != id2 {
		t.Fatalf("controller id changed across reopen: %q then %q", id1, id2)
	}
	if key2, err := s2.InstanceKey(ctx); err != nil || string(key2) != string(key1) {
		t.Fatalf("instance key changed across reopen (%v): instance tokens would break", err)
	}
	got, _ := s2.List(ctx)
	if len(got) != 1 || got[0].Name != "x" {
		t.Fatalf("List after reopen = %+v", got)
	}
	s.Close()
	if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
		t.Fatal(err)
	}
}

func TestOpenBadDir(t *testing.T) {
	t.Parallel()
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), filepath.Join(f, "sub")); err == nil {
		t.Fatal("Open under a regular file succeeded")
	}
}

// TestOpenMigratesOldSchema opens a database written before instances had
// a started column: the column is added, old rows read as not started, and
// new rows keep it.
func TestOpenMigratesOldSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.ExecContext(ctx, `CREATE TABLE instances (
		name TEXT PRIMARY KEY, pool TEXT NOT NULL, state TEXT NOT NULL,
		runner_id INTEGER NOT NULL DEFAULT 0, job_id INTEGER NOT NULL DEFAULT 0,
		created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
		INSERT INTO instances VALUES ('old', 'linux', 'busy', 3, 77, 1, 2);`)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatalf("Open on the old schema: %v", err)
	}
	defer s.Close()
	now := time.Now()
	if err := s.Put(ctx, Record{Name: "new", Pool: "linux", State: "busy", JobID: 78, Started: true, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	got, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "new" || !got[0].Started || got[1].Name != "old" || got[1].Started || got[1].JobID != 77 {
		t.Fatalf("List = %+v", got)
	}
	// Opening again finds the column there and changes nothing.
	s2, err := Open(ctx, dir)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	s2.Close()
}
