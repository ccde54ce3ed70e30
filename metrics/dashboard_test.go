package metrics

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/siplens/siplens/store/memory"
	"github.com/siplens/siplens/trace"
)

// dashboard is the part of a Grafana dashboard this test reads.
type dashboard struct {
	Inputs []struct {
		Name     string `json:"name"`
		PluginID string `json:"pluginId"`
	} `json:"__inputs"`
	Panels []struct {
		Title      string `json:"title"`
		Type       string `json:"type"`
		Datasource struct {
			UID string `json:"uid"`
		} `json:"datasource"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// TestGrafanaDashboard: docs/grafana-dashboard.json parses, takes its data source as the
// ${DS_PROMETHEUS} input, and queries only metrics this package exports.
func TestGrafanaDashboard(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "docs", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("the dashboard is not valid JSON: %v", err)
	}
	if len(d.Inputs) != 1 || d.Inputs[0].Name != "DS_PROMETHEUS" || d.Inputs[0].PluginID != "prometheus" {
		t.Fatalf("the dashboard's inputs = %+v, want the one Prometheus data source DS_PROMETHEUS", d.Inputs)
	}

	exported := exportedNames(t)
	name := regexp.MustCompile(`\bsiplens_[a-z_]+`)
	queried := map[string]bool{}
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if p.Datasource.UID != "${DS_PROMETHEUS}" {
			t.Errorf("panel %q uses data source %q, want ${DS_PROMETHEUS}", p.Title, p.Datasource.UID)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			for _, n := range name.FindAllString(tg.Expr, -1) {
				queried[n] = true
				if !exported[n] {
					t.Errorf("panel %q queries %s, which siplens does not export", p.Title, n)
				}
			}
		}
	}
	// The panels the issue asks for.
	for _, want := range []string{"siplens_calls_total", "siplens_post_dial_delay_seconds_bucket", "siplens_responses_sent_total",
		"siplens_registrations", "siplens_auth_failures_total", "siplens_ratelimit_rejections_total", "siplens_trace_store_bytes"} {
		if !queried[want] {
			t.Errorf("no panel queries %s", want)
		}
	}
}

// exportedNames lists every series name the registry can export, with all sources set
// (histograms by their _bucket, _sum and _count series).
func exportedNames(t *testing.T) map[string]bool {
	t.Helper()
	sink := trace.NewMemorySink()
	tracer, err := trace.NewTracer(trace.Options{Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tracer.Close() })
	m := New(Options{Locations: memory.NewLocations(), Tracer: tracer, TraceFile: os.Args[0],
		TraceCalls: func(context.Context) (int64, error) { return 0, nil }})
	m.SetServer(ServerStats{InProgress: func() int64 { return 0 }, Dropped: func() int64 { return 0 }, Panics: func() int64 { return 0 }})
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, mf := range mfs {
		n := mf.GetName()
		out[n] = true
		if strings.HasSuffix(mf.GetType().String(), "HISTOGRAM") {
			out[n+"_bucket"], out[n+"_sum"], out[n+"_count"] = true, true, true
		}
	}
	return out
}
