// Package analyze explains calls read from a capture or a log, offline: it groups the
// SIP messages by Call-ID as they stream by, decides when each call is over (in capture
// time), then builds the same trace.Call the live server records, seen from one host of
// the capture, and hands it to diag for the same diagnosis and ladder. Memory holds the
// calls in flight, not the file.
package analyze

import (
	"container/heap"
	"hash/maphash"
	"time"

	"github.com/siplens/siplens/capture"
	"github.com/siplens/siplens/diag"
	"github.com/siplens/siplens/trace"
)

// Defaults for Options.
const (
	// DefaultQuiet is how long a call stays open after its last transaction ended: the
	// 64*T1 = 32 s in which a final answer or an ACK may still be retransmitted (RFC 3261
	// 17.1.1.2 Timer D, 17.2.1 Timer H).
	DefaultQuiet = 32 * time.Second
	// DefaultIdle finishes a call that is still going (answered, no BYE yet) when nothing
	// has been seen of it for this long.
	DefaultIdle = time.Hour
)

// Options tune an Analyzer.
type Options struct {
	Quiet time.Duration
	Idle  time.Duration
	// CallID, when set, keeps only that call (and its related legs are not looked for).
	CallID string
	// Names label hosts, as diag.ParseNames reads them.
	Names map[string]string
	// StatsOnly counts requests and responses and builds no calls at all.
	StatsOnly bool
	// OnCall receives each call once it is over, diagnosed. It may keep it.
	OnCall func(*Call)
}

// Call is one call read from the input, explained.
type Call struct {
	ID string
	// Trace is the call as diag reads it, from Vantage's point of view.
	Trace *trace.Call
	// Vantage is the host whose view the record takes ("ip:port"), VantageLabel its
	// name on the ladder.
	Vantage      string
	VantageLabel string
	Start, End   time.Time
	Diagnosis    diag.Diagnosis
	// Retransmissions counts messages that repeat an earlier one byte for byte.
	Retransmissions int
	// Related are the Call-IDs of the other legs of the same call across a B2BUA (by
	// X-CID or Session-ID), as far as the input shows them.
	Related []string
	// Open says the call was finished while still going: the input ended, or nothing
	// was seen of it for Options.Idle.
	Open bool
}

// Analyzer reads records and finishes calls. Use it from one goroutine.
type Analyzer struct {
	opts    Options
	stats   *Summary
	calls   map[string]*flight
	queue   deadlines
	clock   time.Time
	seed    maphash.Seed
	related *correlator
}

// hepEcho: two HEP copies of one message closer than this are one message mirrored twice.
const hepEcho = 10 * time.Millisecond

// copyOf is what is remembered of a message to tell its copies apart.
type copyOf struct {
	hep bool // it came inside HEP3
	at  time.Time
}

// flight is a call still being read.
type flight struct {
	id          string
	msgs        []trace.Message
	events      []trace.Event
	local       string            // the recording host, when the source says
	seen        map[uint64]copyOf // message hashes: the first copy of each
	retrans     int
	initial     string // the initial request's method
	established bool   // an INVITE got a 2xx and no BYE ended it yet
	ended       bool   // nothing outstanding: the call ends unless more comes
	last        time.Time
	deadline    time.Time
	index       int // in the deadline heap
	keys        []string
}

// New makes an Analyzer.
func New(opts Options) *Analyzer {
	if opts.Quiet <= 0 {
		opts.Quiet = DefaultQuiet
	}
	if opts.Idle <= 0 {
		opts.Idle = DefaultIdle
	}
	return &Analyzer{opts: opts, stats: newSummary(), calls: map[string]*flight{}, seed: maphash.MakeSeed(),
		related: newCorrelator(2 * opts.Quiet)}
}

