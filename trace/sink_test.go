package trace_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/siplens/siplens/trace"
	"github.com/siplens/siplens/trace/tracetest"
)

// sinks runs a test against every Sink implementation.
func sinks(t *testing.T, test func(t *testing.T, s trace.Sink)) {
	t.Run("memory", func(t *testing.T) { test(t, trace.NewMemorySink()) })
	t.Run("sqlite", func(t *testing.T) {
		s, err := trace.OpenSQLite(filepath.Join(t.TempDir(), "traces.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		test(t, s)
	})
}

// store writes a call's record to a sink in two batches, as the writer would.
func store(t *testing.T, s trace.Sink, c *trace.Call) trace.Summary {
	t.Helper()
	half := len(c.Messages) / 2
	first := trace.Batch{Messages: c.Messages[:half], Events: c.Events}
	first.Summaries = []trace.Summary{trace.Summarize(&trace.Call{CallID: c.CallID, Messages: c.Messages[:half], Events: c.Events})}
	sum := trace.Summarize(c)
	second := trace.Batch{Messages: c.Messages[half:], Summaries: []trace.Summary{sum}}
	for _, b := range []trace.Batch{first, second} {
		if err := s.Write(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	return sum
}

func TestSinkKeepsTheRecord(t *testing.T) {
	sinks(t, func(t *testing.T, s trace.Sink) {
		ctx := context.Background()
		want := busyCall().Call()
		sum := store(t, s, want)
		got, err := s.Call(ctx, want.CallID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("stored call differs\n got %+v\nwant %+v", got, want)
		}
		list, err := s.Calls(ctx, trace.Query{CallID: want.CallID})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0] != sum {
			t.Errorf("summary\n got %+v\nwant %+v", list, sum)
		}
		if _, err := s.Call(ctx, "no-such-call"); !errors.Is(err, trace.ErrNotFound) {
			t.Errorf("unknown call: error %v, want ErrNotFound", err)
		}
	})
}

// threeCalls stores a busy call at t0, a 480 for carol at t0+1m and an answered REGISTER
// of bob at t0+2m.
func threeCalls(t *testing.T, s trace.Sink) {
	store(t, s, busyCall().Call())

	f := tracetest.New("carol-1", t0.Add(time.Minute))
	inv := f.Invite(caller, "alice", "carol")
	f.Decision(trace.Event{Kind: trace.KindAnswer, Producer: "locate", Code: 480, Reason: "carol@localhost exists but has no registered contact", Method: "INVITE", CSeq: 1})
	f.Reply(inv, 480)
	store(t, s, f.Call())

	f = tracetest.New("reg-1", t0.Add(2*time.Minute))
	reg := f.Record(trace.In, bobAt, f.NewRequest("REGISTER", "sip:localhost", bobAt, "sip:bob@localhost", "sip:bob@localhost", 1))
	f.Reply(reg, 200)
	store(t, s, f.Call())
}

func TestSinkQueries(t *testing.T) {
	sinks(t, func(t *testing.T, s trace.Sink) {
		threeCalls(t, s)
		tests := []struct {
			name string
			q    trace.Query
			want []string
		}{
			{"all, newest first", trace.Query{}, []string{"reg-1", "carol-1", "busy-1"}},
			{"code", trace.Query{Code: 480}, []string{"carol-1"}},
			{"class", trace.Query{Class: 4}, []string{"carol-1", "busy-1"}},
			{"user part", trace.Query{User: "bob"}, []string{"reg-1", "busy-1"}},
			{"full address", trace.Query{User: "carol@localhost"}, []string{"carol-1"}},
			{"wildcards are literal", trace.Query{User: "b_b"}, nil},
			{"outcome", trace.Query{Outcome: trace.OutcomeBusy}, []string{"busy-1"}},
			{"method", trace.Query{Method: "register"}, []string{"reg-1"}},
			{"since", trace.Query{Since: t0.Add(time.Minute)}, []string{"reg-1", "carol-1"}},
			{"until", trace.Query{Until: t0.Add(time.Minute)}, []string{"busy-1"}},
			{"limit", trace.Query{Limit: 1}, []string{"reg-1"}},
		}
		for _, tt := range tests {
			got, err := s.Calls(context.Background(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, sum := range got {
				ids = append(ids, sum.CallID)
				if !tt.q.Match(sum) {
					t.Errorf("%s: %s returned but Query.Match refuses it", tt.name, sum.CallID)
				}
			}
			if !reflect.DeepEqual(ids, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, ids, tt.want)
			}
		}
	})
}

func TestSinkPrune(t *testing.T) {
	sinks(t, func(t *testing.T, s trace.Sink) {
		ctx := context.Background()
		threeCalls(t, s)
		// busy-1 ended at t0+3s, the others a minute apart: 90 s of age at t0+2m+10s
		// removes only busy-1.
		n, err := s.Prune(ctx, trace.Retention{MaxAge: 90 * time.Second}, t0.Add(2*time.Minute+10*time.Second))
		if err != nil || n != 1 {
			t.Fatalf("prune by age removed %d (%v), want 1", n, err)
		}
		if _, err := s.Call(ctx, "busy-1"); !errors.Is(err, trace.ErrNotFound) {
			t.Errorf("busy-1 still there: %v", err)
		}
		n, err = s.Prune(ctx, trace.Retention{MaxCalls: 1}, t0)
		if err != nil || n != 1 {
			t.Fatalf("prune by count removed %d (%v), want 1", n, err)
		}
		list, _ := s.Calls(ctx, trace.Query{})
		if len(list) != 1 || list[0].CallID != "reg-1" {
			t.Errorf("left %+v, want reg-1 only", list)
		}
		if n, err := s.Prune(ctx, trace.Retention{}, t0); n != 0 || err != nil {
			t.Errorf("no retention removed %d (%v)", n, err)
		}
	})
}
