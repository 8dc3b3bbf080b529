package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/vermont-ci/vermont/webhook"
)

// maxPayload is the largest delivery taken: GitHub caps payloads at 25 MB
// (https://docs.github.com/en/webhooks/webhook-events-and-payloads#payload-cap).
const maxPayload = 25 << 20

// A delivery's headers, by upstream. Gitea and Forgejo send their own
// names and the hex HMAC-SHA256 of the body without a prefix
// (https://docs.gitea.com/usage/webhooks, https://forgejo.org/docs/latest/user/webhooks/).
type deliveryHeaders struct {
	event, delivery, signature string
	prefixed                   bool // "sha256=<hex>" rather than "<hex>"
}

var upstreamHeaders = []deliveryHeaders{
	{"X-Forgejo-Event", "X-Forgejo-Delivery", "X-Forgejo-Signature", false},
	{"X-Gitea-Event", "X-Gitea-Delivery", "X-Gitea-Signature", false},
	{"X-GitHub-Event", "X-GitHub-Delivery", "X-Hub-Signature-256", true},
}

// delivery is a verified webhook delivery.
type delivery struct {
	id      string
	event   string
	payload map[string]any
	body    []byte
}

// serveWebhook verifies a delivery before looking at its body, drops
// replays, and answers once the runs it starts are queued: a 2xx means
// the delivery is safe in the store.
func (s *Server) serveWebhook(w http.ResponseWriter, r *http.Request) {
	h, ok := headersOf(r.Header)
	if !ok {
		s.deliveryResult("refused")
		webhookReply(w, http.StatusBadRequest, "missing X-GitHub-Event (or X-Gitea-Event, X-Forgejo-Event) header")
		return
	}
	d := delivery{id: r.Header.Get(h.delivery), event: r.Header.Get(h.event)}
	log := s.log.With("delivery", d.id, "event", d.event)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPayload))
	if err != nil {
		s.deliveryResult("refused")
		webhookReply(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body unreadable or larger than %d bytes", maxPayload))
		return
	}
	secret, ok := s.verify(h, r.Header.Get(h.signature), body)
	if !ok {
		log.Warn("webhook delivery with a missing or invalid signature", "remote", r.RemoteAddr)
		s.deliveryResult("forged")
		webhookReply(w, http.StatusUnauthorized, "missing or invalid "+h.signature)
		return
	}
	if d.body, err = webhook.JSONPayload(r.Header.Get("Content-Type"), body); err == nil {
		err = json.Unmarshal(d.body, &d.payload)
	}
	if err != nil || d.payload == nil {
		s.deliveryResult("refused")
		webhookReply(w, http.StatusBadRequest, "the payload is not a JSON object")
		return
	}
	if d.event == "ping" {
		s.deliveryResult("ping")
		webhookReply(w, http.StatusOK, "pong")
		return
	}
	full, _ := dig(d.payload, "repository", "full_name").(string)
	repo, ok := s.repo(full)
	if !ok || (len(repo.WebhookSecret) > 0 && !bytes.Equal(secret, repo.WebhookSecret)) {
		// A repository with its own secret takes only deliveries signed
		// with it.
		log.Warn("webhook delivery for a repository not served", "repo", full)
		s.deliveryResult("unknown_repo")
		webhookReply(w, http.StatusNotFound, "repository not served: "+full)
		return
	}
	if d.id != "" {
		fresh, err := s.store.SeeDelivery(r.Context(), d.id)
		if err != nil {
			s.deliveryResult("error")
			webhookReply(w, http.StatusServiceUnavailable, "store unavailable; redeliver")
			return
		}
		if !fresh {
			log.Info("webhook delivery replayed; already handled")
			s.deliveryResult("duplicate")
			webhookReply(w, http.StatusOK, "duplicate delivery; already handled")
			return
		}
	}
	// The runs are queued even if the sender hangs up: it was verified.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Minute)
	defer cancel()
	runs, err := s.handleEvent(ctx, repo, d.event, d.payload, d.body, log)
	if err != nil {
		if d.id != "" {
			_ = s.store.ForgetDelivery(ctx, d.id)
		}
		log.Error("webhook delivery failed", "repo", full, "error", err)
		s.deliveryResult("error")
		webhookReply(w, http.StatusBadGateway, "could not start runs; redeliver to retry: "+err.Error())
		return
	}
	s.deliveryResult("accepted")
	log.Info("webhook delivery handled", "repo", full, "runs", len(runs))
	webhookReply(w, http.StatusAccepted, fmt.Sprintf("%d run(s) queued", len(runs)))
}

func (s *Server) deliveryResult(result string) {
	s.metrics.deliveries.WithLabelValues(result).Inc()
}

// headersOf tells the upstream by its event header.
func headersOf(h http.Header) (deliveryHeaders, bool) {
	for _, u := range upstreamHeaders {
		if h.Get(u.event) != "" {
			if u.prefixed || h.Get(u.signature) != "" {
				return u, true
			}
			// Gitea also sends X-Hub-Signature-256.
			gh := upstreamHeaders[len(upstreamHeaders)-1]
			gh.event, gh.delivery = u.event, u.delivery
			return gh, true
		}
	}
	return deliveryHeaders{}, false
}

// verify checks the signature against every secret the service knows, in
// constant time for each, and returns the secret that signed the body.
func (s *Server) verify(h deliveryHeaders, header string, body []byte) ([]byte, bool) {
	hexSig := header
	if h.prefixed {
		var ok bool
		if hexSig, ok = strings.CutPrefix(header, "sha256="); !ok {
			return nil, false
		}
	}
	if webhook.ValidMAC(s.secret, hexSig, body) {
		return s.secret, true
	}
	for _, r := range s.repos {
		if webhook.ValidMAC(r.WebhookSecret, hexSig, body) {
			return r.WebhookSecret, true
		}
	}
	return nil, false
}

// webhookReply answers with a JSON message, as the pool's webhook does.
func webhookReply(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

// dig walks nested JSON objects.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// logWith is log, or the server's logger.
func (s *Server) logWith(log *slog.Logger) *slog.Logger {
	if log == nil {
		return s.log
	}
	return log
}
