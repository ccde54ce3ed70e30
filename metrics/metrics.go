// Package metrics is siplens' Prometheus exposition: SIP messages by method and code,
// calls by outcome (for ASR and NER), post-dial delay and call setup time, auth and
// rate-limit refusals, what is in progress, registrations and the size of the call
// recorder's store. docs/metrics.md lists every metric and what it means.
//
// A Metrics owns its own prometheus.Registry (never the process-global default, so that
// several servers in one test binary keep apart). The request path reaches it through
// small methods that are safe on a nil *Metrics, cost a few nanoseconds and allocate
// nothing: message counts are plain atomic counters in fixed arrays, read by a collector
// at scrape time, and every labelled child is resolved once, in New. What is cheaper to
// read than to count (registrations, the trace store, requests in progress) is read at
// scrape time.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/siplens/siplens/store"
	"github.com/siplens/siplens/trace"
)

// Options say where the scrape-time figures come from. Every field is optional: a figure
// without its source is not exported.
type Options struct {
	// Locations is counted at each scrape for siplens_registrations and
	// siplens_registered_aors.
	Locations store.Locations
	// Tracer's counters become siplens_trace_entries_*_total.
	Tracer *trace.Tracer
	// TraceFile is the call recorder's SQLite file: its size (with its -wal file) is
	// siplens_trace_store_bytes.
	TraceFile string
	// TraceCalls counts the calls the recorder holds (siplens_trace_store_calls).
	TraceCalls func(context.Context) (int64, error)
	// ScrapeTimeout bounds each store query of a scrape; default 2 s.
	ScrapeTimeout time.Duration
	// Now is the clock for the registrations' expiry; default time.Now.
	Now func() time.Time
	// Log receives scrape errors; default: nothing is logged.
	Log *slog.Logger
}

// Metrics holds siplens' collectors and the registry they are exposed from.
type Metrics struct {
	reg  *prometheus.Registry
	opts Options

	wire wireCounts

	calls      [len(outcomes)]prometheus.Counter
	pdd, setup prometheus.Histogram

	authChallenges prometheus.Counter
	authSuccesses  prometheus.Counter
	authFailures   [len(authFailureVerdicts)]prometheus.Counter
	lockouts       [2]prometheus.Counter // user, source
	rateLimited    [len(rateLimitRules)]prometheus.Counter

	// server is what the running SIP server reports at scrape time (SetServer).
	server atomic.Pointer[ServerStats]
}

// ServerStats are the server's own counters, read at scrape time.
type ServerStats struct {
	// InProgress is the number of requests being handled by the chain right now.
	InProgress func() int64
	// Dropped counts messages dropped unparsed or unanswered; Panics the panics recovered
	// in the request path.
	Dropped func() int64
	Panics  func() int64
}

// The outcomes of calls, in the vocabulary of trace.Summary, so that the metrics and the
// recorded calls tell the same story.
var outcomes = [...]trace.Outcome{
	trace.OutcomeAnswered, trace.OutcomeRedirected, trace.OutcomeBusy, trace.OutcomeUnavailable,
	trace.OutcomeDeclined, trace.OutcomeNotFound, trace.OutcomeUnauthorized, trace.OutcomeRejected,
	trace.OutcomeFailed, trace.OutcomeTimedOut, trace.OutcomeCancelled, trace.OutcomeUnanswered,
}

// authFailureVerdicts are the auth verdicts counted as failures.
var authFailureVerdicts = [...]trace.Verdict{trace.WrongPassword, trace.Stale, trace.Replayed, trace.LockedOut, trace.Impersonation}

// rateLimitRules name the ratelimit step's limits, as in the config.
var rateLimitRules = [...]string{"max_in_progress", "per_source", "total"}

// Bucket bounds, in seconds. Post-dial delay is network and phone time (tens of
// milliseconds on a LAN, seconds through gateways); setup time includes a person picking
// up, up to Timer C (3 minutes).
var (
	pddBuckets   = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30}
	setupBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 45, 60, 90, 120, 180}
)

