package web_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vermont-ci/vermont/server/store"
)

func TestArtifactsListedAndDownloaded(t *testing.T) {
	h := newHarness(t, allWorkflows())
	c := h.client(t)
	c.signIn(t, h.token)
	run := h.dispatch(t, "html.yml", nil)
	h.waitRun(t, run.ID)
	// An artifact as a run leaves one: a directory under the data dir.
	dir := filepath.Join(h.st.Dir(), "artifacts", "t", "report")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "result.txt"), []byte("all green\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	art, err := h.st.AddArtifact(context.Background(), store.Artifact{RunID: run.ID, Name: "<report>", Size: 10, Path: "artifacts/t/report"})
	if err != nil {
		t.Fatal(err)
	}
	_, page := c.get(t, fmt.Sprintf("/octo/app/actions/runs/%d", run.ID))
	link := fmt.Sprintf("/octo/app/actions/runs/%d/artifacts/%d", run.ID, art.ID)
	if !strings.Contains(page, link) || !strings.Contains(page, "&lt;report&gt;") || !strings.Contains(page, "10 B") {
		t.Fatal("run page does not list the artifact with its size")
	}
	resp, err := c.Get(c.base + link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("download: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != "result.txt" {
		t.Fatalf("zip entries %v", zr.File)
	}
	// Another run's path, or no session, gets nothing.
	if code, _ := c.get(t, fmt.Sprintf("/octo/app/actions/runs/%d/artifacts/%d", run.ID+1, art.ID)); code != http.StatusNotFound {
		t.Fatalf("artifact under another run: %d", code)
	}
	if code, _ := h.client(t).get(t, link); code != http.StatusSeeOther {
		t.Fatalf("artifact without a session: %d", code)
	}
}