// Add reads one record.
func (a *Analyzer) Add(r capture.Record) {
	if r.Event != nil {
		if !a.opts.StatsOnly {
			a.addEvent(r)
		}
		return
	}
	f := readFacts(r.Raw)
	a.stats.count(r, f)
	if a.opts.StatsOnly {
		return
	}
	if r.Time.After(a.clock) {
		a.clock = r.Time
		a.expire()
	}
	if r.CallID == "" {
		a.stats.Problems.Add("SIP message without Call-ID")
		return
	}
	if a.opts.CallID != "" && r.CallID != a.opts.CallID {
		return
	}
	c := a.calls[r.CallID]
	if c == nil {
		c = &flight{id: r.CallID, seen: map[uint64]copyOf{}}
		a.calls[r.CallID] = c
		heap.Push(&a.queue, c)
	}
	// The same message twice is a retransmission, unless one copy is the packet and the
	// other its HEP mirror (a capture of a proxy that also sends HEP), or both are HEP
	// copies within a few milliseconds: Kamailio 5.6's siptrace mirrors an ACK it absorbs
	// twice, 50 µs apart, while a retransmission comes T1 = 500 ms after (RFC 3261 17).
	h := maphash.String(a.seed, r.Src+"|"+r.Dst)
	h ^= maphash.Bytes(a.seed, r.Raw)
	hep := r.Origin == "HEP"
	if first, dup := c.seen[h]; dup {
		if first.hep != hep || hep && r.Time.Sub(first.at).Abs() < hepEcho {
			return
		}
		c.retrans++
	} else {
		c.seen[h] = copyOf{hep: hep, at: r.Time}
	}
	if c.local == "" {
		c.local = r.Local
	}
	// Add stores every message as received by its destination; build turns them to the
	// vantage's view. A trace export says the recording host: that view is taken as is.
	dir, local, remote := trace.In, r.Dst, r.Src
	if r.Local != "" && r.Local == r.Src {
		dir, local, remote = trace.Out, r.Src, r.Dst
	}
	c.msgs = append(c.msgs, trace.Message{CallID: r.CallID, Seq: uint64(len(c.msgs) + 1), Time: r.Time,
		Direction: dir, Transport: r.Transport, Local: local, Remote: remote, Raw: r.Raw})
	c.progress(f)
	if f.sessionID != "" || f.xcid != "" {
		c.keys = a.related.keys(c.keys, r.CallID, f)
	}
	if r.Time.After(c.last) {
		c.last = r.Time
	}
	a.schedule(c)
}

func (a *Analyzer) addEvent(r capture.Record) {
	if r.CallID == "" || a.opts.CallID != "" && r.CallID != a.opts.CallID {
		return
	}
	c := a.calls[r.CallID]
	if c == nil {
		c = &flight{id: r.CallID, seen: map[uint64]copyOf{}, last: r.Time}
		a.calls[r.CallID] = c
		heap.Push(&a.queue, c)
	}
	c.events = append(c.events, *r.Event)
	a.schedule(c)
}

// progress follows the call's transactions to know when nothing is outstanding.
func (c *flight) progress(f facts) {
	if !f.ok {
		return
	}
	if c.initial == "" && f.request && f.method != "ACK" {
		c.initial = f.method
	}
	switch {
	case f.request:
		if f.method != "ACK" {
			c.ended = false
		}
	case f.code >= 200:
		switch f.cseqMethod {
		case "BYE":
			c.established, c.ended = false, true
		case "INVITE":
			if f.code < 300 {
				c.established, c.ended = true, false
			} else {
				c.ended = !c.established
			}
		case "CANCEL":
		default:
			if f.cseqMethod == c.initial {
				c.ended = true
			}
		}
	}
}

func (a *Analyzer) schedule(c *flight) {
	wait := a.opts.Idle
	if c.ended {
		wait = a.opts.Quiet
	}
	c.deadline = c.last.Add(wait)
	heap.Fix(&a.queue, c.index)
}

// expire finishes the calls whose time is up.
func (a *Analyzer) expire() {
	for len(a.queue) > 0 && a.queue[0].deadline.Before(a.clock) {
		c := heap.Pop(&a.queue).(*flight)
		a.finish(c, !c.ended)
	}
	a.related.expire(a.clock)
}

// Close finishes every call still open; call it at the end of the input.
func (a *Analyzer) Close() {
	for len(a.queue) > 0 {
		c := heap.Pop(&a.queue).(*flight)
		a.finish(c, !c.ended)
	}
}

// InFlight is the number of calls being read.
func (a *Analyzer) InFlight() int { return len(a.calls) }

func (a *Analyzer) finish(f *flight, open bool) {
	delete(a.calls, f.id)
	if len(f.msgs) == 0 {
		return
	}
	call := build(f, a.opts.Names)
	call.Open = open
	call.Retransmissions = f.retrans
	call.Related = a.related.finish(f.id, f.keys, a.clock)
	a.stats.call(call)
	if a.opts.OnCall != nil {
		a.opts.OnCall(call)
	}
}

// Summary is what was read so far; complete after Close.
func (a *Analyzer) Summary() *Summary { return a.stats }

// deadlines is a min-heap of calls by the time they are due to finish.
type deadlines []*flight

func (d deadlines) Len() int           { return len(d) }
func (d deadlines) Less(i, j int) bool { return d[i].deadline.Before(d[j].deadline) }
func (d deadlines) Swap(i, j int) {
	d[i], d[j] = d[j], d[i]
	d[i].index, d[j].index = i, j
}
func (d *deadlines) Push(x any) {
	f := x.(*flight)
	f.index = len(*d)
	*d = append(*d, f)
}
func (d *deadlines) Pop() any {
	old := *d
	f := old[len(old)-1]
	old[len(old)-1] = nil
	*d = old[:len(old)-1]
	f.index = -1
	return f
}
