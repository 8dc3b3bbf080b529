package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus metrics, on a registry of its own
// (no package-level state).
type metrics struct {
	reg        *prometheus.Registry
	runs       *prometheus.CounterVec
	jobs       *prometheus.CounterVec
	deliveries *prometheus.CounterVec
	runSeconds prometheus.Histogram
	jobSeconds prometheus.Histogram
}

// newMetrics makes the metrics; queued reads the queue depth, which the
// store knows (also for runs a previous process queued).
func newMetrics(queued func() float64) *metrics {
	buckets := prometheus.ExponentialBuckets(0.05, 2, 16) // 50 ms … ~27 min
	m := &metrics{
		reg: prometheus.NewRegistry(),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vermont_runs_total",
			Help: "Workflow runs completed, by conclusion."}, []string{"conclusion"}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vermont_jobs_total",
			Help: "Jobs completed, by conclusion."}, []string{"conclusion"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vermont_webhook_deliveries_total",
			Help: "Webhook deliveries received, by result."}, []string{"result"}),
		runSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "vermont_run_duration_seconds",
			Help: "How long runs took, from claim to conclusion.", Buckets: buckets}),
		jobSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "vermont_job_duration_seconds",
			Help: "How long jobs took.", Buckets: buckets}),
	}
	depth := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "vermont_runs_queued",
		Help: "Runs queued and not yet started (queue depth)."}, queued)
	m.reg.MustRegister(m.runs, m.jobs, m.deliveries, depth, m.runSeconds, m.jobSeconds,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
