package analyze_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/siplens/siplens/analyze"
	"github.com/siplens/siplens/capture"
	"github.com/siplens/siplens/diag"
	"github.com/siplens/siplens/trace"
	"github.com/siplens/siplens/trace/tracetest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	alice = "10.0.0.1:5060"
	proxy = "10.0.0.5:5060"
	bob   = "10.0.0.7:5060"
)

// records is a recorded call as a capture shows it: who sent what to whom, when, and
// nothing of siplens' decisions.
func records(c *trace.Call) []capture.Record {
	var out []capture.Record
	for _, m := range c.Messages {
		out = append(out, capture.Record{Time: m.Time, Transport: m.Transport, Src: m.From(), Dst: m.To(), Raw: m.Raw, CallID: trace.CallIDOf(m.Raw)})
	}
	return out
}

func run(t *testing.T, opts analyze.Options, recs ...capture.Record) map[string]*analyze.Call {
	t.Helper()
	out := map[string]*analyze.Call{}
	opts.OnCall = func(c *analyze.Call) {
		if _, dup := out[c.ID]; dup {
			t.Errorf("call %s finished twice", c.ID)
		}
		out[c.ID] = c
	}
	an := analyze.New(opts)
	for _, r := range recs {
		an.Add(r)
	}
	an.Close()
	return out
}

func newFlow(id string) *tracetest.Flow {
	f := tracetest.New(id, t0)
	f.Self = proxy
	return f
}

// relayed: the proxy forwards alice's INVITE to bob, who answers code.
func relayed(id string, code int) *trace.Call {
	f := newFlow(id)
	req := f.Invite(alice, "alice", "bob")
	f.After(time.Millisecond).Reply(req, 100)
	out := f.Forward(req, "sip:bob@"+bob, bob)
	ring := f.After(5*time.Millisecond).Reply(out, 180)
	f.Relay(ring, req)
	var opts []tracetest.Option
	if code == 200 {
		opts = append(opts, tracetest.SDP(tracetest.Offer("10.0.0.7", 40000)))
	}
	res := f.After(time.Second).Reply(out, code, opts...)
	f.AckFailure(out, res)
	f.Relay(res, req)
	if code >= 300 {
		f.After(time.Millisecond).AckFailure(req, res)
		return f.Call()
	}
	f.After(time.Millisecond).InDialog(trace.In, alice, "ACK", alice, req, res, 1)
	bye := f.After(2*time.Second).InDialog(trace.In, alice, "BYE", alice, req, res, 2)
	f.After(time.Millisecond).Reply(bye, 200)
	return f.Call()
}

// answeredLocally: the proxy answers itself (no phone registered).
func answeredLocally(id string, code int) *trace.Call {
	f := newFlow(id)
	req := f.Invite(alice, "alice", "carol")
	res := f.After(time.Millisecond).Reply(req, code)
	f.After(time.Millisecond).AckFailure(req, res)
	return f.Call()
}

// TestDiagnosisFromTheWire: what the wire shows of a proxied call gives the diagnosis
// siplens makes of its own record of the wire, seen from the proxy.
func TestDiagnosisFromTheWire(t *testing.T) {
	tests := []struct {
		call     *trace.Call
		outcome  trace.Outcome
		producer string
		cause    string
	}{
		{relayed("answered", 200), trace.OutcomeAnswered, "branch 1 (sip:bob@10.0.0.7:5060) at 10.0.0.7:5060", "answered by bob@localhost at 10.0.0.7:5060"},
		{relayed("busy", 486), trace.OutcomeBusy, "branch 1 (sip:bob@10.0.0.7:5060) at 10.0.0.7:5060", "486 Busy Here"},
		{relayed("declined", 603), trace.OutcomeDeclined, "branch 1 (sip:bob@10.0.0.7:5060) at 10.0.0.7:5060", "603 Decline"},
		{answeredLocally("unavailable", 480), trace.OutcomeUnavailable, "pbx (10.0.0.5:5060)", "so pbx answered 480"},
		{answeredLocally("not-found", 404), trace.OutcomeNotFound, "pbx (10.0.0.5:5060)", "not a user of pbx"},
	}
	var recs []capture.Record
	for _, tt := range tests {
		recs = append(recs, records(tt.call)...)
	}
	got := run(t, analyze.Options{Names: map[string]string{"10.0.0.5": "pbx"}}, recs...)
	for _, tt := range tests {
		t.Run(tt.call.CallID, func(t *testing.T) {
			c := got[tt.call.CallID]
			if c == nil {
				t.Fatal("no such call in the analysis")
			}
			live := diag.Diagnose(tt.call)
			d := c.Diagnosis
			if d.Outcome != tt.outcome || d.Outcome != live.Outcome || d.FinalCode != live.FinalCode || d.From != live.From || d.To != live.To {
				t.Errorf("diagnosis %s %d, want %s %d as siplens' record", d.Outcome, d.FinalCode, live.Outcome, live.FinalCode)
			}
			if c.Vantage != proxy || c.VantageLabel != "pbx" {
				t.Errorf("vantage %s (%s), want the proxy %s", c.Vantage, c.VantageLabel, proxy)
			}
			if got := c.ProducerText(); got != tt.producer {
				t.Errorf("producer %q, want %q", got, tt.producer)
			}
			if !strings.Contains(d.Cause, tt.cause) || strings.Contains(d.Cause, "siplens") {
				t.Errorf("cause %q: want %q in it, and no siplens (there is none in a capture)", d.Cause, tt.cause)
			}
			for _, ch := range d.Checks {
				if strings.Contains(ch, "`siplens") {
					t.Errorf("a check suggests a siplens command: %q", ch)
				}
			}
			l := c.Ladder(map[string]string{"10.0.0.5": "pbx"}, false)
			if len(l.Participants) < 2 || l.Participants[1].Label != "pbx" || !l.Participants[1].Self {
				t.Errorf("ladder columns %+v: the proxy should be the self column, named pbx", l.Participants)
			}
		})
	}
}

