package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/siplens/siplens/admin"
	"github.com/siplens/siplens/admin/admintest"
	"github.com/siplens/siplens/diag"
	"github.com/siplens/siplens/store"
	"github.com/siplens/siplens/trace"
)

const token = "s3cret-token-0123456789"

func newAPI(t *testing.T, mod func(*admin.Options)) http.Handler {
	t.Helper()
	o := admin.Options{
		Traces:    admintest.Sink(t),
		Locations: admintest.Locations(),
		Self:      []string{admintest.Self},
		Now:       func() time.Time { return admintest.Now },
	}
	if mod != nil {
		mod(&o)
	}
	return admin.New(o)
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request to h as a local client would: to Host 127.0.0.1:5065 unless the
// headers say otherwise ("Host" sets the Host).
func do(t *testing.T, h http.Handler, method, target string, headers ...string) answer {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	req.Host = "127.0.0.1:5065"
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] == "Host" {
			req.Host = headers[i+1]
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return answer{rec.Code, rec.Header(), rec.Body.Bytes()}
}

func (a answer) errorText(t *testing.T) string {
	t.Helper()
	if ct := a.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error answer has Content-Type %q, want application/json; body %s", ct, a.body)
	}
	var e admin.Error
	if err := json.Unmarshal(a.body, &e); err != nil || e.Error == "" {
		t.Fatalf("error answer %s is not {\"error\": ...}: %v", a.body, err)
	}
	return e.Error
}

func callIDs(list []trace.Summary) []string {
	out := []string{}
	for _, s := range list {
		out = append(out, s.CallID)
	}
	return out
}

func TestListCalls(t *testing.T) {
	h := newAPI(t, nil)
	all := []string{admintest.Odd, admintest.Unknown, admintest.Offline, admintest.Busy, admintest.Answered}
	tests := []struct {
		query string
		want  []string
	}{
		{"", all},
		{"code=486", []string{admintest.Odd, admintest.Busy}},
		{"class=4", []string{admintest.Odd, admintest.Unknown, admintest.Offline, admintest.Busy}},
		{"class=4xx&code=404", []string{admintest.Unknown}},
		{"class=2", []string{admintest.Answered}},
		{"user=carol", []string{admintest.Offline}},
		{"user=carol@localhost", []string{admintest.Offline}},
		{"user=carol@example.com", []string{}},
		{"user=bob", []string{admintest.Odd, admintest.Unknown, admintest.Busy, admintest.Answered}},
		{"user=dave&code=404", []string{admintest.Unknown}},
		{"since=58m", []string{admintest.Odd, admintest.Unknown, admintest.Offline}},
		{"since=2026-03-01T12:01:00Z", []string{admintest.Odd, admintest.Unknown, admintest.Offline, admintest.Busy}},
		{"until=2026-03-01T12:02:00Z", []string{admintest.Busy, admintest.Answered}},
		{"since=2026-03-01T12:01:00Z&until=58m30s", []string{admintest.Busy}},
		{"since=2026-03-01T13:01:00%2B01:00&until=2026-03-01T12:03:30Z", []string{admintest.Unknown, admintest.Offline, admintest.Busy}},
		{"outcome=busy", []string{admintest.Odd, admintest.Busy}},
		{"outcome=Not-Found", []string{admintest.Unknown}},
		{"outcome=timed-out", []string{}},
		{"method=invite", all},
		{"method=REGISTER", []string{}},
		{"limit=2", []string{admintest.Odd, admintest.Unknown}},
		{"limit=2&code=486", []string{admintest.Odd, admintest.Busy}},
		{"code=&user=&since=", all}, // an empty field of a form is no filter
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			a := do(t, h, "GET", "/api/calls?"+tt.query)
			if a.status != http.StatusOK || a.header.Get("Content-Type") != "application/json" {
				t.Fatalf("status %d, Content-Type %q: %s", a.status, a.header.Get("Content-Type"), a.body)
			}
			var list []trace.Summary
			if err := json.Unmarshal(a.body, &list); err != nil {
				t.Fatal(err)
			}
			if got := callIDs(list); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("calls = %q\nwant    %q", got, tt.want)
			}
		})
	}
}

