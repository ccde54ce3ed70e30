package ratelimit_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/chain"
	"github.com/siplens/siplens/steps/ratelimit"
)

func req(t *testing.T, method, toTag string) *sip.Request {
	t.Helper()
	to := "<sip:bob@example.com>"
	if toTag != "" {
		to += ";tag=" + toTag
	}
	raw := method + " sip:bob@example.com SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\nFrom: <sip:a@example.com>;tag=1\nTo: " + to + "\nCall-ID: c\nCSeq: 1 " + method + "\nContent-Length: 0\n\n"
	msg, err := sip.ParseMessage([]byte(strings.ReplaceAll(raw, "\n", "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	return msg.(*sip.Request)
}

func run(t *testing.T, s *ratelimit.Step, r *sip.Request, source string) error {
	t.Helper()
	return s.Handle(context.Background(), chain.NewWriter(r, &chain.Recorder{}), &chain.Request{SIP: r, Source: source})
}

func want503(t *testing.T, err error, reason string) {
	t.Helper()
	var rej *chain.Error
	if !errors.As(err, &rej) || rej.Code != 503 {
		t.Fatalf("want 503, got %v", err)
	}
	if !strings.Contains(rej.Reason, reason) {
		t.Fatalf("reason %q lacks %q", rej.Reason, reason)
	}
	if len(rej.Headers) != 1 || rej.Headers[0].Name() != "Retry-After" || rej.Headers[0].Value() != "7" {
		t.Fatalf("headers %v, want Retry-After: 7", rej.Headers)
	}
}

func TestPerSource(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s := &ratelimit.Step{PerSource: ratelimit.NewBuckets(2, 3), RetryAfter: 7, Now: func() time.Time { return now },
		Exempt: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	for i := 0; i < 3; i++ { // the burst
		if err := run(t, s, req(t, "INVITE", ""), "192.0.2.1:5060"); err != nil {
			t.Fatalf("request %d within the burst: %v", i, err)
		}
	}
	want503(t, run(t, s, req(t, "INVITE", ""), "192.0.2.1:5060"), "over its rate")
	// Another source has its own bucket; in-dialog requests, ACK and CANCEL always pass.
	if err := run(t, s, req(t, "INVITE", ""), "192.0.2.2:5060"); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*sip.Request{req(t, "BYE", "x"), req(t, "ACK", "x"), req(t, "CANCEL", "")} {
		if err := run(t, s, r, "192.0.2.1:5060"); err != nil {
			t.Fatalf("%s was limited: %v", r.Method, err)
		}
	}
	// Exempt sources are never limited.
	for i := 0; i < 10; i++ {
		if err := run(t, s, req(t, "INVITE", ""), "10.1.1.1:5060"); err != nil {
			t.Fatal(err)
		}
	}
	// Half a second later one token (rate 2/s) is back.
	now = now.Add(500 * time.Millisecond)
	if err := run(t, s, req(t, "INVITE", ""), "192.0.2.1:5060"); err != nil {
		t.Fatalf("after refill: %v", err)
	}
	want503(t, run(t, s, req(t, "INVITE", ""), "192.0.2.1:5060"), "over its rate")
}

func TestTotalAndOverload(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	inProgress := int64(0)
	s := &ratelimit.Step{Total: ratelimit.NewBucket(1, 1), MaxInProgress: 100, InProgress: func() int64 { return inProgress },
		RetryAfter: 7, Now: func() time.Time { return now }}
	if err := run(t, s, req(t, "MESSAGE", ""), "192.0.2.1:5060"); err != nil {
		t.Fatal(err)
	}
	want503(t, run(t, s, req(t, "MESSAGE", ""), "192.0.2.2:5060"), "overall rate")
	now = now.Add(time.Second)
	inProgress = 101
	want503(t, run(t, s, req(t, "MESSAGE", ""), "192.0.2.2:5060"), "overloaded: 101 requests in progress")
}

func TestBucketsStayBounded(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	bs := ratelimit.NewBuckets(1000, 1)
	bs.MaxKeys = 10
	for i := 0; i < 1000; i++ {
		ip := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		bs.Take(ip, now)
		now = now.Add(10 * time.Millisecond) // idle buckets refill and get swept
	}
	if n := bs.Len(); n > bs.MaxKeys {
		t.Fatalf("%d sources tracked, above the bound of %d", n, bs.MaxKeys)
	}
	// A table full of busy sources refuses newcomers instead of growing.
	busy := ratelimit.NewBuckets(0.001, 1)
	busy.MaxKeys = 2
	busy.Take(netip.MustParseAddr("192.0.2.1"), now)
	busy.Take(netip.MustParseAddr("192.0.2.2"), now)
	if busy.Take(netip.MustParseAddr("192.0.2.3"), now) || busy.Len() != 2 {
		t.Fatalf("a full table of busy sources took a newcomer (len %d)", busy.Len())
	}
}