// TestDirectCall: with no proxy in the capture, the callee's side is the vantage, and
// the producer is that host.
func TestDirectCall(t *testing.T) {
	f := tracetest.New("direct", t0)
	f.Self = bob
	req := f.Invite(alice, "alice", "bob")
	res := f.After(time.Millisecond).Reply(req, 486)
	f.After(time.Millisecond).AckFailure(req, res)
	got := run(t, analyze.Options{}, records(f.Call())...)["direct"]
	if got == nil || got.Vantage != bob || got.Diagnosis.FinalCode != 486 || got.Diagnosis.Producer.Kind != analyze.ByHost {
		t.Fatalf("direct call: %+v", got)
	}
	if got.ProducerText() != bob {
		t.Errorf("producer %q, want %s", got.ProducerText(), bob)
	}
}

// TestMemoryBoundedByCallsInFlight: a long stream of calls, one a second, each over in
// a few seconds: the analyzer holds the calls of the last quiet period, not the stream.
func TestMemoryBoundedByCallsInFlight(t *testing.T) {
	const calls = 3000
	done := 0
	an := analyze.New(analyze.Options{OnCall: func(*analyze.Call) { done++ }})
	most := 0
	for i := range calls {
		c := relayed(fmt.Sprintf("stream-%d", i), 200)
		shift := time.Duration(i) * time.Second
		for _, r := range records(c) {
			r.Time = r.Time.Add(shift)
			an.Add(r)
		}
		most = max(most, an.InFlight())
	}
	an.Close()
	if done != calls {
		t.Fatalf("%d calls finished, want %d", done, calls)
	}
	// 32 s of quiet after each call's end, one call a second, each ~3 s long.
	if most > 40 {
		t.Errorf("%d calls held at once; want the ~36 of the last quiet period", most)
	}
	if s := an.Summary(); s.Calls != calls || s.Outcomes[trace.OutcomeAnswered] != calls || s.Open != 0 {
		t.Errorf("summary: %d calls, %d answered, %d open", s.Calls, s.Outcomes[trace.OutcomeAnswered], s.Open)
	}
}

// TestLongCallStaysOpen: an answered call without BYE stays in flight until the idle
// time, and is reported as still going at the end.
func TestLongCallStaysOpen(t *testing.T) {
	c := relayed("long", 200)
	var recs []capture.Record
	for _, r := range records(c) {
		if !strings.HasPrefix(string(r.Raw), "BYE") && !strings.Contains(string(r.Raw), "CSeq: 2 BYE") {
			recs = append(recs, r)
		}
	}
	// Another call ten minutes later moves the clock on.
	later := records(answeredLocally("later", 480))
	for i := range later {
		later[i].Time = later[i].Time.Add(10 * time.Minute)
	}
	got := run(t, analyze.Options{}, append(recs, later...)...)
	if got["long"] == nil || !got["long"].Open || got["later"] == nil || got["later"].Open {
		t.Fatalf("long open %v, later open %v", got["long"] != nil && got["long"].Open, got["later"] != nil && got["later"].Open)
	}
}

