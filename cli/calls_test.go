package cli

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/siplens/siplens/admin"
	"github.com/siplens/siplens/admin/admintest"
	"github.com/siplens/siplens/trace"
)

const testToken = "0123456789abcdef-token"

// adminServer serves the admin API over the fixture calls and registrations.
func adminServer(t *testing.T, token string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(admin.New(admin.Options{
		Traces:    admintest.Sink(t),
		Locations: admintest.Locations(),
		Self:      []string{admintest.Self},
		Token:     token,
		Now:       func() time.Time { return admintest.Now },
	}))
	t.Cleanup(srv.Close)
	return srv
}

// run runs a command through Main, as the binary would, with the environment cleared
// of the admin API's variables unless the test sets them.
func run(t *testing.T, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	var out, errOut bytes.Buffer
	status = Main(args, &out, &errOut)
	return out.String(), errOut.String(), status
}

func noAdminEnv(t *testing.T) {
	t.Setenv("SIPLENS_ADMIN", "")
	t.Setenv("SIPLENS_TOKEN", "")
}

func tableRows(out string) []string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[1:] // after the header
}

func TestCallsTable(t *testing.T) {
	noAdminEnv(t)
	srv := adminServer(t, "")
	tests := []struct {
		args []string
		want []string // Call-IDs, in order
	}{
		{nil, []string{admintest.Odd, admintest.Unknown, admintest.Offline, admintest.Busy, admintest.Answered}},
		{[]string{"--code", "480"}, []string{admintest.Offline}},
		{[]string{"--class", "4", "--limit", "2"}, []string{admintest.Odd, admintest.Unknown}},
		{[]string{"--user", "carol"}, []string{admintest.Offline}},
		{[]string{"--since", "58m"}, []string{admintest.Odd, admintest.Unknown, admintest.Offline}},
		{[]string{"--until", "2026-03-01T12:01:30Z"}, []string{admintest.Busy, admintest.Answered}},
		{[]string{"--outcome", "busy"}, []string{admintest.Odd, admintest.Busy}},
		{[]string{"--method", "invite", "--user", "dave"}, []string{admintest.Unknown}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, errOut, status := run(t, append([]string{"calls", "--admin", srv.URL}, tt.args...)...)
			if status != 0 {
				t.Fatalf("exit %d: %s", status, errOut)
			}
			if !strings.HasPrefix(out, "TIME ") || !strings.Contains(strings.SplitN(out, "\n", 2)[0], "CALL-ID") {
				t.Errorf("no header:\n%s", out)
			}
			rows := tableRows(out)
			if len(rows) != len(tt.want) {
				t.Fatalf("%d rows, want %d:\n%s", len(rows), len(tt.want), out)
			}
			for i, id := range tt.want {
				if !strings.Contains(rows[i], "  "+id+"  ") {
					t.Errorf("row %d is not %s: %q", i, id, rows[i])
				}
			}
		})
	}
}

func TestCallTableColumns(t *testing.T) {
	var out bytes.Buffer
	list := []trace.Summary{}
	for _, c := range admintest.Calls()[1:3] {
		list = append(list, trace.Summarize(c))
	}
	if err := writeCallTable(&out, list, time.UTC); err != nil {
		t.Fatal(err)
	}
	want := `TIME                 CALL-ID             METHOD  FROM             TO               FINAL                        OUTCOME      DURATION
2026-03-01 12:01:00  call-486@127.0.0.1  INVITE  alice@localhost  bob@localhost    486 Busy Here                busy         3.04s
2026-03-01 12:02:00  call-480@127.0.0.1  INVITE  alice@localhost  carol@localhost  480 Temporarily Unavailable  unavailable  2ms
`
	if out.String() != want {
		t.Errorf("table\n%s\nwant\n%s", out.String(), want)
	}

	out.Reset()
	if err := writeCallTable(&out, []trace.Summary{{CallID: "x\ny", First: admintest.T0}}, time.UTC); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "x?y") || !strings.Contains(out.String(), "  -  ") {
		t.Errorf("a Call-ID with a line break, no code:\n%s", out.String())
	}
	out.Reset()
	_ = writeCallTable(&out, nil, time.UTC)
	if out.String() != "No recorded call matches.\n" {
		t.Errorf("empty list: %q", out.String())
	}
}