// New builds the collectors and registers them, with the Go runtime's and the process's.
func New(opts Options) *Metrics {
	if opts.ScrapeTimeout <= 0 {
		opts.ScrapeTimeout = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{reg: prometheus.NewRegistry(), opts: opts}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.reg.MustRegister(&m.wire)

	calls := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "siplens_calls_total",
		Help: "Initial INVITEs whose transaction ended, by outcome (a 401/407 challenge is not counted: its retry is the call).",
	}, []string{"outcome"})
	for i, o := range outcomes {
		m.calls[i] = calls.WithLabelValues(string(o))
	}
	m.pdd = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "siplens_post_dial_delay_seconds",
		Help:    "Post-dial delay: from an initial INVITE received to the first 18x sent back for it.",
		Buckets: pddBuckets,
	})
	m.setup = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "siplens_call_setup_seconds",
		Help:    "Call setup time: from an initial INVITE received to the 2xx sent back for it.",
		Buckets: setupBuckets,
	})
	m.authChallenges = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "siplens_auth_challenges_total",
		Help: "Requests without credentials that were challenged (401 or 407).",
	})
	m.authSuccesses = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "siplens_auth_successes_total",
		Help: "Requests whose digest credentials verified.",
	})
	failures := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "siplens_auth_failures_total",
		Help: "Requests whose authentication failed, by verdict.",
	}, []string{"verdict"})
	for i, v := range authFailureVerdicts {
		m.authFailures[i] = failures.WithLabelValues(string(v))
	}
	lockouts := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "siplens_auth_lockouts_total",
		Help: "Lockouts started after too many failed authentications, by what was locked out.",
	}, []string{"key"})
	m.lockouts[0], m.lockouts[1] = lockouts.WithLabelValues("user"), lockouts.WithLabelValues("source")
	limited := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "siplens_ratelimit_rejections_total",
		Help: "Requests refused with 503 by the ratelimit step, by the limit that refused them.",
	}, []string{"rule"})
	for i, r := range rateLimitRules {
		m.rateLimited[i] = limited.WithLabelValues(r)
	}
	m.reg.MustRegister(calls, m.pdd, m.setup, m.authChallenges, m.authSuccesses, failures, lockouts, limited,
		&gauges{m: m})
	return m
}

// Registry is the registry the metrics are exposed from (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format (GET /metrics). A source that
// fails (a store that does not answer) leaves its figures out of that scrape instead of
// failing the whole page.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return nil
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
		ErrorLog:      slogPrinter{m.opts.Log},
	})
}

type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.log.Warn("metrics scrape", "error", v) }

// SetServer tells the metrics where the running server keeps its own counters.
func (m *Metrics) SetServer(s ServerStats) {
	if m != nil {
		m.server.Store(&s)
	}
}

// CallEnded counts an initial INVITE whose transaction ended with code (0: no answer at
// all), sent by producer (the frame's "by": "auth", "branch 1 (...)", "ratelimit", ...).
// ringing and answered are the times from the INVITE to the first 18x and to the 2xx
// sent back, zero when none was.
func (m *Metrics) CallEnded(code int, producer string, ringing, answered time.Duration) {
	if m == nil {
		return
	}
	if ringing > 0 {
		m.pdd.Observe(ringing.Seconds())
	}
	if code == 401 || code == 407 {
		// A challenge is a step of authentication, not the end of a call: the phone
		// retries with credentials under the same Call-ID, and that retry is the call.
		// Failures show in siplens_auth_failures_total.
		return
	}
	if code >= 200 && code < 300 && answered > 0 {
		m.setup.Observe(answered.Seconds())
	}
	o := trace.ClassifyOutcome(code, producer)
	for i := range outcomes {
		if outcomes[i] == o {
			m.calls[i].Inc()
			return
		}
	}
}

// AuthVerdict counts a verdict of the auth step (steps/auth.Counter).
func (m *Metrics) AuthVerdict(v trace.Verdict) {
	if m == nil {
		return
	}
	switch v {
	case trace.Challenged:
		m.authChallenges.Inc()
		return
	case trace.Authenticated:
		m.authSuccesses.Inc()
		return
	}
	for i := range authFailureVerdicts {
		if authFailureVerdicts[i] == v {
			m.authFailures[i].Inc()
			return
		}
	}
}

// Lockout counts a lockout that starts now: of a user (user true) or of a source address
// (steps/auth.Counter).
func (m *Metrics) Lockout(user bool) {
	if m == nil {
		return
	}
	if user {
		m.lockouts[0].Inc()
	} else {
		m.lockouts[1].Inc()
	}
}

// RateLimited counts a refusal of the ratelimit step by the named limit: "max_in_progress",
// "per_source" or "total" (steps/ratelimit.Counter).
func (m *Metrics) RateLimited(rule string) {
	if m == nil {
		return
	}
	for i := range rateLimitRules {
		if rateLimitRules[i] == rule {
			m.rateLimited[i].Inc()
			return
		}
	}
}
