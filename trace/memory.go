package trace

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"
)

// MemorySink keeps calls in memory: for tests, and for running without a data directory.
// Its contents are gone when the process ends.
type MemorySink struct {
	mu    sync.Mutex
	calls map[string]*memoryCall
}

type memoryCall struct {
	call    Call
	summary Summary
}

// NewMemorySink returns an empty sink.
func NewMemorySink() *MemorySink {
	return &MemorySink{calls: map[string]*memoryCall{}}
}

func (s *MemorySink) get(callID string) *memoryCall {
	c, ok := s.calls[callID]
	if !ok {
		c = &memoryCall{call: Call{CallID: callID}, summary: Summary{CallID: callID}}
		s.calls[callID] = c
	}
	return c
}

// Write implements Sink.
func (s *MemorySink) Write(_ context.Context, b Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range b.Messages {
		c := s.get(m.CallID)
		c.call.Messages = append(c.call.Messages, m)
	}
	for _, ev := range b.Events {
		c := s.get(ev.CallID)
		c.call.Events = append(c.call.Events, ev)
	}
	for _, sum := range b.Summaries {
		s.get(sum.CallID).summary = sum
	}
	return nil
}

// Call implements Sink.
func (s *MemorySink) Call(_ context.Context, callID string) (*Call, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.calls[callID]
	if !ok {
		return nil, ErrNotFound
	}
	out := c.call.Clone()
	out.Sort()
	return out, nil
}

// Calls implements Sink.
func (s *MemorySink) Calls(_ context.Context, q Query) ([]Summary, error) {
	s.mu.Lock()
	var out []Summary
	for _, c := range s.calls {
		if q.Match(c.summary) {
			out = append(out, c.summary)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b Summary) int {
		return cmp.Or(b.First.Compare(a.First), cmp.Compare(a.CallID, b.CallID))
	})
	if len(out) > q.limit() {
		out = out[:q.limit()]
	}
	return out, nil
}

// Prune implements Sink.
func (s *MemorySink) Prune(_ context.Context, r Retention, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	removed := 0
	if r.MaxAge > 0 {
		cutoff := now.Add(-r.MaxAge)
		for id, c := range s.calls {
			if c.summary.Last.Before(cutoff) {
				delete(s.calls, id)
				removed++
			}
		}
	}
	if r.MaxCalls > 0 && len(s.calls) > r.MaxCalls {
		all := make([]*memoryCall, 0, len(s.calls))
		for _, c := range s.calls {
			all = append(all, c)
		}
		slices.SortFunc(all, func(a, b *memoryCall) int {
			return cmp.Or(a.summary.Last.Compare(b.summary.Last), cmp.Compare(a.summary.CallID, b.summary.CallID))
		})
		for _, c := range all[:len(all)-r.MaxCalls] {
			delete(s.calls, c.summary.CallID)
			removed++
		}
	}
	return removed, nil
}