func TestCallsJSON(t *testing.T) {
	noAdminEnv(t)
	srv := adminServer(t, "")
	out, errOut, status := run(t, "calls", "--admin", srv.URL, "--json", "--code", "486")
	if status != 0 {
		t.Fatalf("exit %d: %s", status, errOut)
	}
	var list []trace.Summary
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if len(list) != 2 || list[0].CallID != admintest.Odd || list[1] != trace.Summarize(admintest.Calls()[1]) {
		t.Errorf("list = %+v", list)
	}
}

func TestCallsErrors(t *testing.T) {
	noAdminEnv(t)
	srv := adminServer(t, "")
	closed := closedAddress(t)
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(404)
		w.Write([]byte("<html>not here</html>"))
	}))
	defer html.Close()
	tests := []struct {
		name   string
		args   []string
		status int
		want   []string // parts of stderr
	}{
		{"bad code", []string{"--admin", srv.URL, "--code", "999"}, 2, []string{`siplens: code: "999" is not a response code (100 to 699)`}},
		{"bad outcome", []string{"--admin", srv.URL, "--outcome", "happy"}, 2, []string{`outcome: "happy" is not one of answered`}},
		{"bad since", []string{"--admin", srv.URL, "--since", "yesterday"}, 2, []string{`since: "yesterday" is neither a duration`}},
		{"bad limit", []string{"--admin", srv.URL, "--limit", "0"}, 2, []string{"limit: "}},
		{"code not a number", []string{"--admin", srv.URL, "--code", "busy"}, 2, []string{`invalid value "busy" for flag -code`}},
		{"unknown flag", []string{"--admin", srv.URL, "--colour"}, 2, []string{"flag provided but not defined: -colour"}},
		{"argument", []string{"--admin", srv.URL, "bob"}, 2, []string{`unexpected argument "bob"`}},
		{"not an admin URL", []string{"--admin", "ftp://127.0.0.1:5065"}, 2, []string{`--admin "ftp://127.0.0.1:5065" is not the URL of the admin API`}},
		{"not running", []string{"--admin", "http://" + closed}, 1, []string{
			"cannot reach the admin API at http://" + closed + ": connect: connection refused",
			"Is siplens serve running with its admin API on " + closed + "?"}},
		{"another server", []string{"--admin", html.URL}, 1, []string{"HTTP 404 Not Found: <html>not here</html>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, status := run(t, append([]string{"calls"}, tt.args...)...)
			if status != tt.status {
				t.Fatalf("exit %d, want %d; stderr %s", status, tt.status, errOut)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q\nwant it to contain %q", errOut, w)
				}
			}
		})
	}
}

// closedAddress is a loopback address where nothing listens.
func closedAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestCallsFindsTheAPI(t *testing.T) {
	srv := adminServer(t, testToken)
	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		status int
		want   string // part of stderr, when it fails
	}{
		{"token flag", nil, []string{"--admin", srv.URL, "--token", testToken}, 0, ""},
		{"environment", map[string]string{"SIPLENS_ADMIN": srv.URL, "SIPLENS_TOKEN": testToken}, nil, 0, ""},
		{"URL without scheme", map[string]string{"SIPLENS_TOKEN": testToken}, []string{"--admin", strings.TrimPrefix(srv.URL, "http://")}, 0, ""},
		{"flags win", map[string]string{"SIPLENS_ADMIN": "http://" + closedAddress(t), "SIPLENS_TOKEN": "wrong-token-0123456"}, []string{"--admin", srv.URL + "/", "--token", testToken}, 0, ""},
		{"no token", nil, []string{"--admin", srv.URL}, 1, "refused the request: this admin API needs a token"},
		{"no token hint", nil, []string{"--admin", srv.URL}, 1, "give the token of admin.token in the server's config with --token or $SIPLENS_TOKEN"},
		{"wrong token", map[string]string{"SIPLENS_TOKEN": "wrong-token-0123456"}, []string{"--admin", srv.URL}, 1, "is not the server's admin.token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noAdminEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			out, errOut, status := run(t, append([]string{"calls"}, tt.args...)...)
			if status != tt.status {
				t.Fatalf("exit %d, want %d; stderr %s", status, tt.status, errOut)
			}
			if tt.status == 0 && len(tableRows(out)) != 5 {
				t.Errorf("want 5 calls:\n%s", out)
			}
			if tt.want != "" && !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q\nwant it to contain %q", errOut, tt.want)
			}
		})
	}
}
