// Package ratelimit keeps one source, or everyone together, from taking more than a fair
// share: token buckets per source address and overall, and an overload guard on the
// requests in progress. Over the limit, a new out-of-dialog request gets 503 with
// Retry-After at once, before any costly work, instead of slowing everyone down. In-dialog
// requests, ACK and CANCEL always pass: they end calls that are already up. See README.md.
package ratelimit

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/chain"
	"github.com/siplens/siplens/trace"
)

// Step is the ratelimit step.
type Step struct {
	PerSource *Buckets // nil: no per-source limit
	Total     *Bucket  // nil: no overall limit
	// MaxInProgress bounds the requests being handled at once; InProgress reports them.
	MaxInProgress int64
	InProgress    func() int64
	// RetryAfter is the number of seconds suggested to the refused.
	RetryAfter int
	// Exempt sources are never limited (gateways, load generators).
	Exempt []netip.Prefix
	Now    func() time.Time
	// Metrics, when set, counts the refusals.
	Metrics Counter
}

func (s *Step) Name() string { return "ratelimit" }

func (s *Step) Handle(ctx context.Context, _ chain.ResponseWriter, r *chain.Request) error {
	m := r.SIP.Method
	if r.InDialog() || m == sip.ACK || m == sip.CANCEL {
		return nil
	}
	ap, err := netip.ParseAddrPort(r.Source)
	if err != nil {
		return nil
	}
	ip := ap.Addr().Unmap()
	for _, p := range s.Exempt {
		if p.Contains(ip) {
			return nil
		}
	}
	retry := sip.NewHeader("Retry-After", strconv.Itoa(s.RetryAfter))
	refuse := func(verdict trace.Verdict, rule, reason string) error {
		trace.Decision(ctx, trace.Event{Kind: trace.KindRateLimit, Verdict: verdict, Producer: "ratelimit", Code: 503, Rule: rule, Reason: reason, RetryAfter: s.RetryAfter})
		s.countRefusal(rule)
		return chain.Reject(503, reason, retry)
	}
	if s.MaxInProgress > 0 && s.InProgress != nil {
		if n := s.InProgress(); n > s.MaxInProgress {
			return refuse(trace.Overloaded, "max_in_progress", fmt.Sprintf("overloaded: %d requests in progress, above the bound of %d; retry after %d s", n, s.MaxInProgress, s.RetryAfter))
		}
	}
	now := s.Now()
	if s.PerSource != nil && !s.PerSource.Take(ip, now) {
		return refuse(trace.Limited, "per_source "+ip.String(), fmt.Sprintf("source %s is over its rate of %g requests/s (burst %d); retry after %d s", ip, s.PerSource.Rate, s.PerSource.Burst, s.RetryAfter))
	}
	if s.Total != nil && !s.Total.Take(now) {
		return refuse(trace.Limited, "total", fmt.Sprintf("the server is over its overall rate of %g requests/s; retry after %d s", s.Total.Rate, s.RetryAfter))
	}
	return nil
}

// Bucket is a token bucket: Rate tokens per second, at most Burst in hand.
type Bucket struct {
	Rate  float64
	Burst int

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// NewBucket returns a full bucket.
func NewBucket(rate float64, burst int) *Bucket {
	return &Bucket{Rate: rate, Burst: burst, tokens: float64(burst)}
}

// Take spends one token if there is one.
func (b *Bucket) Take(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.takeLocked(now)
}

func (b *Bucket) takeLocked(now time.Time) bool {
	if !b.last.IsZero() {
		b.tokens += now.Sub(b.last).Seconds() * b.Rate
		if b.tokens > float64(b.Burst) {
			b.tokens = float64(b.Burst)
		}
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// Buckets is one bucket per source address, in a bounded table: idle sources (whose
// bucket has refilled) are swept when it is full, so a flood of spoofed sources costs
// bounded memory.
type Buckets struct {
	Rate    float64
	Burst   int
	MaxKeys int

	mu      sync.Mutex
	buckets map[netip.Addr]*Bucket
}

// NewBuckets returns an empty per-source table.
func NewBuckets(rate float64, burst int) *Buckets {
	return &Buckets{Rate: rate, Burst: burst, MaxKeys: 100_000, buckets: map[netip.Addr]*Bucket{}}
}

// Take spends one token of ip's bucket.
func (bs *Buckets) Take(ip netip.Addr, now time.Time) bool {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b := bs.buckets[ip]
	if b == nil {
		if len(bs.buckets) >= bs.MaxKeys {
			bs.sweep(now)
		}
		if len(bs.buckets) >= bs.MaxKeys {
			// Still full of busy sources: refuse newcomers rather than grow.
			return false
		}
		b = NewBucket(bs.Rate, bs.Burst)
		bs.buckets[ip] = b
	}
	return b.takeLocked(now)
}

// Len is the number of sources tracked.
func (bs *Buckets) Len() int {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	return len(bs.buckets)
}

// sweep forgets buckets that would be full again by now.
func (bs *Buckets) sweep(now time.Time) {
	for ip, b := range bs.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*b.Rate >= float64(b.Burst) {
			delete(bs.buckets, ip)
		}
	}
}
