package trace_test

import (
	"testing"
	"time"

	"github.com/siplens/siplens/trace"
	"github.com/siplens/siplens/trace/tracetest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	caller = "127.0.0.1:5080"
	bobAt  = "127.0.0.1:5070"
)

// busyCall: alice calls bob, bob's phone rings and answers 486.
func busyCall() *tracetest.Flow {
	f := tracetest.New("busy-1", t0)
	inv := f.Invite(caller, "alice", "bob")
	f.After(time.Millisecond).Reply(inv, 100)
	f.Decision(trace.Event{Kind: trace.KindLocate, Verdict: trace.Found, Producer: "locate", Count: 1, User: "bob@localhost", Method: "INVITE", CSeq: 1})
	br := f.Forward(inv, "sip:bob@"+bobAt, bobAt)
	ring := f.After(2*time.Millisecond).Reply(br, 180)
	f.Relay(ring, inv)
	busy := f.After(3*time.Second).Reply(br, 486)
	f.AckFailure(br, busy)
	f.Relay(busy, inv)
	f.Decision(trace.Event{Kind: trace.KindAnswer, Producer: "branch 1 (sip:bob@" + bobAt + ")", Code: 486, Method: "INVITE", CSeq: 1})
	f.After(time.Millisecond).AckFailure(inv, busy)
	return f
}

func TestSummarizeBusyCall(t *testing.T) {
	s := trace.Summarize(busyCall().Call())
	want := trace.Summary{
		CallID: "busy-1", First: t0, Last: t0.Add(3*time.Second + 4*time.Millisecond), Duration: 3*time.Second + 4*time.Millisecond,
		Method: "INVITE", From: "alice@localhost", To: "bob@localhost", Code: 486, Outcome: trace.OutcomeBusy,
		Producer: "branch 1 (sip:bob@127.0.0.1:5070)", Messages: 9, Events: 2,
	}
	if s != want {
		t.Errorf("summary\n got %+v\nwant %+v", s, want)
	}
}

func TestSummarizeCountsTheLastAttempt(t *testing.T) {
	// A 407 challenge answered with credentials and then a 200 is an answered call; a
	// re-INVITE later in the dialog does not change the initial answer.
	f := tracetest.New("auth-1", t0)
	inv := f.Invite(caller, "alice", "bob")
	challenge := f.Reply(inv, 407)
	f.Decision(trace.Event{Kind: trace.KindAnswer, Producer: "auth", Code: 407, Reason: "no credentials yet", Method: "INVITE", CSeq: 1})
	f.AckFailure(inv, challenge)
	retry := f.After(time.Second).Retry(inv, tracetest.Header("Proxy-Authorization", `Digest username="alice"`))
	ok := f.After(time.Second).Reply(retry, 200)
	f.InDialog(trace.In, caller, "ACK", caller, retry, ok, 2)
	reinvite := f.InDialog(trace.In, caller, "INVITE", caller, retry, ok, 3)
	f.Reply(reinvite, 488)

	s := trace.Summarize(f.Call())
	if s.Code != 200 || s.Outcome != trace.OutcomeAnswered || s.Producer != "" {
		t.Errorf("got code %d outcome %s producer %q, want 200 answered with no producer", s.Code, s.Outcome, s.Producer)
	}
}

func TestSummarizeTwoHundredAfterCancel(t *testing.T) {
	// RFC 3261 16.7 step 10: a 2xx that crossed the caller's CANCEL is relayed after the
	// 487; the call was answered.
	f := tracetest.New("cross-1", t0)
	inv := f.Invite(caller, "alice", "bob")
	f.Cancel(inv)
	f.Reply(inv, 487)
	f.Reply(inv, 200)
	if s := trace.Summarize(f.Call()); s.Code != 200 || s.Outcome != trace.OutcomeAnswered {
		t.Errorf("got %d %s", s.Code, s.Outcome)
	}
}

func TestSummarizeRateLimitIsPolicy(t *testing.T) {
	f := tracetest.New("rl-1", t0)
	inv := f.Invite(caller, "alice", "bob")
	f.Decision(trace.Event{Kind: trace.KindRateLimit, Verdict: trace.Limited, Producer: "ratelimit", Rule: "source 127.0.0.1", RetryAfter: 5, Method: "INVITE", CSeq: 1})
	f.Decision(trace.Event{Kind: trace.KindAnswer, Producer: "ratelimit", Code: 503, Reason: "too many requests from 127.0.0.1", Method: "INVITE", CSeq: 1})
	f.Reply(inv, 503, tracetest.Header("Retry-After", "5"))
	s := trace.Summarize(f.Call())
	if s.Code != 503 || s.Outcome != trace.OutcomeRejected || s.Reason != "too many requests from 127.0.0.1" {
		t.Errorf("got %+v", s)
	}
}

func TestSummarizeUnanswered(t *testing.T) {
	f := tracetest.New("lost-1", t0)
	f.Invite(caller, "alice", "bob")
	if s := trace.Summarize(f.Call()); s.Code != 0 || s.Outcome != trace.OutcomeUnanswered || s.Method != "INVITE" {
		t.Errorf("got %+v", s)
	}
}

func TestClassifyOutcome(t *testing.T) {
	tests := []struct {
		code     int
		producer string
		want     trace.Outcome
	}{
		{0, "", trace.OutcomeUnanswered}, {180, "", trace.OutcomeUnanswered}, {200, "", trace.OutcomeAnswered},
		{302, "locate", trace.OutcomeRedirected}, {486, "", trace.OutcomeBusy}, {600, "", trace.OutcomeBusy},
		{480, "locate", trace.OutcomeUnavailable}, {603, "", trace.OutcomeDeclined}, {404, "locate", trace.OutcomeNotFound},
		{407, "auth", trace.OutcomeUnauthorized}, {403, "acl", trace.OutcomeRejected}, {408, "", trace.OutcomeTimedOut},
		{487, "", trace.OutcomeCancelled}, {503, "ratelimit", trace.OutcomeRejected}, {503, "branch 1", trace.OutcomeFailed},
		{500, "", trace.OutcomeFailed}, {400, "sanity", trace.OutcomeFailed}, {482, "sanity", trace.OutcomeFailed},
	}
	for _, tt := range tests {
		if got := trace.ClassifyOutcome(tt.code, tt.producer); got != tt.want {
			t.Errorf("ClassifyOutcome(%d, %q) = %s, want %s", tt.code, tt.producer, got, tt.want)
		}
	}
	for _, o := range trace.Outcomes {
		if o.Text() == "" {
			t.Errorf("%s has no text", o)
		}
	}
}