func TestListCallsSummary(t *testing.T) {
	a := do(t, newAPI(t, nil), "GET", "/api/calls?code=480")
	var list []trace.Summary
	if err := json.Unmarshal(a.body, &list); err != nil || len(list) != 1 {
		t.Fatalf("%v: %s", err, a.body)
	}
	want := trace.Summarize(admintest.Calls()[2])
	if list[0] != want {
		t.Errorf("summary = %+v\nwant      %+v", list[0], want)
	}
	if !bytes.Contains(a.body, []byte(`"reason": "carol@localhost exists but has no registered contact"`)) {
		t.Errorf("the list does not carry the reason: %s", a.body)
	}
	// No match is an empty list, not null.
	if a := do(t, newAPI(t, nil), "GET", "/api/calls?code=699"); strings.TrimSpace(string(a.body)) != "[]" {
		t.Errorf("no match: body %s, want []", a.body)
	}
}

func TestListCallsBadParameters(t *testing.T) {
	h := newAPI(t, nil)
	tests := []struct {
		query string
		want  string // the start of the error
	}{
		{"code=abc", `code: "abc" is not a response code (100 to 699)`},
		{"code=99", "code: "},
		{"code=700", "code: "},
		{"code=480&code=486", "code: given 2 times"},
		{"class=7", `class: "7" is not a response class`},
		{"class=four", "class: "},
		{"class=5&code=480", "class: 5 contradicts code 480"},
		{"user=bob%0Aevil", "user: "},
		{"user=" + strings.Repeat("x", 300), "user: "},
		{"since=yesterday", `since: "yesterday" is neither a duration`},
		{"since=-1h", `since: "-1h" is negative`},
		{"until=2026-03-01", "until: "},
		{"since=1m&until=2h", "until: 2026-03-01T11:00:00Z is not after since (2026-03-01T12:59:00Z)"},
		{"outcome=happy", `outcome: "happy" is not one of answered, redirected, busy`},
		{"method=IN%20VITE", "method: "},
		{"limit=0", `limit: "0" is not a number from 1 to 1000`},
		{"limit=1001", "limit: "},
		{"limit=ten", "limit: "},
		{"codes=480", "codes: unknown parameter (this route takes: code, class, user, since, until, outcome, method, limit)"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			a := do(t, h, "GET", "/api/calls?"+tt.query)
			if a.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", a.status, a.body)
			}
			if got := a.errorText(t); !strings.HasPrefix(got, tt.want) {
				t.Errorf("error %q\nwant it to start with %q", got, tt.want)
			}
		})
	}
}

func TestCallDetail(t *testing.T) {
	h := newAPI(t, nil)
	a := do(t, h, "GET", "/api/calls/"+url.PathEscape(admintest.Busy))
	if a.status != http.StatusOK || a.header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	var d admin.CallDetail
	if err := json.Unmarshal(a.body, &d); err != nil {
		t.Fatal(err)
	}
	call := admintest.Calls()[1]
	if want := trace.Summarize(call); d.Summary != want {
		t.Errorf("summary = %+v\nwant %+v", d.Summary, want)
	}
	if want := diag.Diagnose(call); !reflect.DeepEqual(d.Diagnosis, want) {
		t.Errorf("diagnosis = %+v\nwant %+v", d.Diagnosis, want)
	}
	if d.Diagnosis.Outcome != trace.OutcomeBusy || d.Diagnosis.Producer.Kind != diag.ByBranch || d.Diagnosis.Producer.Address != admintest.Bob {
		t.Errorf("diagnosis = %+v, want busy from the branch at %s", d.Diagnosis, admintest.Bob)
	}
	// The ladder is the one diag draws, with siplens' own column.
	var want bytes.Buffer
	if err := diag.BuildLadder(call, diag.LadderOptions{Self: []string{admintest.Self}}).WriteJSON(&want); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := d.Ladder.WriteJSON(&got); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Errorf("ladder differs from diag's\n got %s\nwant %s", got.String(), want.String())
	}
	if len(d.Messages) != len(call.Messages) || len(d.Events) != len(call.Events) {
		t.Fatalf("%d messages and %d events, want %d and %d", len(d.Messages), len(d.Events), len(call.Messages), len(call.Events))
	}
	first := d.Messages[0]
	wantFirst := admin.Message{Index: 0, Time: admintest.T0.Add(time.Minute), Direction: trace.In, Transport: "UDP",
		Local: admintest.Self, Remote: admintest.Alice, From: admintest.Alice, To: admintest.Self, Label: "INVITE",
		Text: string(call.Messages[0].Raw)}
	if first != wantFirst {
		t.Errorf("first message = %+v\nwant %+v", first, wantFirst)
	}
	if m := d.Messages[2]; m.Direction != trace.Out || m.From != admintest.Self || m.To != admintest.Bob || m.Label != "INVITE" || m.Index != 2 {
		t.Errorf("message 2 = %+v, want the INVITE siplens sent to bob", m)
	}
	if m := d.Messages[3]; m.Label != "180 Ringing" || m.From != admintest.Bob || !strings.HasPrefix(m.Text, "SIP/2.0 180 Ringing\r\n") {
		t.Errorf("message 3 = %+v, want bob's 180", m)
	}
	// The JSON reads plainly: directions as words, the SIP text as text.
	for _, s := range []string{`"direction": "in"`, `"text": "INVITE sip:bob@localhost SIP/2.0\r\n`, `"outcome": "busy"`, `"kind": "branch"`} {
		if !bytes.Contains(a.body, []byte(s)) {
			t.Errorf("the answer does not contain %s", s)
		}
	}
}

