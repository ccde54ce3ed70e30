package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/siplens/siplens/capture"
	"github.com/siplens/siplens/trace"
	"github.com/siplens/siplens/trace/tracetest"
)

// analyzeFixture writes a pcap of two calls through a proxy at 10.0.0.5: one answered by
// bob's phone, one refused by the proxy with 480.
func analyzeFixture(t *testing.T) string {
	t.Helper()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var calls []*trace.Call
	{
		f := tracetest.New("cli-answered", t0)
		f.Self = "10.0.0.5:5060"
		req := f.Invite("10.0.0.1:5060", "alice", "bob")
		out := f.After(time.Millisecond).Forward(req, "sip:bob@10.0.0.7:5060", "10.0.0.7:5060")
		ok := f.After(time.Second).Reply(out, 200, tracetest.SDP(tracetest.Offer("10.0.0.7", 40000)))
		f.Relay(ok, req)
		f.After(time.Millisecond).InDialog(trace.In, "10.0.0.1:5060", "ACK", "10.0.0.1:5060", req, ok, 1)
		f.InDialog(trace.Out, "10.0.0.7:5060", "ACK", "10.0.0.5:5060", req, ok, 1)
		calls = append(calls, f.Call())
	}
	{
		f := tracetest.New("cli-480", t0.Add(2*time.Second))
		f.Self = "10.0.0.5:5060"
		req := f.Invite("10.0.0.1:5060", "alice", "carol")
		res := f.After(time.Millisecond).Reply(req, 480)
		f.After(time.Millisecond).AckFailure(req, res)
		calls = append(calls, f.Call())
	}
	var buf bytes.Buffer
	w, err := capture.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range calls {
		for i := range c.Messages {
			if err := w.WriteMessage(&c.Messages[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	file := filepath.Join(t.TempDir(), "two.pcap")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestAnalyze(t *testing.T) {
	file := analyzeFixture(t)
	tests := []struct {
		name string
		args []string
		want []string
		not  []string
	}{
		{"summary", []string{file}, []string{"Calls (INVITE): 2", "1  answered", "1  unavailable", "INVITE", "480 Temporarily Unavailable",
			"Top failure causes:", "480 Temporarily Unavailable from 10.0.0.5:5060", "List calls with --failed"}, nil},
		{"names", []string{file, "--name", "10.0.0.5=pbx"}, []string{"480 Temporarily Unavailable from pbx (10.0.0.5:5060)"}, nil},
		{"stats", []string{"--stats", file}, []string{"SIP messages: 9", "SIP 200 OK", "INVITE"}, []string{"Calls"}},
		{"failed", []string{file, "--failed"}, []string{"Call cli-480: INVITE alice@localhost -> carol@localhost", "Outcome:  unavailable (480 Temporarily Unavailable)",
			"Producer: 10.0.0.5:5060", "Calls (INVITE): 2"}, []string{"Call cli-answered"}},
		{"code", []string{file, "--code", "200"}, []string{"Call cli-answered", "Producer: branch 1 (sip:bob@10.0.0.7:5060) at 10.0.0.7:5060"}, []string{"Call cli-480"}},
		{"to", []string{file, "--to", "CAROL"}, []string{"Call cli-480"}, []string{"Call cli-answered"}},
		{"from, nobody", []string{file, "--from", "dave"}, []string{"No call matches the filters."}, nil},
		{"one call, text", []string{file, "--call", "cli-480", "--name", "10.0.0.5=pbx"}, []string{"Call cli-480", "from the point of view of pbx", "Call-ID: cli-480", "pbx"}, []string{"siplens"}},
		{"one call, mermaid", []string{file, "--call", "cli-answered", "--format", "mermaid"}, []string{"sequenceDiagram", "200 OK"}, nil},
		{"one call, svg", []string{file, "--call", "cli-answered", "--format", "svg"}, []string{"<svg"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, status := run(t, append([]string{"analyze", "--quiet"}, tt.args...)...)
			if status != 0 {
				t.Fatalf("exit %d: %s", status, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		out, errOut, status := run(t, "analyze", file, "--json")
		if status != 0 {
			t.Fatalf("exit %d: %s", status, errOut)
		}
		var doc struct {
			Calls []struct {
				CallID    string `json:"call_id"`
				Vantage   string `json:"vantage"`
				Diagnosis struct {
					FinalCode int `json:"final_code"`
				} `json:"diagnosis"`
			} `json:"calls"`
			Summary struct {
				Calls     int            `json:"calls"`
				Requests  map[string]int `json:"requests"`
				Responses map[string]int `json:"responses"`
			} `json:"summary"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		if len(doc.Calls) != 2 || doc.Summary.Calls != 2 || doc.Summary.Requests["INVITE"] != 3 || doc.Summary.Responses["480"] != 1 || doc.Calls[0].Vantage != "10.0.0.5:5060" {
			t.Errorf("JSON: %+v", doc)
		}
		out, _, _ = run(t, "analyze", file, "--json", "--call", "cli-480")
		if !strings.Contains(out, `"ladder"`) || !strings.Contains(out, `"final_code": 480`) {
			t.Errorf("--json --call: %s", out)
		}
	})
}

func TestAnalyzeErrors(t *testing.T) {
	file := analyzeFixture(t)
	junk := filepath.Join(t.TempDir(), "junk.bin")
	os.WriteFile(junk, []byte("\x00\x01\x02 not a capture"), 0o644)
	tests := []struct {
		name   string
		args   []string
		status int
		want   string
	}{
		{"no file", []string{"analyze"}, 2, "Usage: siplens analyze FILE"},
		{"missing file", []string{"analyze", "/nonexistent/x.pcap"}, 1, "no such file"},
		{"not a capture", []string{"analyze", junk}, 1, "unknown format"},
		{"unknown call", []string{"analyze", file, "--call", "nope"}, 1, `no call with Call-ID "nope"`},
		{"format without call", []string{"analyze", file, "--format", "svg"}, 2, "--format draws one call's ladder: give --call CALL-ID"},
		{"bad format", []string{"analyze", file, "--call", "x", "--format", "png"}, 2, `--format "png"`},
		{"bad name", []string{"analyze", file, "--name", "pbx"}, 2, "--name"},
		{"stats with a filter", []string{"analyze", file, "--stats", "--failed"}, 2, "--stats only counts messages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, status := run(t, tt.args...)
			if status != tt.status || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", status, errOut, tt.status, tt.want)
			}
		})
	}
	// The help says what analyze reads and does.
	out, _, status := run(t, "--help")
	if status != 0 || !strings.Contains(out, "analyze") {
		t.Errorf("siplens --help does not list analyze:\n%s", out)
	}
	_, errOut, status := run(t, "analyze", "--help")
	for _, w := range []string{"pcapng", "HEP3", "sngrep", "--call", "--failed", "--stats", "--json", "--name", "--format"} {
		if status != 0 || !strings.Contains(errOut, w) {
			t.Errorf("analyze --help (exit %d) lacks %q:\n%s", status, w, errOut)
		}
	}
}
