package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/siplens/siplens/siptest"
)

// tortureCases: every file in testdata/torture, in the spirit of RFC 4475, with the answer
// it must get. 0 means the message cannot be answered and must be dropped. phrase, when
// set, must appear in the reason phrase (a 400 names what was wrong).
var tortureCases = map[string]struct {
	code   int
	phrase string
}{
	"valid_options_server":                 {200, ""},
	"valid_compact_forms":                  {200, ""},
	"valid_case_and_spacing":               {200, ""},
	"valid_unknown_headers":                {200, ""},
	"valid_display_name_quotes":            {200, ""},
	"valid_unknown_user_invite":            {407, ""}, // same challenge as for a real user
	"valid_long_value":                     {200, ""},
	"valid_max_forwards_zero_options_self": {200, ""},
	"invalid_missing_call_id":              {400, "Call-ID"},
	"invalid_missing_from":                 {400, "From"},
	"invalid_missing_to":                   {400, "To"},
	"invalid_missing_from_tag":             {400, "From tag"},
	"invalid_cseq_method_mismatch":         {400, "CSeq"},
	"invalid_content_length_too_big":       {400, "Content-Length"},
	"invalid_max_forwards_zero":            {483, ""},
	"invalid_unsupported_proxy_require":    {420, ""},
	"invalid_tel_uri":                      {416, ""},
	"invalid_publish":                      {405, ""},
	"invalid_sip_version":                  {505, ""},
	"invalid_unmatched_cancel":             {481, ""},
	"invalid_missing_via":                  {0, ""},
	"garbage_binary":                       {0, ""},
	"garbage_request_line":                 {0, ""},
	"garbage_no_headers":                   {0, ""},
	"garbage_bad_cseq":                     {0, ""},
}

// tcpDifferences are the answers that rightly differ over a stream: a body shorter than
// its Content-Length is just not complete yet (RFC 3261 18.3), and a request without Via
// can be answered on its connection; sipgo's transaction layer does that before siplens
// sees the request, with a bare "400 Bad Request".
var tcpDifferences = map[string]struct {
	code   int
	phrase string
}{
	"invalid_content_length_too_big": {0, ""},
	"invalid_missing_via":            {400, ""},
}

func TestTorture(t *testing.T) {
	siptest.RunWithTransports(t, torture)
}

func torture(t *testing.T, transport string) {
	srv := startServer(t, "", nil)
	send := func(t *testing.T, msg []byte, wait time.Duration) [][]byte {
		if transport == "udp" {
			return siptest.SendUDP(t, srv.Addr, msg, wait)
		}
		return siptest.SplitMessages(siptest.SendTCP(t, srv.Addr, msg, wait))
	}
	files, err := filepath.Glob("testdata/torture/*.sip")
	if err != nil || len(files) == 0 {
		t.Fatalf("no torture messages: %v", err)
	}
	// The messages go in parallel, each from its own socket; the group ends when all did.
	t.Run("messages", func(t *testing.T) { tortureMessages(t, files, transport, send) })
	// After all that, the server still answers a keep-alive.
	ok, err := os.ReadFile("testdata/torture/valid_options_server.sip")
	if err != nil {
		t.Fatal(err)
	}
	got := send(t, ok, time.Second)
	if len(got) == 0 {
		t.Fatal("no answer to OPTIONS after the torture set")
	}
	if code, _, _ := siptest.ParseStatus(got[0]); code != 200 {
		t.Fatalf("OPTIONS after the torture set: %d", code)
	}
	if transport == "udp" && srv.Dropped.Load() == 0 {
		t.Errorf("the garbage messages were not counted as dropped")
	}
}

func tortureMessages(t *testing.T, files []string, transport string, send func(*testing.T, []byte, time.Duration) [][]byte) {
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".sip")
		want, ok := tortureCases[name]
		if !ok {
			t.Errorf("%s has no expected answer in tortureCases", f)
			continue
		}
		if d, differs := tcpDifferences[name]; differs && transport == "tcp" {
			want = d
		}
		msg, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			wait := 300 * time.Millisecond
			got := send(t, msg, wait)
			// Skip provisional answers (100 Trying for an INVITE).
			var final []byte
			for _, d := range got {
				if code, _, _ := siptest.ParseStatus(d); code >= 200 {
					final = d
					break
				}
			}
			if want.code == 0 {
				if final != nil {
					t.Fatalf("want the message dropped, got:\n%s", final)
				}
				return
			}
			if final == nil {
				t.Fatalf("want %d, got no final answer (%d datagrams)", want.code, len(got))
			}
			code, reason, headers := siptest.ParseStatus(final)
			if code != want.code {
				t.Fatalf("want %d, got %d %s:\n%s", want.code, code, reason, final)
			}
			if want.phrase != "" && !strings.Contains(reason, want.phrase) {
				t.Errorf("reason phrase %q does not name %q", reason, want.phrase)
			}
			if code == 400 && want.phrase != "" && len(headers["warning"]) == 0 {
				t.Errorf("a 400 should carry a Warning with the detail:\n%s", final)
			}
		})
	}
}
