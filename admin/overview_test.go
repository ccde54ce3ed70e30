package admin_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/siplens/siplens/admin"
	"github.com/siplens/siplens/admin/admintest"
	"github.com/siplens/siplens/trace"
)

func decode[T any](t *testing.T, a answer) T {
	t.Helper()
	var v T
	if a.status != 200 {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	if err := json.Unmarshal(a.body, &v); err != nil {
		t.Fatalf("decode %s: %v", a.body, err)
	}
	return v
}

// The fixtures hold five INVITE calls in the hour before Now: one answered, two 486,
// one 480, one 404.
func TestOverview(t *testing.T) {
	h := newAPI(t, nil)
	o := decode[admin.Overview](t, do(t, h, "GET", "/api/overview"))
	if o.Calls != 5 || o.Seizures != 5 || o.Answered != 1 || o.Effective != 4 || o.InProgress != 0 {
		t.Errorf("calls %d, seizures %d, answered %d, effective %d, in progress %d; want 5, 5, 1, 4, 0",
			o.Calls, o.Seizures, o.Answered, o.Effective, o.InProgress)
	}
	if o.ASR == nil || *o.ASR != 0.2 || o.NER == nil || *o.NER != 0.8 {
		t.Errorf("ASR %v, NER %v; want 0.2 and 0.8", deref(o.ASR), deref(o.NER))
	}
	wantOutcomes := map[trace.Outcome]int{"answered": 1, "busy": 2, "unavailable": 1, "not-found": 1}
	if !reflect.DeepEqual(o.Outcomes, wantOutcomes) {
		t.Errorf("outcomes %v, want %v", o.Outcomes, wantOutcomes)
	}
	if !reflect.DeepEqual(o.ResponseClasses, map[string]int{"2xx": 1, "4xx": 4}) {
		t.Errorf("response classes %v", o.ResponseClasses)
	}
	wantCodes := []admin.CodeCount{{486, "Busy Here", 2}, {200, "OK", 1}, {404, "Not Found", 1}, {480, "Temporarily Unavailable", 1}}
	if !reflect.DeepEqual(o.Codes, wantCodes) {
		t.Errorf("codes %v, want %v", o.Codes, wantCodes)
	}
	// One-minute bars from T0 to Now; the calls fall a minute apart.
	if o.Bucket != 60 || o.Window != 3600 || len(o.PerBucket) != 61 || !o.PerBucket[0].Start.Equal(admintest.T0) {
		t.Fatalf("bucket %d s, window %d s, %d bars from %v", o.Bucket, o.Window, len(o.PerBucket), o.PerBucket[0].Start)
	}
	for i, want := range []trace.Outcome{"answered", "busy", "unavailable", "not-found", "busy"} {
		if got := o.PerBucket[i].Outcomes; !reflect.DeepEqual(got, map[trace.Outcome]int{want: 1}) {
			t.Errorf("bar %d: %v, want one %s", i, got, want)
		}
	}
	// Post-dial delay: the three calls that rang, 40 ms from INVITE to the relayed 180.
	if o.PDD.Samples != 3 || o.PDD.Median == nil || *o.PDD.Median < 40 || *o.PDD.Median > 41 || *o.PDD.Max < *o.PDD.Median {
		t.Errorf("PDD %+v (median %v), want 3 samples of about 40 ms", o.PDD, deref(o.PDD.Median))
	}
	// The answered call has its BYE: nothing is up.
	if o.Active.Calls != 0 || o.Active.Source != "records" || o.Active.Transactions != nil {
		t.Errorf("active %+v, want 0 calls from the records and no transaction count", o.Active)
	}

	// The server's own counters win.
	h = newAPI(t, func(o *admin.Options) {
		o.Counters = func() admin.Counters { return admin.Counters{Calls: 3, Transactions: 7} }
	})
	o = decode[admin.Overview](t, do(t, h, "GET", "/api/overview?window=15m"))
	if o.Active.Calls != 3 || o.Active.Transactions == nil || *o.Active.Transactions != 7 || o.Active.Source != "server" {
		t.Errorf("active %+v, want the server's 3 calls and 7 transactions", o.Active)
	}
	// The last 15 minutes before Now hold no call.
	if o.Calls != 0 || o.ASR != nil || o.NER != nil || o.PDD.Samples != 0 || o.PDD.Median != nil {
		t.Errorf("an empty window: %+v", o)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestOverviewParameters(t *testing.T) {
	h := newAPI(t, nil)
	for target, want := range map[string]string{
		"/api/overview?window=30s":     "window: \"30s\" is not a duration from 1m",
		"/api/overview?window=48h":     "not a duration from 1m to 24h0m0s",
		"/api/overview?window=forever": "window",
		"/api/overview?since=1h":       "since: unknown parameter",
	} {
		a := do(t, h, "GET", target)
		if a.status != 400 || !strings.Contains(a.errorText(t), want) {
			t.Errorf("%s: %d %s, want 400 with %q", target, a.status, a.body, want)
		}
	}
	a := do(t, newAPI(t, func(o *admin.Options) { o.Traces = nil }), "GET", "/api/overview")
	if a.status != http.StatusServiceUnavailable {
		t.Errorf("without recording: %d %s", a.status, a.body)
	}
	// A day's window has coarser bars: 12 minutes each.
	o := decode[admin.Overview](t, do(t, h, "GET", "/api/overview?window=24h"))
	if o.Bucket != 720 || o.Calls != 5 {
		t.Errorf("24h: bucket %d s, %d calls", o.Bucket, o.Calls)
	}
}

func TestCodes(t *testing.T) {
	h := newAPI(t, func(o *admin.Options) { o.Token = token })
	auth := []string{"Authorization", "Bearer " + token}
	codesOf := func(list []admin.CodeInfo) []int {
		out := []int{}
		for _, c := range list {
			out = append(out, c.Code)
		}
		return out
	}
	all := decode[[]admin.CodeInfo](t, do(t, h, "GET", "/api/codes", auth...))
	if len(all) < 70 || all[0].Code != 100 || all[0].ClassName != "Provisional" || !all[0].Known {
		t.Fatalf("%d codes, first %+v", len(all), all[0])
	}
	tests := []struct {
		q     string
		first int
		check func([]admin.CodeInfo) bool
	}{
		{"480", 480, func(l []admin.CodeInfo) bool {
			return l[0].Reason == "Temporarily Unavailable" && l[0].Meaning != "" && len(l[0].Checks) > 0
		}},
		{"4xx", 400, func(l []admin.CodeInfo) bool {
			for _, c := range l {
				if c.Class != 4 {
					return false
				}
			}
			return len(l) > 30
		}},
		{"busy", 0, func(l []admin.CodeInfo) bool {
			return slices.Contains(codesOf(l), 486) && slices.Contains(codesOf(l), 600)
		}},
		// An unregistered code still answers, with how RFC 3261 says to treat it.
		{"499", 499, func(l []admin.CodeInfo) bool { return !l[0].Known && l[0].Meaning != "" }},
		{"no such words anywhere", 0, func(l []admin.CodeInfo) bool { return len(l) == 0 }},
	}
	for _, tt := range tests {
		list := decode[[]admin.CodeInfo](t, do(t, h, "GET", "/api/codes?q="+url.QueryEscape(tt.q), auth...))
		if (tt.first != 0 && (len(list) == 0 || list[0].Code != tt.first)) || !tt.check(list) {
			t.Errorf("q=%q: %v", tt.q, codesOf(list))
		}
	}
	if a := do(t, h, "GET", "/api/codes?code=480", auth...); a.status != 400 {
		t.Errorf("unknown parameter: %d", a.status)
	}
	if a := do(t, h, "GET", "/api/codes"); a.status != 401 {
		t.Errorf("without the token: %d, want 401", a.status)
	}
}

func TestSearchCalls(t *testing.T) {
	h := newAPI(t, nil)
	tests := []struct {
		query string
		want  []string
	}{
		{"q=" + url.QueryEscape(admintest.Busy), []string{admintest.Busy}},
		{"q=" + url.QueryEscape(admintest.Odd), []string{admintest.Odd}},
		{"q=carol", []string{admintest.Offline}},
		{"q=dave%40localhost", []string{admintest.Unknown}},
		// Caller or callee, newest first, within the other filters and the limit.
		{"q=bob", []string{admintest.Odd, admintest.Unknown, admintest.Busy, admintest.Answered}},
		{"q=bob&limit=2", []string{admintest.Odd, admintest.Unknown}},
		{"q=bob&code=486", []string{admintest.Odd, admintest.Busy}},
		// Paging back in time: until is the start of the last call shown.
		{"q=bob&until=" + url.QueryEscape(admintest.T0.Add(3*time.Minute).Format(time.RFC3339Nano)), []string{admintest.Busy, admintest.Answered}},
		// A user filter already says whose calls: the search then only finds Call-IDs.
		{"q=bob&user=alice", []string{}},
		{"q=" + url.QueryEscape(admintest.Busy) + "&user=alice", []string{admintest.Busy}},
		{"q=nobody-at-all", []string{}},
		{"q=", []string{admintest.Odd, admintest.Unknown, admintest.Offline, admintest.Busy, admintest.Answered}},
	}
	for _, tt := range tests {
		got := callIDs(decode[[]trace.Summary](t, do(t, h, "GET", "/api/calls?"+tt.query)))
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.query, got, tt.want)
		}
	}
	if a := do(t, h, "GET", "/api/calls?q=a&q=b"); a.status != 400 || !strings.Contains(a.errorText(t), "q: given 2 times") {
		t.Errorf("q twice: %d %s", a.status, a.body)
	}
}

func TestMetrics(t *testing.T) {
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write([]byte("siplens_up 1\n"))
	})
	withToken := newAPI(t, func(o *admin.Options) { o.Token, o.Metrics = token, metrics })
	without := newAPI(t, func(o *admin.Options) { o.Metrics = metrics })
	none := newAPI(t, nil)
	tests := []struct {
		name    string
		h       http.Handler
		method  string
		headers []string
		status  int
		body    string
	}{
		{"token", withToken, "GET", []string{"Authorization", "Bearer " + token}, 200, "siplens_up 1"},
		{"no token", withToken, "GET", nil, 401, "needs a token"},
		{"wrong token", withToken, "GET", []string{"Authorization", "Bearer x"}, 401, "not valid"},
		{"loopback without token", without, "GET", nil, 200, "siplens_up 1"},
		{"foreign Host without token", without, "GET", []string{"Host", "rebind.example"}, 403, "refused"},
		{"HEAD", without, "HEAD", nil, 200, ""},
		{"POST", without, "POST", nil, 405, "only reads"},
		{"not configured", none, "GET", nil, 404, "exports no metrics"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, tt.h, tt.method, "/metrics", tt.headers...)
			if a.status != tt.status || !strings.Contains(string(a.body), tt.body) {
				t.Errorf("%d %q, want %d with %q", a.status, a.body, tt.status, tt.body)
			}
		})
	}
}

