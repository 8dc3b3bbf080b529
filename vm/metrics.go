package vm

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the pool's Prometheus collectors. They are always created and
// only registered when WithRegistry is given, so there is no global state.
type metrics struct {
	instances      *prometheus.GaugeVec     // pool, state
	jobs           *prometheus.CounterVec   // pool, event
	pickup         *prometheus.HistogramVec // pool
	providerErrors *prometheus.CounterVec   // pool, op
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		instances: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "vermont", Subsystem: "pool", Name: "instances",
			Help: "Instances by pool and state.",
		}, []string{"pool", "state"}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "vermont", Subsystem: "pool", Name: "jobs_total",
			Help: "workflow_job events handled, by pool and event (queued, started, completed, ignored).",
		}, []string{"pool", "event"}),
		pickup: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "vermont", Subsystem: "pool", Name: "pickup_latency_seconds",
			Help:    "Time from a queued job reaching the pool to an instance being assigned to it.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}, []string{"pool"}),
		providerErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "vermont", Subsystem: "pool", Name: "provider_errors_total",
			Help: "Errors from the VM provider, GitHub and the state store, by pool and operation.",
		}, []string{"pool", "op"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.instances, m.jobs, m.pickup, m.providerErrors} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
