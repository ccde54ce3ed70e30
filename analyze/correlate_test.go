package analyze

import (
	"slices"
	"testing"
	"time"

	"github.com/siplens/siplens/trace"
)

// TestCorrelatorKeepsKeysOfLegsInFlight: a short leg that shares a Session-ID with two
// long ones finishes first; long after the linger, the long legs must still find each
// other (the key may only linger once its last leg has finished).
func TestCorrelatorKeepsKeysOfLegsInFlight(t *testing.T) {
	c := newCorrelator(time.Second)
	now := time.Unix(0, 0)
	f := facts{sessionID: "ab30317f1a784dc48ff824d0d3715d86"}
	var keys = map[string][]string{}
	for _, id := range []string{"short", "long-1", "long-2"} {
		keys[id] = c.keys(nil, id, f)
	}
	if got := c.finish("short", keys["short"], now); !slices.Equal(got, []string{"long-1", "long-2"}) {
		t.Fatalf("short leg tied to %v", got)
	}
	for i := 1; i <= 10; i++ {
		c.expire(now.Add(time.Duration(i) * time.Second))
	}
	now = now.Add(time.Minute)
	if got := c.finish("long-1", keys["long-1"], now); !slices.Equal(got, []string{"long-2", "short"}) {
		t.Errorf("long-1 tied to %v after the short leg's linger", got)
	}
	if got := c.finish("long-2", keys["long-2"], now); !slices.Equal(got, []string{"long-1", "short"}) {
		t.Errorf("long-2 tied to %v", got)
	}
	// Once the last leg has lingered, the key goes.
	c.expire(now.Add(time.Hour))
	if len(c.legs)+len(c.done)+len(c.ended) != 0 {
		t.Errorf("keys left after the last leg's linger: %v %v %v", c.legs, c.done, c.ended)
	}
}

// TestSummaryOpenCountsCallsOnly: "still going" is printed under "Calls (INVITE)", so an
// unanswered OPTIONS (or a REGISTER tied to another leg) must not count there.
func TestSummaryOpenCountsCallsOnly(t *testing.T) {
	s := newSummary()
	options := &Call{Open: true, Related: []string{"x"}}
	options.Diagnosis.Method = "OPTIONS"
	invite := &Call{Open: true, Related: []string{"y"}}
	invite.Diagnosis.Method, invite.Diagnosis.Outcome = "INVITE", trace.OutcomeAnswered
	s.call(options)
	s.call(invite)
	if s.Open != 1 || s.Correlated != 1 || s.Calls != 1 || s.Other["OPTIONS"] != 1 {
		t.Errorf("open %d, correlated %d, calls %d, other %v; want 1, 1, 1, OPTIONS:1", s.Open, s.Correlated, s.Calls, s.Other)
	}
}