func TestCallDetailOptionsAndErrors(t *testing.T) {
	h := newAPI(t, nil)
	tests := []struct {
		name   string
		target string
		status int
		check  func(t *testing.T, a answer)
	}{
		{"escaped Call-ID", "/api/calls/" + url.PathEscape(admintest.Odd), 200, func(t *testing.T, a answer) {
			var d admin.CallDetail
			if err := json.Unmarshal(a.body, &d); err != nil || d.Summary.CallID != admintest.Odd || d.Ladder.CallID != admintest.Odd {
				t.Errorf("%v: summary %+v", err, d.Summary)
			}
		}},
		{"names", "/api/calls/" + admintest.Busy + "?name=127.0.0.1:5080=alice&name=127.0.0.1:5070=bob-phone", 200, func(t *testing.T, a answer) {
			var d admin.CallDetail
			if err := json.Unmarshal(a.body, &d); err != nil {
				t.Fatal(err)
			}
			var labels []string
			for _, p := range d.Ladder.Participants {
				labels = append(labels, p.Label)
			}
			if want := []string{"alice", "siplens", "bob-phone"}; !reflect.DeepEqual(labels, want) {
				t.Errorf("columns %q, want %q", labels, want)
			}
		}},
		{"verbose", "/api/calls/" + admintest.Busy + "?verbose=true", 200, func(t *testing.T, a answer) {
			var d admin.CallDetail
			if err := json.Unmarshal(a.body, &d); err != nil {
				t.Fatal(err)
			}
			plain := diag.BuildLadder(admintest.Calls()[1], diag.LadderOptions{})
			if len(d.Ladder.Notes) <= len(plain.Notes) {
				t.Errorf("verbose ladder has %d notes, the plain one %d", len(d.Ladder.Notes), len(plain.Notes))
			}
		}},
		{"unknown call", "/api/calls/nope@host", 404, func(t *testing.T, a answer) {
			if got := a.errorText(t); !strings.Contains(got, `no call with Call-ID "nope@host" is recorded`) {
				t.Errorf("error %q", got)
			}
		}},
		{"bad name", "/api/calls/" + admintest.Busy + "?name=pbx", 400, func(t *testing.T, a answer) {
			if got := a.errorText(t); !strings.HasPrefix(got, `name: host name "pbx": want ADDRESS=NAME`) {
				t.Errorf("error %q", got)
			}
		}},
		{"bad verbose", "/api/calls/" + admintest.Busy + "?verbose=maybe", 400, func(t *testing.T, a answer) {
			if got := a.errorText(t); got != `verbose: "maybe" is not true or false` {
				t.Errorf("error %q", got)
			}
		}},
		{"unknown parameter", "/api/calls/" + admintest.Busy + "?format=svg", 400, func(t *testing.T, a answer) {
			if got := a.errorText(t); !strings.HasPrefix(got, "format: unknown parameter (this route takes: name, verbose)") {
				t.Errorf("error %q", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, h, "GET", tt.target)
			if a.status != tt.status {
				t.Fatalf("status %d, want %d: %s", a.status, tt.status, a.body)
			}
			tt.check(t, a)
		})
	}
}

func TestLadder(t *testing.T) {
	h := newAPI(t, nil)
	call := admintest.Calls()[1]
	names := map[string]string{"127.0.0.1:5070": "bob-phone"}
	render := func(format string, names map[string]string) string {
		l := diag.BuildLadder(call, diag.LadderOptions{Self: []string{admintest.Self}, Names: names})
		var b bytes.Buffer
		var err error
		switch format {
		case "text":
			err = l.WriteText(&b)
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
	base := "/api/calls/" + admintest.Busy + "/ladder"
	tests := []struct {
		query       string
		contentType string
		want        string
	}{
		{"", "text/plain; charset=utf-8", render("text", nil)},
		{"?format=text", "text/plain; charset=utf-8", render("text", nil)},
		{"?format=mermaid", "text/plain; charset=utf-8", render("mermaid", nil)},
		{"?format=svg", "image/svg+xml", render("svg", nil)},
		{"?format=json", "application/json", render("json", nil)},
		{"?format=text&name=127.0.0.1:5070=bob-phone", "text/plain; charset=utf-8", render("text", names)},
		{"?format=svg&name=127.0.0.1:5070%3Dbob-phone", "image/svg+xml", render("svg", names)},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			a := do(t, h, "GET", base+tt.query)
			if a.status != http.StatusOK {
				t.Fatalf("status %d: %s", a.status, a.body)
			}
			if ct := a.header.Get("Content-Type"); ct != tt.contentType {
				t.Errorf("Content-Type %q, want %q", ct, tt.contentType)
			}
			if string(a.body) != tt.want {
				t.Errorf("body differs from diag's rendering\n got %s\nwant %s", a.body, tt.want)
			}
		})
	}
	if a := do(t, h, "GET", base+"?format=svg"); !strings.Contains(a.header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("the SVG is served without a restrictive Content-Security-Policy: %v", a.header)
	}
	if a := do(t, h, "GET", base+"?name=127.0.0.1:5070=bob-phone"); !strings.Contains(string(a.body), "bob-phone") {
		t.Errorf("the name does not label the column:\n%s", a.body)
	}

	errs := []struct {
		target string
		status int
		want   string
	}{
		{base + "?format=png", 400, `format: "png" is not one of text, mermaid, svg, json`},
		{base + "?format=svg&format=json", 400, "format: given 2 times; give it once"},
		{base + "?name==pbx", 400, "name: "},
		{base + "?color=red", 400, "color: unknown parameter (this route takes: format, name, verbose)"},
		{"/api/calls/nope/ladder?format=svg", 404, `no call with Call-ID "nope" is recorded`},
	}
	for _, e := range errs {
		a := do(t, h, "GET", e.target)
		if a.status != e.status {
			t.Errorf("%s: status %d, want %d: %s", e.target, a.status, e.status, a.body)
			continue
		}
		if got := a.errorText(t); !strings.HasPrefix(got, e.want) {
			t.Errorf("%s: error %q, want it to start with %q", e.target, got, e.want)
		}
	}
}

func TestRegistrations(t *testing.T) {
	h := newAPI(t, nil)
	a := do(t, h, "GET", "/api/registrations")
	if a.status != http.StatusOK || a.header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	var got []admin.Registration
	if err := json.Unmarshal(a.body, &got); err != nil {
		t.Fatal(err)
	}
	b := admintest.Bindings()
	reg := func(b storeBinding, left int64) admin.Registration {
		return admin.Registration{AOR: b.AOR, Contact: b.Contact, Source: b.Source, Transport: b.Transport, NAT: b.NAT, Q: b.Q,
			ExpiresAt: b.Expires, SecondsLeft: left, UserAgent: b.UserAgent, CallID: b.CallID, CSeq: b.CSeq, Updated: b.Updated}
	}
	// By AOR, then the highest q first; carol's binding has expired.
	want := []admin.Registration{reg(b[2], 600), reg(b[1], 60), reg(b[0], 3600)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("registrations\n got %+v\nwant %+v", got, want)
	}
	for _, s := range []string{`"aor": "bob@localhost"`, `"nat": true`, `"seconds_left": 60`, `"user_agent": "baresip"`, `"expires_at": "2026-03-01T13:01:00Z"`} {
		if !bytes.Contains(a.body, []byte(s)) {
			t.Errorf("the answer does not contain %s:\n%s", s, a.body)
		}
	}

	a = do(t, h, "GET", "/api/registrations?user=bob")
	if err := json.Unmarshal(a.body, &got); err != nil || len(got) != 2 || got[0].AOR != "bob@localhost" {
		t.Errorf("user=bob: %v %s", err, a.body)
	}
	a = do(t, h, "GET", "/api/registrations?user=zed")
	if strings.TrimSpace(string(a.body)) != "[]" {
		t.Errorf("user=zed: %s, want []", a.body)
	}
	a = do(t, h, "GET", "/api/registrations?aor=bob")
	if a.status != 400 || !strings.HasPrefix(a.errorText(t), "aor: unknown parameter") {
		t.Errorf("aor=bob: %d %s", a.status, a.body)
	}
}

func TestAuthentication(t *testing.T) {
	withToken := newAPI(t, func(o *admin.Options) { o.Token = token })
	without := newAPI(t, nil)
	tests := []struct {
		name    string
		h       http.Handler
		target  string
		headers []string
		status  int
		want    string // part of the error, for refusals
	}{
		{"no header", withToken, "/api/calls", nil, 401, "this admin API needs a token"},
		{"wrong token", withToken, "/api/calls", []string{"Authorization", "Bearer nope"}, 401, "the token is not valid"},
		{"token prefix", withToken, "/api/calls", []string{"Authorization", "Bearer " + token[:10]}, 401, "not valid"},
		{"token with more", withToken, "/api/calls", []string{"Authorization", "Bearer " + token + "x"}, 401, "not valid"},
		{"basic auth", withToken, "/api/calls", []string{"Authorization", "Basic " + token}, 401, "needs a token"},
		{"bare token", withToken, "/api/calls", []string{"Authorization", token}, 401, "needs a token"},
		{"right token", withToken, "/api/calls", []string{"Authorization", "Bearer " + token}, 200, ""},
		{"scheme in lower case", withToken, "/api/calls", []string{"Authorization", "bearer " + token}, 200, ""},
		{"every API route", withToken, "/api/registrations", nil, 401, "needs a token"},
		{"the ladder too", withToken, "/api/calls/" + admintest.Busy + "/ladder", nil, 401, "needs a token"},
		{"unknown routes too", withToken, "/api/secrets", nil, 401, "needs a token"},
		{"health needs none", withToken, "/healthz", nil, 200, ""},
		{"with a token any Host", withToken, "/api/calls", []string{"Authorization", "Bearer " + token, "Host", "siplens.example.com:5065"}, 200, ""},
		{"no token: foreign Host", without, "/api/calls", []string{"Host", "rebind.attacker.example:5065"}, 403, `Host "rebind.attacker.example:5065" refused`},
		{"no token: LAN address", without, "/api/calls", []string{"Host", "192.168.1.10:5065"}, 403, "refused"},
		{"no token: localhost", without, "/api/calls", []string{"Host", "localhost:5065"}, 200, ""},
		{"no token: IPv6 loopback", without, "/api/calls", []string{"Host", "[::1]:5065"}, 200, ""},
		{"no token: 127.0.0.2", without, "/api/calls", []string{"Host", "127.0.0.2"}, 200, ""},
		{"no token: health from anywhere", without, "/healthz", []string{"Host", "rebind.attacker.example"}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, tt.h, "GET", tt.target, tt.headers...)
			if a.status != tt.status {
				t.Fatalf("status %d, want %d: %s", a.status, tt.status, a.body)
			}
			if tt.want != "" {
				if got := a.errorText(t); !strings.Contains(got, tt.want) {
					t.Errorf("error %q, want it to contain %q", got, tt.want)
				}
			}
			if tt.status == 401 && !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer ") {
				t.Errorf("401 without a Bearer challenge: %v", a.header)
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	h := newAPI(t, nil)
	a := do(t, h, "GET", "/healthz")
	if a.status != 200 || string(a.body) != "ok\n" || !strings.HasPrefix(a.header.Get("Content-Type"), "text/plain") {
		t.Errorf("/healthz: %d %q %v", a.status, a.body, a.header)
	}
	for _, m := range []struct{ method, target string }{
		{"POST", "/api/calls"}, {"DELETE", "/api/calls/" + admintest.Busy}, {"PUT", "/api/calls/x/ladder"}, {"POST", "/api/registrations"},
	} {
		a := do(t, h, m.method, m.target)
		if a.status != http.StatusMethodNotAllowed || a.header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s %s: %d, Allow %q", m.method, m.target, a.status, a.header.Get("Allow"))
			continue
		}
		if got := a.errorText(t); !strings.Contains(got, "only reads") {
			t.Errorf("%s %s: %q", m.method, m.target, got)
		}
	}
	a = do(t, h, "GET", "/api/nope")
	if a.status != 404 || !strings.HasPrefix(a.errorText(t), "no API route /api/nope") {
		t.Errorf("/api/nope: %d %s", a.status, a.body)
	}
	a = do(t, h, "HEAD", "/api/calls")
	if a.status != 200 || a.header.Get("Content-Type") != "application/json" {
		t.Errorf("HEAD /api/calls: %d %q %v", a.status, a.body, a.header)
	}
	a = do(t, h, "GET", "/api/calls")
	if a.header.Get("Cache-Control") != "no-store" || a.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers %v, want no-store and nosniff", a.header)
	}
}

