package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// GitHub's webhook request headers.
const (
	HeaderSignature = "X-Hub-Signature-256"
	HeaderEvent     = "X-GitHub-Event"
	HeaderDelivery  = "X-GitHub-Delivery"
)

// Handler verifies and dispatches GitHub webhook deliveries. It is safe for
// concurrent use. Create it with NewHandler.
type Handler struct {
	secret     []byte
	jobs       JobHandler
	log        *slog.Logger
	maxBody    int64
	dedupeSize int
	seen       *deliveries
}

// NewHandler returns a Handler that verifies deliveries with secret and hands
// workflow_job events to jobs. secret must not be empty: GitHub signs
// deliveries only when the webhook has a secret, and an unsigned webhook
// would let anyone create runners.
func NewHandler(secret []byte, jobs JobHandler, opts ...Option) (*Handler, error) {
	if len(secret) == 0 {
		return nil, errors.New("webhook: secret is empty; configure a webhook secret in GitHub and pass it here")
	}
	if jobs == nil {
		return nil, errors.New("webhook: job handler is nil")
	}
	h := &Handler{
		// Copied so that the caller may wipe or reuse its slice.
		secret: bytes.Clone(secret),
		jobs:   jobs,
	}
	for _, opt := range opts {
		if err := opt(h); err != nil {
			return nil, err
		}
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.maxBody == 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	if h.dedupeSize == 0 {
		h.dedupeSize = DefaultDedupeSize
	}
	h.seen = newDeliveries(h.dedupeSize)
	return h, nil
}

// Format prints the Handler without its secret, whatever the verb, so that
// logging a Handler by mistake cannot leak it.
func (h *Handler) Format(f fmt.State, _ rune) {
	if h == nil {
		fmt.Fprint(f, "webhook.Handler(nil)")
		return
	}
	fmt.Fprintf(f, "webhook.Handler{secret: [redacted], maxBody: %d, dedupeSize: %d}", h.maxBody, h.dedupeSize)
}

// ServeHTTP implements http.Handler; see the package documentation for the
// status codes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reply(w, http.StatusMethodNotAllowed, "only POST is accepted")
		return
	}
	delivery := r.Header.Get(HeaderDelivery)
	log := h.log.With("delivery", delivery, "event", r.Header.Get(HeaderEvent))

	body, status, msg := h.readBody(w, r)
	if status != 0 {
		log.Warn("webhook delivery refused", "status", status, "reason", msg)
		reply(w, status, msg)
		return
	}
	// Nothing about the body is looked at before this check.
	if !h.validSignature(r.Header.Get(HeaderSignature), body) {
		log.Warn("webhook delivery with a missing or invalid signature", "remote", r.RemoteAddr)
		reply(w, http.StatusUnauthorized, "missing or invalid "+HeaderSignature)
		return
	}

	switch event := r.Header.Get(HeaderEvent); event {
	case "":
		reply(w, http.StatusBadRequest, "missing "+HeaderEvent+" header")
	case "ping":
		log.Info("webhook ping")
		reply(w, http.StatusOK, "pong")
	case "workflow_job":
		h.serveJob(w, r, log, body, delivery)
	default:
		log.Debug("webhook event ignored")
		reply(w, http.StatusAccepted, "event ignored")
	}
}

// readBody reads the body under the size limit. A non-zero status means the
// request is refused with that status and message.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, int, string) {
	tooLarge := fmt.Sprintf("body larger than %d bytes", h.maxBody)
	if r.ContentLength > h.maxBody {
		return nil, http.StatusRequestEntityTooLarge, tooLarge
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, http.StatusRequestEntityTooLarge, tooLarge
		}
		return nil, http.StatusBadRequest, "cannot read body"
	}
	return buf.Bytes(), 0, ""
}

// validSignature checks header ("sha256=<hex>") against the HMAC-SHA256 of
// body in constant time.
func (h *Handler) validSignature(header string, body []byte) bool {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	return ok && ValidMAC(h.secret, hexSig, body)
}

// ValidMAC reports, in constant time, whether hexSig is the hex
// HMAC-SHA256 of body under secret: the signature GitHub sends after
// "sha256=" in X-Hub-Signature-256, and Gitea and Forgejo send bare in
// X-Gitea-Signature and X-Forgejo-Signature. An empty secret matches
// nothing.
func ValidMAC(secret []byte, hexSig string, body []byte) bool {
	if len(secret) == 0 || len(hexSig) != 2*sha256.Size {
		return false
	}
	var got [sha256.Size]byte
	if _, err := hex.Decode(got[:], []byte(hexSig)); err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(mac.Sum(nil), got[:])
}

// serveJob decodes a verified workflow_job delivery and dispatches it once.
func (h *Handler) serveJob(w http.ResponseWriter, r *http.Request, log *slog.Logger, body []byte, delivery string) {
	payload, err := JSONPayload(r.Header.Get("Content-Type"), body)
	if err == nil {
		var ev JobEvent
		if ev, err = decodeJob(payload, delivery); err == nil {
			h.dispatch(w, r, log, ev)
			return
		}
	}
	log.Warn("webhook workflow_job refused", "error", err)
	reply(w, http.StatusBadRequest, err.Error())
}

// dispatch calls the JobHandler unless the delivery was already handled.
func (h *Handler) dispatch(w http.ResponseWriter, r *http.Request, log *slog.Logger, ev JobEvent) {
	log = log.With("action", ev.Action, "job", ev.JobID, "repo", ev.Repo)
	if ev.DeliveryID != "" {
		switch h.seen.claim(ev.DeliveryID) {
		case seen:
			log.Info("webhook delivery replayed; already handled")
			reply(w, http.StatusOK, "duplicate delivery; already handled")
			return
		case inFlight:
			log.Warn("webhook delivery is already being handled")
			reply(w, http.StatusConflict, "delivery is being handled by another request")
			return
		}
	}
	err := h.jobs.HandleJob(r.Context(), ev)
	if ev.DeliveryID != "" {
		h.seen.finish(ev.DeliveryID, err == nil)
	}
	if err != nil {
		log.Error("webhook workflow_job handler failed", "error", err)
		reply(w, http.StatusInternalServerError, "job handler failed; redeliver to retry")
		return
	}
	log.Debug("webhook workflow_job handled")
	reply(w, http.StatusOK, "ok")
}

// JSONPayload returns the JSON document of a delivery. GitHub sends either
// application/json, or application/x-www-form-urlencoded with the JSON in
// the "payload" field (the webhook's "Content type" setting).
func JSONPayload(contentType string, body []byte) ([]byte, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt != "application/x-www-form-urlencoded" {
		return body, nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("%w: malformed form body: %v", errPayload, err)
	}
	p := form.Get("payload")
	if p == "" {
		return nil, fmt.Errorf("%w: form body has no \"payload\" field", errPayload)
	}
	return []byte(p), nil
}

// reply writes a short plain-text response.
func reply(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	io.WriteString(w, msg+"\n")
}
