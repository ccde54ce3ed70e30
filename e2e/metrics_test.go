package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/siplens/siplens/config"
	"github.com/siplens/siplens/metrics"
	"github.com/siplens/siplens/server"
	"github.com/siplens/siplens/siptest"
	"github.com/siplens/siplens/store/sqlite"
	"github.com/siplens/siplens/trace"
)

// startMetricsServer runs siplens with metrics, as `siplens serve` wires them, and with
// call recording on (into a SQLite file, as in production) or off: the figures must not
// depend on it.
func startMetricsServer(t *testing.T, record bool) (*testServer, *metrics.Metrics) {
	t.Helper()
	dir := t.TempDir()
	port := siptest.FreePort(t)
	cfg := config.Default()
	cfg.Listen = config.Listen{Address: "127.0.0.1", UDP: port, TCP: port}
	for _, name := range []string{"alice", "bob", "carol", "dave"} {
		cfg.Users = append(cfg.Users, config.User{User: name, Password: passwords[name]})
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test config: %v", err)
	}
	st, err := sqlite.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	mo := metrics.Options{Locations: st}
	var (
		tracer *trace.Tracer
		traces trace.Sink
	)
	if record {
		file := filepath.Join(dir, "traces.db")
		sink, err := trace.OpenSQLite(file)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sink.Close() })
		tracer, err = trace.NewTracer(trace.Options{Sink: sink, FlushInterval: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tracer.Close() })
		traces = sink
		mo.Tracer, mo.TraceFile, mo.TraceCalls = tracer, file, sink.CountCalls
	}
	m := metrics.New(mo)
	logs := &syncBuffer{}
	srv, err := server.New(cfg, server.Options{
		Users: st, Locations: st,
		Log:          slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ForwardGuard: loopbackOnly,
		Tracer:       tracer,
		Metrics:      m,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Close()
		if t.Failed() {
			t.Logf("siplens log:\n%s", logs.String())
		}
	})
	return &testServer{Server: srv, Port: port, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Dir: dir,
		logs: logs, loc: st, traces: traces}, m
}

// scrape fetches /metrics over HTTP, as Prometheus does, and parses the text format.
func scrape(t *testing.T, h http.Handler) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	hs := httptest.NewServer(h)
	defer hs.Close()
	res, err := http.Get(hs.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v\n%s", res.StatusCode, err, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("the scrape does not parse: %v\n%s", err, body)
	}
	return mfs, string(body)
}