func TestSwitchedOff(t *testing.T) {
	h := newAPI(t, func(o *admin.Options) { o.Traces, o.Locations = nil, nil })
	for _, target := range []string{"/api/calls", "/api/calls/x", "/api/calls/x/ladder", "/api/registrations"} {
		a := do(t, h, "GET", target)
		if a.status != http.StatusServiceUnavailable {
			t.Errorf("%s: %d, want 503: %s", target, a.status, a.body)
			continue
		}
		want := "call recording is off"
		if target == "/api/registrations" {
			want = "no location store"
		}
		if got := a.errorText(t); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want it to contain %q", target, got, want)
		}
	}
}

// brokenSink fails, or panics, on every read.
type brokenSink struct {
	trace.Sink
	panics bool
}

func (s brokenSink) Calls(context.Context, trace.Query) ([]trace.Summary, error) {
	if s.panics {
		panic("boom")
	}
	return nil, errors.New("disk I/O error")
}

func (s brokenSink) Call(context.Context, string) (*trace.Call, error) {
	return nil, errors.New("disk I/O error")
}

func TestStoreFailures(t *testing.T) {
	var logged bytes.Buffer
	h := newAPI(t, func(o *admin.Options) {
		o.Traces = brokenSink{}
		o.Log = newTextLogger(&logged)
	})
	for _, target := range []string{"/api/calls", "/api/calls/x", "/api/calls/x/ladder"} {
		a := do(t, h, "GET", target)
		if a.status != 500 || !strings.Contains(a.errorText(t), "disk I/O error") {
			t.Errorf("%s: %d %s", target, a.status, a.body)
		}
	}
	if !strings.Contains(logged.String(), "disk I/O error") {
		t.Errorf("store failures are not logged: %q", logged.String())
	}
	h = newAPI(t, func(o *admin.Options) { o.Traces = brokenSink{panics: true}; o.Log = newTextLogger(io.Discard) })
	a := do(t, h, "GET", "/api/calls")
	if a.status != 500 || !strings.Contains(a.errorText(t), "internal error") {
		t.Errorf("panic: %d %s", a.status, a.body)
	}
}

// Over a real connection: the Call-ID survives escaping, and the token works as a
// client sends it.
func TestOverHTTP(t *testing.T) {
	srv := httptest.NewServer(newAPI(t, func(o *admin.Options) { o.Token = token }))
	defer srv.Close()
	req, err := http.NewRequest("GET", srv.URL+"/api/calls/"+url.PathEscape(admintest.Odd)+"/ladder?format=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var l diag.Ladder
	if err := json.NewDecoder(res.Body).Decode(&l); err != nil || res.StatusCode != 200 || l.CallID != admintest.Odd {
		t.Fatalf("status %d, %v, ladder of %q", res.StatusCode, err, l.CallID)
	}

	// HEAD answers the headers alone.
	req, _ = http.NewRequest("HEAD", srv.URL+"/api/calls", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err = srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || len(body) != 0 || res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("HEAD /api/calls: %d, %d bytes, %v", res.StatusCode, len(body), res.Header)
	}
}

type storeBinding = store.Binding

func newTextLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
