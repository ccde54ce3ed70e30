package metrics

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/siplens/siplens/store"
	"github.com/siplens/siplens/store/memory"
	"github.com/siplens/siplens/trace"
)

// value reads one series of the registry: name{labels} (labels as "k=v" pairs); -1 when it
// is not exported.
func value(t *testing.T, m *Metrics, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, s := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range s.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for _, kv := range labels {
				k, v, _ := strings.Cut(kv, "=")
				if have[k] != v {
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
	}
	return -1
}

func TestSentParsesTheFirstLine(t *testing.T) {
	for _, c := range []struct {
		raw    string
		metric string
		labels []string
	}{
		{"INVITE sip:bob@example.com SIP/2.0\r\nVia: x\r\n\r\n", "siplens_requests_sent_total", []string{"method=INVITE"}},
		{"ACK sip:bob@example.com SIP/2.0\r\n\r\n", "siplens_requests_sent_total", []string{"method=ACK"}},
		{"FOO sip:bob@example.com SIP/2.0\r\n\r\n", "siplens_requests_sent_total", []string{"method=other"}},
		{"SIP/2.0 180 Ringing\r\n\r\n", "siplens_responses_sent_total", []string{"code=180", "class=1xx"}},
		{"SIP/2.0 486 Busy Here\r\n\r\n", "siplens_responses_sent_total", []string{"code=486", "class=4xx"}},
		{"SIP/2.0 299 Odd\r\n\r\n", "siplens_responses_sent_total", []string{"code=299", "class=2xx"}},
		{"SIP/2.0 999 Nonsense\r\n\r\n", "siplens_responses_sent_total", []string{"code=other", "class=other"}},
		{"SIP/2.0 2x0 Nonsense\r\n\r\n", "siplens_responses_sent_total", []string{"code=other", "class=other"}},
	} {
		t.Run(c.raw[:strings.IndexByte(c.raw, '\r')], func(t *testing.T) {
			m := New(Options{})
			before := max(value(t, m, c.metric, c.labels...), 0)
			m.Sent([]byte(c.raw))
			m.Sent([]byte(c.raw))
			if got := value(t, m, c.metric, c.labels...); got != before+2 {
				t.Fatalf("%s%v = %v after two messages, want %v", c.metric, c.labels, got, before+2)
			}
		})
	}
	// A keep-alive is not a message.
	m := New(Options{})
	m.Sent([]byte("\r\n"))
	m.Sent([]byte("\r\n\r\n"))
	for _, meth := range methods {
		if v := value(t, m, "siplens_requests_sent_total", "method="+meth); v != 0 {
			t.Errorf("a keep-alive counted as %s (%v)", meth, v)
		}
	}
}

func TestReceived(t *testing.T) {
	m := New(Options{})
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Host: "example.com"})
	m.Received(req)
	m.Received(req)
	m.Received(sip.NewRequest(sip.RequestMethod("NONSENSE"), sip.Uri{Host: "example.com"}))
	m.Received(sip.NewResponseFromRequest(req, 401, "Unauthorized", nil))
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"siplens_requests_received_total", []string{"method=REGISTER"}, 2},
		{"siplens_requests_received_total", []string{"method=other"}, 1},
		{"siplens_requests_received_total", []string{"method=INVITE"}, 0},
		{"siplens_responses_received_total", []string{"code=401", "class=4xx"}, 1},
		{"siplens_responses_received_total", []string{"code=200", "class=2xx"}, 0}, // common: exported at 0
		{"siplens_responses_received_total", []string{"code=301"}, -1},             // neither seen nor common
	} {
		if got := value(t, m, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

func TestCallEnded(t *testing.T) {
	for _, c := range []struct {
		name              string
		code              int
		producer          string
		ringing, answered time.Duration
		outcome           string // "" for not counted
		pdd, setup        float64
	}{
		{"answered after ringing", 200, "branch 1 (sip:bob@127.0.0.1)", 2 * time.Second, 5 * time.Second, "answered", 1, 1},
		{"answered at once", 200, "branch 1", 0, time.Second, "answered", 0, 1},
		{"busy", 486, "branch 1", time.Second, 0, "busy", 1, 0},
		{"not found", 404, "locate", 0, 0, "not-found", 0, 0},
		{"unavailable", 480, "locate", 0, 0, "unavailable", 0, 0},
		{"cancelled while ringing", 487, "caller CANCEL", time.Second, 0, "cancelled", 1, 0},
		{"rate limited", 503, "ratelimit", 0, 0, "rejected", 0, 0},
		{"a downstream 503 (made 500)", 500, "branch 1", 0, 0, "failed", 0, 0},
		{"timer C", 408, "timer C", time.Second, 0, "timed-out", 1, 0},
		{"dropped", 0, "acl", 0, 0, "unanswered", 0, 0},
		{"407 challenge", 407, "auth", 0, 0, "", 0, 0},
		{"401 from a branch", 401, "branch 1", 0, 0, "", 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := New(Options{})
			m.CallEnded(c.code, c.producer, c.ringing, c.answered)
			total := 0.0
			for _, o := range outcomes {
				v := value(t, m, "siplens_calls_total", "outcome="+string(o))
				total += v
				if want := map[bool]float64{true: 1}[string(o) == c.outcome]; v != want {
					t.Errorf("siplens_calls_total{outcome=%q} = %v, want %v", o, v, want)
				}
			}
			if c.outcome == "" && total != 0 {
				t.Errorf("a challenge was counted as a call")
			}
			if got := value(t, m, "siplens_post_dial_delay_seconds"); got != c.pdd {
				t.Errorf("post-dial delay samples = %v, want %v", got, c.pdd)
			}
			if got := value(t, m, "siplens_call_setup_seconds"); got != c.setup {
				t.Errorf("setup time samples = %v, want %v", got, c.setup)
			}
		})
	}
}

func TestHistogramUnitsAreSeconds(t *testing.T) {
	m := New(Options{})
	m.CallEnded(200, "branch 1", 1500*time.Millisecond, 4*time.Second)
	mfs, _ := m.Registry().Gather()
	for _, mf := range mfs {
		switch mf.GetName() {
		case "siplens_post_dial_delay_seconds":
			if s := mf.GetMetric()[0].GetHistogram().GetSampleSum(); s != 1.5 {
				t.Errorf("post-dial delay sum = %v s, want 1.5", s)
			}
		case "siplens_call_setup_seconds":
			if s := mf.GetMetric()[0].GetHistogram().GetSampleSum(); s != 4 {
				t.Errorf("setup sum = %v s, want 4", s)
			}
		}
	}
}

func TestAuthAndRateLimit(t *testing.T) {
	m := New(Options{})
	for _, v := range []trace.Verdict{trace.Challenged, trace.Challenged, trace.Authenticated, trace.WrongPassword,
		trace.WrongPassword, trace.Stale, trace.Replayed, trace.LockedOut, trace.Impersonation, trace.Trusted} {
		m.AuthVerdict(v)
	}
	m.Lockout(true)
	m.Lockout(false)
	m.Lockout(false)
	m.RateLimited("per_source")
	m.RateLimited("total")
	m.RateLimited("max_in_progress")
	m.RateLimited("per_source")
	m.RateLimited("made-up") // not counted anywhere
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"siplens_auth_challenges_total", nil, 2},
		{"siplens_auth_successes_total", nil, 1},
		{"siplens_auth_failures_total", []string{"verdict=wrong-password"}, 2},
		{"siplens_auth_failures_total", []string{"verdict=stale"}, 1},
		{"siplens_auth_failures_total", []string{"verdict=replayed"}, 1},
		{"siplens_auth_failures_total", []string{"verdict=locked-out"}, 1},
		{"siplens_auth_failures_total", []string{"verdict=impersonation"}, 1},
		{"siplens_auth_lockouts_total", []string{"key=user"}, 1},
		{"siplens_auth_lockouts_total", []string{"key=source"}, 2},
		{"siplens_ratelimit_rejections_total", []string{"rule=per_source"}, 2},
		{"siplens_ratelimit_rejections_total", []string{"rule=total"}, 1},
		{"siplens_ratelimit_rejections_total", []string{"rule=max_in_progress"}, 1},
	} {
		if got := value(t, m, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

// TestNamesFollowConventions runs Prometheus' own linter (names, units, _total on
// counters, help texts) over every metric of the registry.
func TestNamesFollowConventions(t *testing.T) {
	m := New(Options{Locations: memory.NewLocations(), TraceFile: os.Args[0],
		TraceCalls: func(context.Context) (int64, error) { return 0, nil }})
	m.SetServer(ServerStats{InProgress: func() int64 { return 0 }, Dropped: func() int64 { return 0 }, Panics: func() int64 { return 0 }})
	m.Sent([]byte("SIP/2.0 200 OK\r\n\r\n"))
	problems, err := testutil.GatherAndLint(m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "siplens_") {
			t.Errorf("%s: %s", p.Metric, p.Text)
		}
	}
	if got := testutil.ToFloat64(m.authChallenges); got != 0 {
		t.Errorf("challenges = %v before any", got)
	}
}

func TestNilMetricsCountNothing(t *testing.T) {
	var m *Metrics
	m.Sent([]byte("SIP/2.0 200 OK\r\n\r\n"))
	m.Received(sip.NewRequest(sip.INVITE, sip.Uri{Host: "x"}))
	m.CallEnded(200, "x", time.Second, time.Second)
	m.AuthVerdict(trace.Challenged)
	m.Lockout(true)
	m.RateLimited("total")
	m.SetServer(ServerStats{})
	if m.Handler() != nil {
		t.Fatal("a nil Metrics has a handler")
	}
}

type failingLocations struct{ store.Locations }

func (failingLocations) AllBindings(context.Context, time.Time) ([]store.Binding, error) {
	return nil, errors.New("store is down")
}

func TestScrapeTimeFigures(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	loc := memory.NewLocations()
	for _, b := range []store.Binding{
		{AOR: "bob@example.com", Contact: "sip:bob@10.0.0.1", Expires: now.Add(time.Hour)},
		{AOR: "bob@example.com", Contact: "sip:bob@10.0.0.2", Expires: now.Add(time.Hour)},
		{AOR: "carol@example.com", Contact: "sip:carol@10.0.0.3", Expires: now.Add(time.Hour)},
	} {
		if _, err := loc.Update(ctx, b.AOR, now, func(cur []store.Binding) ([]store.Binding, error) { return append(cur, b), nil }); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "traces.db")
	if err := os.WriteFile(file, make([]byte, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file+"-wal", make([]byte, 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	m := New(Options{Locations: loc, Now: func() time.Time { return now }, TraceFile: file,
		TraceCalls: func(context.Context) (int64, error) { return 42, nil }})
	var inProgress int64 = 3
	m.SetServer(ServerStats{InProgress: func() int64 { return inProgress }, Dropped: func() int64 { return 7 }, Panics: func() int64 { return 0 }})
	for _, c := range []struct {
		name string
		want float64
	}{
		{"siplens_registrations", 3},
		{"siplens_registered_aors", 2},
		{"siplens_trace_store_bytes", 5096},
		{"siplens_trace_store_calls", 42},
		{"siplens_requests_in_progress", 3},
		{"siplens_messages_dropped_total", 7},
		{"siplens_panics_total", 0},
		{"siplens_trace_entries_dropped_total", -1}, // no tracer: not exported
	} {
		if got := value(t, m, c.name); got != c.want {
			t.Errorf("%s = %v, want %v", c.name, got, c.want)
		}
	}

	// A failing source leaves its figures out; the rest of the page is served.
	m = New(Options{Locations: failingLocations{}, TraceFile: filepath.Join(dir, "missing.db")})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != 200 || !strings.Contains(string(body), "siplens_calls_total") || strings.Contains(string(body), "siplens_registrations ") {
		t.Fatalf("scrape with a failing store: %d\n%s", rec.Code, body)
	}
}

func TestHandlerServesTheTextFormat(t *testing.T) {
	m := New(Options{})
	m.Sent([]byte("SIP/2.0 200 OK\r\n\r\n"))
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`siplens_responses_sent_total{class="2xx",code="200"} 1`,
		`# TYPE siplens_post_dial_delay_seconds histogram`,
		`go_goroutines`,
		`process_start_time_seconds`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page has no %q", want)
		}
	}
}