// figure is one series of a scrape: a counter's or gauge's value, a histogram's count;
// -1 when the series is missing.
func figure(mfs map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	mf, ok := mfs[name]
	if !ok {
		return -1
	}
next:
	for _, s := range mf.GetMetric() {
		for _, kv := range labels {
			k, v, _ := strings.Cut(kv, "=")
			found := false
			for _, l := range s.GetLabel() {
				if l.GetName() == k && l.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case s.Counter != nil:
			return s.Counter.GetValue()
		case s.Gauge != nil:
			return s.Gauge.GetValue()
		case s.Histogram != nil:
			return float64(s.Histogram.GetSampleCount())
		}
	}
	return -1
}

// TestMetricsAfterRealCalls: SIPp phones register (one with a wrong password) and make an
// answered call, a busy one and one to nobody, all through siplens; the scrape must count
// exactly what crossed the wire, with call recording on and off alike. Over TCP nothing is
// retransmitted, so every message count is exact; over UDP the call, auth and
// registration figures still are, and the message counts are lower bounds (a lost or
// late ACK brings a retransmission).
func TestMetricsAfterRealCalls(t *testing.T) {
	for _, record := range []bool{true, false} {
		t.Run(map[bool]string{true: "recording on", false: "recording off"}[record], func(t *testing.T) {
			siptest.RunWithTransports(t, func(t *testing.T, transport string) { metricsAfterCalls(t, transport, record) })
		})
	}
}

func metricsAfterCalls(t *testing.T, transport string, record bool) {
	srv, m := startMetricsServer(t, record)
	bob := callee(t, srv, transport, "bob", "uas_answer.xml", nil)
	carol := callee(t, srv, transport, "carol", "uas_reject.xml", map[string]string{"code": "486", "reason": "Busy Here"})
	wrong := sipp(t, srv, transport, "register_wrong_password.xml", "dave", nil)
	wrong.Auth.Password = "not-daves-password"
	wrong.Run(t).RequireOK(t)
	sipp(t, srv, transport, "uac_call.xml", "alice", map[string]string{"callee": "bob", "hold": "100"}).Run(t).RequireOK(t)
	sipp(t, srv, transport, "uac_expect_486.xml", "alice", map[string]string{"callee": "carol"}).Run(t).RequireOK(t)
	sipp(t, srv, transport, "uac_expect_404.xml", "alice", map[string]string{"callee": "nobody"}).Run(t).RequireOK(t)
	for _, p := range []*siptest.Process{bob, carol} {
		if res := p.Wait(10 * time.Second); !res.OK() {
			t.Fatalf("a callee failed:\n%s", res.Details())
		}
	}
	// The phones are done when SIPp has the last answer; the frame counts a call just
	// after sending it: wait for its log line.
	if !srv.logHas("method=BYE", "code=200") || !srv.logHas("method=INVITE", "code=404") {
		t.Fatal("the last transactions were not logged")
	}
	if record {
		if err := srv.Tracer().Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	exact := transport == "tcp"
	checks := []struct {
		name   string
		labels []string
		want   float64
		// wire marks message counts, exact only over TCP.
		wire bool
	}{
		// bob and carol: REGISTER, 401, REGISTER with credentials, 200. dave: REGISTER,
		// 401, REGISTER with a wrong password, 401.
		{"siplens_requests_received_total", []string{"method=REGISTER"}, 6, true},
		// alice's three calls: INVITE, 407, ACK, INVITE with credentials; then the 200
		// is ACKed end to end and the call ended with a BYE, the 486 and the 404 are
		// ACKed hop by hop.
		{"siplens_requests_received_total", []string{"method=INVITE"}, 6, true},
		{"siplens_requests_received_total", []string{"method=ACK"}, 6, true},
		{"siplens_requests_received_total", []string{"method=BYE"}, 1, true},
		{"siplens_requests_received_total", []string{"method=CANCEL"}, 0, true},
		// Forwarded: the INVITEs to bob and carol, bob's ACK and BYE; siplens' own ACK for
		// carol's 486.
		{"siplens_requests_sent_total", []string{"method=INVITE"}, 2, true},
		{"siplens_requests_sent_total", []string{"method=ACK"}, 2, true},
		{"siplens_requests_sent_total", []string{"method=BYE"}, 1, true},
		{"siplens_requests_sent_total", []string{"method=REGISTER"}, 0, true},
		{"siplens_responses_received_total", []string{"code=180", "class=1xx"}, 2, true},
		{"siplens_responses_received_total", []string{"code=200", "class=2xx"}, 2, true}, // INVITE, BYE
		{"siplens_responses_received_total", []string{"code=486", "class=4xx"}, 1, true},
		{"siplens_responses_sent_total", []string{"code=100", "class=1xx"}, 2, true}, // the forward step's
		{"siplens_responses_sent_total", []string{"code=180", "class=1xx"}, 2, true},
		{"siplens_responses_sent_total", []string{"code=200", "class=2xx"}, 4, true}, // 2 REGISTER, INVITE, BYE
		{"siplens_responses_sent_total", []string{"code=401", "class=4xx"}, 4, true},
		{"siplens_responses_sent_total", []string{"code=407", "class=4xx"}, 3, true},
		{"siplens_responses_sent_total", []string{"code=404", "class=4xx"}, 1, true},
		{"siplens_responses_sent_total", []string{"code=486", "class=4xx"}, 1, true},
		{"siplens_responses_sent_total", []string{"code=487", "class=4xx"}, 0, true},

		{"siplens_calls_total", []string{"outcome=answered"}, 1, false},
		{"siplens_calls_total", []string{"outcome=busy"}, 1, false},
		{"siplens_calls_total", []string{"outcome=not-found"}, 1, false},
		{"siplens_calls_total", []string{"outcome=unauthorized"}, 0, false}, // the 407s are not calls
		{"siplens_calls_total", []string{"outcome=failed"}, 0, false},
		{"siplens_post_dial_delay_seconds", nil, 2, false}, // bob's and carol's 180
		{"siplens_call_setup_seconds", nil, 1, false},      // bob's 200
		{"siplens_auth_challenges_total", nil, 6, false},   // 3 REGISTER 401s, 3 INVITE 407s
		{"siplens_auth_successes_total", nil, 5, false},
		{"siplens_auth_failures_total", []string{"verdict=wrong-password"}, 1, false},
		{"siplens_auth_failures_total", []string{"verdict=stale"}, 0, false},
		{"siplens_auth_lockouts_total", []string{"key=user"}, 0, false},
		{"siplens_ratelimit_rejections_total", []string{"rule=per_source"}, 0, false},
		{"siplens_registrations", nil, 2, false},
		{"siplens_registered_aors", nil, 2, false},
		{"siplens_requests_in_progress", nil, 0, false},
		{"siplens_messages_dropped_total", nil, 0, false},
		{"siplens_panics_total", nil, 0, false},
	}
	// The last ACKs may still be on their way when SIPp exits: scrape again for up to 2 s
	// before calling a figure wrong.
	var (
		mfs      map[string]*dto.MetricFamily
		body     string
		problems []string
	)
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		mfs, body = scrape(t, m.Handler())
		problems = problems[:0]
		for _, c := range checks {
			got := figure(mfs, c.name, c.labels...)
			switch {
			case c.wire && !exact && got < c.want:
				problems = append(problems, fmt.Sprintf("%s%v = %v, want at least %v", c.name, c.labels, got, c.want))
			case (!c.wire || exact) && got != c.want:
				problems = append(problems, fmt.Sprintf("%s%v = %v, want %v", c.name, c.labels, got, c.want))
			}
		}
		if len(problems) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, p := range problems {
		t.Error(p)
	}
	// The recorder's figures exist only with recording on.
	calls := figure(mfs, "siplens_trace_store_calls")
	bytes := figure(mfs, "siplens_trace_store_bytes")
	dropped := figure(mfs, "siplens_trace_entries_dropped_total")
	if record {
		// 3 REGISTER Call-IDs (each phone's REGISTERs share one) and 3 calls.
		if calls != 6 || bytes <= 0 || dropped != 0 {
			t.Errorf("trace store: %v calls, %v bytes, %v dropped; want 6 calls, a size, none dropped", calls, bytes, dropped)
		}
	} else if calls != -1 || bytes != -1 || dropped != -1 {
		t.Errorf("recording off, yet the scrape has trace store figures (%v calls, %v bytes, %v dropped)", calls, bytes, dropped)
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", body)
	}
}
