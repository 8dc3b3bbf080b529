package telemetry_test

import (
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// receiver is an OTLP/HTTP collector at the HTTP boundary: it accepts
// protobuf exports on one path, gzipped or not, and keeps what it decoded.
type receiver struct {
	srv  *httptest.Server
	path string

	mu   sync.Mutex
	got  []export
	errs []string
}

// export is one request the receiver decoded.
type export struct {
	header http.Header
	gzip   bool
	req    *coltracepb.ExportTraceServiceRequest
}

func newReceiver(t *testing.T, path string) *receiver {
	t.Helper()
	rc := &receiver{path: path}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	if err := rc.decode(r); err != nil {
		rc.mu.Lock()
		rc.errs = append(rc.errs, err.Error())
		rc.mu.Unlock()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func (rc *receiver) decode(r *http.Request) error {
	if r.Method != http.MethodPost || r.URL.Path != rc.path {
		return fmt.Errorf("unexpected %s %s", r.Method, r.URL.Path)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		return fmt.Errorf("Content-Type %q", ct)
	}
	var body io.Reader = r.Body
	zipped := r.Header.Get("Content-Encoding") == "gzip"
	if zipped {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return err
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	req := &coltracepb.ExportTraceServiceRequest{}
	if err := proto.Unmarshal(raw, req); err != nil {
		return err
	}
	rc.mu.Lock()
	rc.got = append(rc.got, export{header: r.Header.Clone(), gzip: zipped, req: req})
	rc.mu.Unlock()
	return nil
}

// exports returns what was received, failing the test on any bad request.
func (rc *receiver) exports(t *testing.T) []export {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, e := range rc.errs {
		t.Errorf("receiver: %s", e)
	}
	return append([]export(nil), rc.got...)
}

// span is one exported span with its resource's attributes.
type span struct {
	*tracepb.Span
	resource map[string]any
}

// spans flattens every export into its spans.
func spans(exports []export) []span {
	var out []span
	for _, e := range exports {
		for _, rs := range e.req.GetResourceSpans() {
			res := attrMap(rs.GetResource().GetAttributes())
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					out = append(out, span{Span: s, resource: res})
				}
			}
		}
	}
	return out
}

// attrMap turns OTLP attributes into Go values: string, int64 or bool.
func attrMap(kvs []*commonpb.KeyValue) map[string]any {
	m := map[string]any{}
	for _, kv := range kvs {
		switch v := kv.GetValue().GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			m[kv.GetKey()] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			m[kv.GetKey()] = v.IntValue
		case *commonpb.AnyValue_BoolValue:
			m[kv.GetKey()] = v.BoolValue
		default:
			m[kv.GetKey()] = fmt.Sprint(v)
		}
	}
	return m
}
