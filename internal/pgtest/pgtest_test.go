package pgtest_test

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"

	"github.com/vermont-ci/vermont/internal/pgtest"
)

// The server starts, hands out separate databases that accept writes,
// and leaves nothing behind when stopped.
func TestServer(t *testing.T) {
	srv := pgtest.New(t)
	ctx := context.Background()
	a, err := srv.NewDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := srv.NewDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("two databases share the URL %s", a)
	}
	if !strings.Contains(a, "host=/tmp/") {
		t.Errorf("URL %s does not name a socket directory under /tmp", a)
	}
	for i, url := range []string{a, b} {
		db, err := sql.Open("pgx", url)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`CREATE TABLE t (n INT)`); err != nil {
			t.Fatalf("database %d: %v", i, err)
		}
		db.Close()
	}
	dir := strings.TrimPrefix(a[strings.Index(a, "host=")+5:], "")
	dir = dir[:strings.Index(dir, "&")]
	srv.Stop()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("%s left after Stop: %v", dir, err)
	}
	srv.Stop() // twice is harmless
}
