package ratelimit_test

import (
	"testing"
	"time"

	"github.com/siplens/siplens/steps/ratelimit"
)

type countingRules map[string]int

func (c countingRules) RateLimited(rule string) { c[rule]++ }

// TestCountsRefusalsByRule: each refusal is counted once, under the limit's name as the
// config spells it (the per-source rule without its address).
func TestCountsRefusalsByRule(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	inProgress := int64(0)
	got := countingRules{}
	s := &ratelimit.Step{PerSource: ratelimit.NewBuckets(1, 1), Total: ratelimit.NewBucket(1, 2), MaxInProgress: 10,
		InProgress: func() int64 { return inProgress }, RetryAfter: 7, Now: func() time.Time { return now }, Metrics: got}
	steps := []struct {
		source     string
		inProgress int64
		refusedBy  string // "" passes
	}{
		{"192.0.2.1:5060", 0, ""},
		{"192.0.2.1:5060", 0, "per_source"}, // its bucket is empty
		{"192.0.2.2:5060", 0, ""},           // the second token of the total
		{"192.0.2.3:5060", 0, "total"},
		{"192.0.2.4:5060", 11, "max_in_progress"},
	}
	want := countingRules{}
	for i, st := range steps {
		inProgress = st.inProgress
		err := run(t, s, req(t, "INVITE", ""), st.source)
		if (err == nil) != (st.refusedBy == "") {
			t.Fatalf("request %d: %v, want refused by %q", i, err, st.refusedBy)
		}
		if st.refusedBy != "" {
			want[st.refusedBy]++
		}
	}
	if len(got) != len(want) {
		t.Fatalf("counted %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("counted %v, want %v", got, want)
		}
	}
}
