// Package webhook receives GitHub webhook deliveries for Vermont's runner pool.
//
// [Handler] is an [net/http.Handler] that checks every delivery the way
// GitHub documents ("Validating webhook deliveries"): the request must be a
// POST, its body must fit under a size limit, and its X-Hub-Signature-256
// header must carry the HMAC-SHA256 of the raw body under the webhook secret.
// The signature is checked in constant time before a single byte of the body
// is parsed, so unauthenticated input never reaches the JSON decoder.
//
// Verified workflow_job deliveries become a [JobEvent] and are passed to a
// [JobHandler] (the pool). Deliveries are de-duplicated by their
// X-GitHub-Delivery ID, so GitHub's redelivery of a delivery that already
// succeeded does not reach the pool twice.
//
// Status codes, chosen so that GitHub's redelivery does the right thing:
//
//	405  not a POST
//	413  body larger than the limit (WithMaxBodyBytes, default 25 MiB, GitHub's cap)
//	401  X-Hub-Signature-256 missing or wrong; nothing else happens
//	400  missing X-GitHub-Event, or a workflow_job payload that is not valid JSON
//	     or lacks action / workflow_job.id
//	200  ping; a workflow_job handed to the JobHandler; a replayed delivery
//	202  any other event: accepted and ignored
//	409  the same delivery ID is being handled right now by another request
//	500  the JobHandler failed; the delivery is not remembered, so a
//	     redelivery is handled again
//
// The webhook secret never appears in logs, errors or response bodies, and
// neither does the signature header.
package webhook
