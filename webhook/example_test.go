package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/vermont-ci/vermont/webhook"
)

// A pool serves the handler on POST /webhook; here one signed delivery is
// sent to it the way GitHub would.
func Example() {
	secret := []byte("from the webhook settings")
	h, err := webhook.NewHandler(secret, webhook.JobHandlerFunc(func(_ context.Context, ev webhook.JobEvent) error {
		fmt.Println(ev.Action, ev.JobID, ev.Repo, ev.Labels)
		return nil
	}))
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhook", h)

	body := []byte(`{"action":"queued","workflow_job":{"id":7,"run_id":3,"labels":["self-hosted","linux"]},
		"repository":{"name":"octo-repo","full_name":"octo-org/octo-repo"}}`)
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", "workflow_job")
	req.Header.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, req)
	fmt.Println(w.Code)
	// Output:
	// queued 7 octo-org/octo-repo [self-hosted linux]
	// 200
}
