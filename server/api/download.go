package api

import (
	"archive/zip"
	"bufio"
	"crypto/hmac"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vermont-ci/vermont/server/store"
)

// DownloadPrefix is where the short-lived signed URLs of logs and
// artifacts point. As GitHub's (a blob storage URL), they need no token:
// the signature is the credential, for downloadTTL.
const DownloadPrefix = "/_vermont/download/"

// downloadTTL is how long a signed URL works. GitHub's job log URLs last a
// minute (https://docs.github.com/en/rest/actions/workflow-jobs#download-job-logs-for-a-workflow-run).
const downloadTTL = time.Minute

// What a signed URL serves.
const (
	kindJobLog   = "job-log"
	kindRunLogs  = "run-logs"
	kindArtifact = "artifact"
)

// signedPath is the path and query of a signed URL for kind and id
// (attempt for run logs) that expires at exp.
func (a *API) signedPath(kind string, id, attempt int64, exp time.Time) string {
	path := fmt.Sprintf("%s%s/%d", DownloadPrefix, kind, id)
	e := exp.Unix()
	q := url.Values{}
	if attempt > 0 {
		q.Set("attempt", strconv.FormatInt(attempt, 10))
	}
	q.Set("expires", strconv.FormatInt(e, 10))
	q.Set("sig", hex.EncodeToString(a.sign(path+"?attempt="+q.Get("attempt"), e)))
	return path + "?" + q.Encode()
}

// redirect answers a 302 to a signed URL, as GitHub answers log and
// archive downloads.
func (a *API) redirect(w http.ResponseWriter, r *http.Request, c *call, kind string, id, attempt int64) {
	u := strings.TrimSuffix(c.base, Prefix) + a.signedPath(kind, id, attempt, a.now().Add(downloadTTL))
	http.Redirect(w, r, u, http.StatusFound)
}

// download serves a signed URL. A bad, tampered or expired signature is a
// 403, as an expired blob URL is on GitHub.
func (a *API) download(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	exp, err2 := strconv.ParseInt(q.Get("expires"), 10, 64)
	sig, err3 := hex.DecodeString(q.Get("sig"))
	want := a.sign(r.URL.Path+"?attempt="+q.Get("attempt"), exp)
	if err != nil || err2 != nil || err3 != nil || !hmac.Equal(sig, want) || a.now().Unix() > exp {
		writeJSON(w, http.StatusForbidden, &apiError{Message: "Request has expired or its signature does not match", DocumentationURL: docsREST})
		return
	}
	attempt, _ := strconv.ParseInt(q.Get("attempt"), 10, 64)
	switch r.PathValue("kind") {
	case kindJobLog:
		err = a.serveJobLog(w, r, id)
	case kindRunLogs:
		err = a.serveRunLogs(w, r, id, attempt)
	case kindArtifact:
		err = a.serveArtifact(w, r, id)
	default:
		err = errNotFound
	}
	if err != nil {
		writeError(w, r, a.log, err, "")
	}
}

func (a *API) serveJobLog(w http.ResponseWriter, r *http.Request, id int64) error {
	if _, err := a.store.Job(r.Context(), id); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	return a.store.WriteLog(r.Context(), id, w)
}

// serveRunLogs writes a run attempt's logs as GitHub's archive lays them
// out: the whole log of the i-th job as "i_JOB.txt", and each step's as
// "JOB/N_STEP.txt" (which gh run view --log reads).
func (a *API) serveRunLogs(w http.ResponseWriter, r *http.Request, runID, attempt int64) error {
	run, err := a.store.Run(r.Context(), runID)
	if err != nil {
		return err
	}
	jobs, err := a.store.Jobs(r.Context(), run.ID, attempt)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=logs_%d.zip", run.ID))
	bw := bufio.NewWriter(w)
	zw := zip.NewWriter(bw)
	for i, j := range jobs {
		name := archiveName(or(j.Name, j.Key))
		f, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("%d_%s.txt", i, name), Method: zip.Deflate, Modified: j.CompletedAt})
		if err != nil {
			return err
		}
		if err := a.store.WriteLog(r.Context(), j.ID, f); err != nil {
			return err
		}
		steps, err := a.store.Steps(r.Context(), j.ID)
		if err != nil {
			return err
		}
		for _, s := range steps {
			if err := a.writeStepLog(r, zw, j, name, s); err != nil {
				return err
			}
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

func (a *API) writeStepLog(r *http.Request, zw *zip.Writer, j store.Job, jobName string, s store.Step) error {
	lines, err := a.store.Logs(r.Context(), j.ID, store.LogQuery{Step: s.Number})
	if err != nil {
		return err
	}
	f, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("%s/%d_%s.txt", jobName, s.Number, archiveName(s.Name)), Method: zip.Deflate, Modified: s.CompletedAt})
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	for _, l := range lines {
		bw.WriteString(l.Time.UTC().Format(store.LogTimeFormat))
		bw.WriteByte(' ')
		bw.WriteString(l.Text)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// archiveName makes a job or step name a file name, replacing what a zip
// entry's name cannot hold as GitHub's archives do.
func archiveName(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '/', '\\', ':', '*', '?', '"', '<', '>', '|':
			return '_'
		}
		return r
	}, s)
}