// TestWebPage: the page's files are served at / to anyone (they hold no data), while
// its API requests still need the token.
func TestWebPage(t *testing.T) {
	h := newAPI(t, func(o *admin.Options) { o.Token = token })
	for _, path := range []string{"/", "/app.js", "/style.css"} {
		a := do(t, h, "GET", path, "Host", "siplens.example.com:8080")
		if a.status != 200 || a.header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: %d %v", path, a.status, a.header)
		}
	}
	if a := do(t, h, "GET", "/"); !strings.Contains(string(a.body), "<title>siplens</title>") {
		t.Errorf("/ is not the page: %.200s", a.body)
	}
	if a := do(t, h, "GET", "/secrets"); a.status != 404 {
		t.Errorf("/secrets: %d", a.status)
	}
	for _, path := range []string{"/api/overview", "/api/codes", "/api/calls/x/pcap", "/metrics"} {
		if a := do(t, h, "GET", path); a.status != 401 {
			t.Errorf("%s without the token: %d, want 401", path, a.status)
		}
	}
}

func TestPCAP(t *testing.T) {
	h := newAPI(t, nil)
	a := do(t, h, "GET", "/api/calls/"+url.PathEscape(admintest.Odd)+"/pcap")
	if a.status != 200 || a.header.Get("Content-Type") != "application/vnd.tcpdump.pcap" {
		t.Fatalf("%d %v", a.status, a.header)
	}
	// The classic pcap magic number, little-endian, then one packet per message.
	if len(a.body) < 24 || string(a.body[:4]) != "\xd4\xc3\xb2\xa1" {
		t.Fatalf("not a pcap file: %.40q", a.body)
	}
	if !strings.Contains(string(a.body), "SIP/2.0 486 Busy Here") {
		t.Errorf("the pcap does not carry the 486")
	}
	if cd := a.header.Get("Content-Disposition"); cd != `attachment; filename="call-odd_id_x_1_2F.._host.pcap"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if a := do(t, h, "GET", "/api/calls/nope/pcap"); a.status != 404 {
		t.Errorf("unknown call: %d", a.status)
	}
	if a := do(t, h, "GET", "/api/calls/x/pcap?format=pcapng"); a.status != 400 {
		t.Errorf("unknown parameter: %d", a.status)
	}
}