// TestB2BUALegs: two legs of a call across a B2BUA are tied by X-CID, and by Session-ID
// (RFC 7989).
func TestB2BUALegs(t *testing.T) {
	leg := func(id string, opts ...tracetest.Option) *trace.Call {
		f := newFlow(id)
		req := f.Invite(alice, "alice", "bob", opts...)
		res := f.After(time.Millisecond).Reply(req, 486)
		f.After(time.Millisecond).AckFailure(req, res)
		return f.Call()
	}
	var recs []capture.Record
	recs = append(recs, records(leg("a-leg"))...)
	recs = append(recs, records(leg("b-leg", tracetest.Header("X-CID", "a-leg")))...)
	recs = append(recs, records(leg("c-leg", tracetest.Header("Session-ID", "ab30317f1a784dc48ff824d0d3715d86;remote=00000000000000000000000000000000")))...)
	recs = append(recs, records(leg("d-leg", tracetest.Header("Session-ID", "47755a9de7794ba387653f2099600ef2;remote=ab30317f1a784dc48ff824d0d3715d86")))...)
	recs = append(recs, records(leg("e-leg"))...)
	got := run(t, analyze.Options{}, recs...)
	for id, want := range map[string]string{"a-leg": "b-leg", "b-leg": "a-leg", "c-leg": "d-leg", "d-leg": "c-leg", "e-leg": ""} {
		if r := strings.Join(got[id].Related, ","); r != want {
			t.Errorf("%s is tied to %q, want %q", id, r, want)
		}
	}
}

// TestTraceExportKeepsDecisions: records that say which host recorded them, with
// siplens' decisions, give exactly siplens' own diagnosis.
func TestTraceExportKeepsDecisions(t *testing.T) {
	f := tracetest.New("exported", t0)
	req := f.Invite(alice, "alice", "carol")
	f.Decision(trace.Event{Kind: trace.KindLocate, Verdict: trace.NoBinding, Producer: "locate", User: "carol@localhost", Code: 480, Method: "INVITE", CSeq: 1})
	f.Decision(trace.Event{Kind: trace.KindAnswer, Producer: "locate", Code: 480, Reason: "carol@localhost exists but has no registered contact", Method: "INVITE", CSeq: 1})
	res := f.Reply(req, 480)
	f.After(time.Millisecond).AckFailure(req, res)
	c := f.Call()
	var recs []capture.Record
	for _, r := range records(c) {
		r.Local = f.Self
		recs = append(recs, r)
	}
	for i := range c.Events {
		ev := c.Events[i]
		recs = append(recs, capture.Record{Time: ev.Time, CallID: c.CallID, Event: &ev})
	}
	got := run(t, analyze.Options{}, recs...)["exported"]
	want := diag.Diagnose(c)
	if got == nil || fmt.Sprint(got.Diagnosis) != fmt.Sprint(want) {
		t.Fatalf("diagnosis\n%+v\nwant\n%+v", got.Diagnosis, want)
	}
}

// TestStatsOnly counts without building calls.
func TestStatsOnly(t *testing.T) {
	calls := 0
	an := analyze.New(analyze.Options{StatsOnly: true, OnCall: func(*analyze.Call) { calls++ }})
	for _, r := range records(relayed("s", 200)) {
		an.Add(r)
	}
	an.Close()
	s := an.Summary()
	if calls != 0 || s.Requests["INVITE"] != 2 || s.Responses[200] != 3 || s.Responses[180] != 2 {
		t.Errorf("calls %d, requests %v, responses %v", calls, s.Requests, s.Responses)
	}
}

// TestNoAudioChecks: the SDP checks of the live diagnosis apply to a capture: a callee
// that answers with a codec the caller did not offer.
func TestNoAudioChecks(t *testing.T) {
	f := newFlow("g729")
	req := f.Invite(alice, "alice", "bob") // offers PCMU, PCMA
	out := f.After(time.Millisecond).Forward(req, "sip:bob@"+bob, bob)
	ok := f.After(time.Second).Reply(out, 200, tracetest.SDP(tracetest.AudioSDP("10.0.0.7", 40000, "sendrecv", "18", "a=rtpmap:18 G729/8000")))
	f.Relay(ok, req)
	f.After(time.Millisecond).InDialog(trace.In, alice, "ACK", alice, req, ok, 1)
	f.InDialog(trace.Out, bob, "ACK", proxy, req, ok, 1)
	got := run(t, analyze.Options{}, records(f.Call())...)["g729"]
	if got == nil || got.Diagnosis.Outcome != trace.OutcomeAnswered || !strings.Contains(got.Diagnosis.Cause, "G729") {
		t.Fatalf("cause %q: want the codec mismatch (G729) told", got.Diagnosis.Cause)
	}
}
