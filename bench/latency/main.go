// Command latency reads a siplens trace database after a load run and prints how long
// siplens held each INVITE: from the moment its wire tap saw the caller's INVITE arrive to
// the moment it wrote the INVITE to the callee (the first branch). bench/run uses it for
// the "INVITE in to INVITE out" percentiles. The times are the tap's, taken in the
// process right after the read and right before the write, so they leave out the time a
// datagram waits in the kernel's socket buffers.
//
//	go run ./bench/latency -db DATA_DIR/traces.db [-since 2026-11-22T04:00:00Z] [-until ...]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/siplens/siplens/trace"
)

func main() {
	db := flag.String("db", "", "siplens trace database (traces.db in the data directory)")
	since := flag.String("since", "", "only calls that began at or after this time (RFC 3339)")
	until := flag.String("until", "", "only calls that began before this time (RFC 3339)")
	limit := flag.Int("limit", 200000, "at most this many calls")
	flag.Parse()
	if err := run(*db, *since, *until, *limit); err != nil {
		fmt.Fprintln(os.Stderr, "latency:", err)
		os.Exit(1)
	}
}

func run(path, since, until string, limit int) error {
	if path == "" {
		return fmt.Errorf("-db is required")
	}
	q := trace.Query{Method: "INVITE", Limit: limit}
	var err error
	if since != "" {
		if q.Since, err = time.Parse(time.RFC3339Nano, since); err != nil {
			return fmt.Errorf("-since: %w", err)
		}
	}
	if until != "" {
		if q.Until, err = time.Parse(time.RFC3339Nano, until); err != nil {
			return fmt.Errorf("-until: %w", err)
		}
	}
	sink, err := trace.OpenSQLite(path)
	if err != nil {
		return err
	}
	defer sink.Close()
	ctx := context.Background()
	calls, err := sink.Calls(ctx, q)
	if err != nil {
		return err
	}
	var held []time.Duration
	for _, sum := range calls {
		c, err := sink.Call(ctx, sum.CallID)
		if err != nil {
			return err
		}
		if d, ok := inviteHeld(c); ok {
			held = append(held, d)
		}
	}
	if len(held) == 0 {
		return fmt.Errorf("no call with an INVITE in and out among %d calls", len(calls))
	}
	slices.Sort(held)
	pct := func(p float64) string {
		i := int(p * float64(len(held)-1))
		return fmt.Sprintf("%.3f", float64(held[i].Microseconds())/1000)
	}
	fmt.Printf("calls=%d p50_ms=%s p90_ms=%s p99_ms=%s max_ms=%s\n", len(held), pct(0.50), pct(0.90), pct(0.99), pct(1))
	return nil
}

// inviteHeld is the time from the first INVITE received to the first INVITE sent.
func inviteHeld(c *trace.Call) (time.Duration, bool) {
	c.Sort()
	var in time.Time
	for i := range c.Messages {
		m := &c.Messages[i]
		p, err := m.Parse()
		if err != nil || !p.Request || p.Method != "INVITE" {
			continue
		}
		switch {
		case m.Direction == trace.In && in.IsZero():
			in = m.Time
		case m.Direction == trace.Out && !in.IsZero():
			return m.Time.Sub(in), true
		}
	}
	return 0, false
}
