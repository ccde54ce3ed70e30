package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siplens/siplens/admin/admintest"
	"github.com/siplens/siplens/capture"
	"github.com/siplens/siplens/diag"
	"github.com/siplens/siplens/trace"
)

// rendering is what diag draws for a fixture call, with siplens' own column.
func rendering(t *testing.T, c *trace.Call, format string, names map[string]string) string {
	t.Helper()
	l := diag.BuildLadder(c, diag.LadderOptions{Self: []string{admintest.Self}, Names: names})
	var b bytes.Buffer
	var err error
	switch format {
	case "text":
		if err = diag.Diagnose(c).WriteText(&b); err == nil {
			b.WriteString("\n")
			err = l.WriteText(&b)
		}
	case "mermaid":
		err = l.WriteMermaid(&b)
	case "svg":
		err = l.WriteSVG(&b)
	case "json":
		err = l.WriteJSON(&b)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestShow(t *testing.T) {
	noAdminEnv(t)
	srv := adminServer(t, testToken)
	t.Setenv("SIPLENS_TOKEN", testToken)
	calls := admintest.Calls()
	busy, odd, offline := calls[1], calls[4], calls[2]
	bobPhone := map[string]string{"127.0.0.1:5070": "bob-phone"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"text", []string{admintest.Busy}, rendering(t, busy, "text", nil)},
		{"text by locate", []string{admintest.Offline, "--format", "text"}, rendering(t, offline, "text", nil)},
		{"mermaid", []string{admintest.Busy, "--format", "mermaid"}, rendering(t, busy, "mermaid", nil)},
		{"svg", []string{"--format", "svg", admintest.Busy}, rendering(t, busy, "svg", nil)},
		{"json", []string{admintest.Busy, "--format=json"}, rendering(t, busy, "json", nil)},
		{"names after the Call-ID", []string{admintest.Busy, "--name", "127.0.0.1:5070=bob-phone"}, rendering(t, busy, "text", bobPhone)},
		{"names in mermaid", []string{"--name", "127.0.0.1:5070=bob-phone", admintest.Busy, "--format", "mermaid"}, rendering(t, busy, "mermaid", bobPhone)},
		{"a Call-ID that needs escaping", []string{admintest.Odd}, rendering(t, odd, "text", nil)},
		{"a Call-ID that needs escaping, svg", []string{admintest.Odd, "--format", "svg"}, rendering(t, odd, "svg", nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, status := run(t, append([]string{"show", "--admin", srv.URL}, tt.args...)...)
			if status != 0 {
				t.Fatalf("exit %d: %s", status, errOut)
			}
			if out != tt.want {
				t.Errorf("output\n%s\nwant\n%s", out, tt.want)
			}
		})
	}

	// The text shows what an engineer looks for first.
	out, _, _ := run(t, "show", "--admin", srv.URL, admintest.Offline)
	for _, s := range []string{"Outcome:  unavailable (480 Temporarily Unavailable)", "Producer: siplens step locate", "Cause:", "Check next:", "Call-ID: " + admintest.Offline, "INVITE (SDP)"} {
		if !strings.Contains(out, s) {
			t.Errorf("show text lacks %q:\n%s", s, out)
		}
	}
	out, _, _ = run(t, "show", "--admin", srv.URL, admintest.Busy, "--verbose")
	if !strings.Contains(out, "* branch 1 (sip:bob@127.0.0.1:5070;transport=udp) answers 486") {
		t.Errorf("--verbose does not show the branch's answer:\n%s", out)
	}
}

func TestShowErrors(t *testing.T) {
	noAdminEnv(t)
	srv := adminServer(t, "")
	closed := closedAddress(t)
	tests := []struct {
		name   string
		args   []string
		status int
		want   string
	}{
		{"unknown call", []string{"--admin", srv.URL, "nope@host"}, 1,
			`siplens: no recorded call has Call-ID "nope@host" (it may be older than trace.max_age, or the Call-ID is mistyped); siplens calls lists the recent ones`},
		{"unknown call, svg", []string{"--admin", srv.URL, "nope@host", "--format", "svg"}, 1, `no recorded call has Call-ID "nope@host"`},
		{"no Call-ID", []string{"--admin", srv.URL}, 2, "Usage: siplens show CALL-ID"},
		{"two Call-IDs", []string{"--admin", srv.URL, "a", "b"}, 2, "Usage: siplens show CALL-ID"},
		{"empty Call-ID", []string{"--admin", srv.URL, ""}, 2, "the Call-ID is empty"},
		{"bad format", []string{"--admin", srv.URL, admintest.Busy, "--format", "png"}, 2, `--format "png": give one of text, mermaid, svg, json, pcap, trace`},
		{"bad name", []string{"--admin", srv.URL, admintest.Busy, "--name", "pbx"}, 2, `--name: host name "pbx": want ADDRESS=NAME`},
		{"not running", []string{"--admin", closed, admintest.Busy}, 1, "Is siplens serve running with its admin API on " + closed + "?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, status := run(t, append([]string{"show"}, tt.args...)...)
			if status != tt.status {
				t.Fatalf("exit %d, want %d; stderr %s", status, tt.status, errOut)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q\nwant it to contain %q", errOut, tt.want)
			}
		})
	}
}

func TestEscapeSegment(t *testing.T) {
	for in, want := range map[string]string{
		"abc@host":         "abc@host",
		".":                "%2E",
		"..":               "%2E%2E",
		"a/b?c=%d #e":      "a%2Fb%3Fc=%25d%20%23e",
		admintest.Answered: admintest.Answered,
	} {
		if got := escapeSegment(in); got != want {
			t.Errorf("escapeSegment(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestShowRecordFormats: --format pcap is the call as Wireshark opens it, and --format
// trace a record that siplens analyze reads back to the live diagnosis.
func TestShowRecordFormats(t *testing.T) {
	noAdminEnv(t)
	srv := adminServer(t, testToken)
	t.Setenv("SIPLENS_TOKEN", testToken)
	busy := admintest.Calls()[1]

	out, errOut, status := run(t, "show", "--admin", srv.URL, admintest.Busy, "--format", "pcap")
	if status != 0 {
		t.Fatalf("--format pcap: exit %d: %s", status, errOut)
	}
	var want bytes.Buffer
	if err := capture.WritePCAP(&want, busy); err != nil {
		t.Fatal(err)
	}
	if out != want.String() {
		t.Errorf("--format pcap wrote %d bytes, want the %d of capture.WritePCAP", len(out), want.Len())
	}

	out, errOut, status = run(t, "show", "--admin", srv.URL, admintest.Busy, "--format", "trace")
	if status != 0 {
		t.Fatalf("--format trace: exit %d: %s", status, errOut)
	}
	file := filepath.Join(t.TempDir(), "busy.json")
	if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	got, errOut, status := run(t, "analyze", file, "--call", busy.CallID, "--json")
	if status != 0 {
		t.Fatalf("analyze the trace export: exit %d: %s", status, errOut)
	}
	var read struct {
		Diagnosis diag.Diagnosis `json:"diagnosis"`
	}
	if err := json.Unmarshal([]byte(got), &read); err != nil {
		t.Fatalf("analyze --json: %v\n%s", err, got)
	}
	gotJSON, _ := json.Marshal(read.Diagnosis)
	wantJSON, _ := json.Marshal(diag.Diagnose(busy))
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Errorf("the trace export reads back to\n%s\nthe live diagnosis is\n%s", gotJSON, wantJSON)
	}
}
