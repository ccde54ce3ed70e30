package trace

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by Flush after Close.
var ErrClosed = errors.New("trace: tracer closed")

// Options configure a Tracer. Only Sink is required.
type Options struct {
	Sink Sink
	// Now is the clock; default time.Now.
	Now func() time.Time
	// QueueSize bounds the entries waiting for the writer. When the queue is full, new
	// entries are dropped and counted (Stats.Dropped): recording must never slow down or
	// block the request path. Default 16384.
	QueueSize int
	// BatchSize and FlushInterval: the writer hands a batch to the sink when it holds this
	// many entries, or this long after the first one arrived. Defaults 512 and 100 ms.
	BatchSize     int
	FlushInterval time.Duration
	// Retention is applied every PruneInterval (default 1 minute) and at start.
	Retention     Retention
	PruneInterval time.Duration
	// LiveCalls bounds the calls whose summaries the writer keeps in memory to update
	// them without reading the record back; LiveIdle forgets a call that long after its
	// last entry. A forgotten call that gets new entries (the BYE of a long call) is
	// read back from the sink once. Defaults 50000 and 2 minutes.
	LiveCalls int
	LiveIdle  time.Duration
	// OnError sees the writer's errors (a failed batch is counted and dropped); the server
	// logs them.
	OnError func(error)
}

// Stats counts what a Tracer did.
type Stats struct {
	// Recorded entries accepted into the queue.
	Recorded int64
	// Dropped entries refused because the queue was full or the tracer closed.
	Dropped int64
	// Unkeyed messages without a Call-ID (garbage, keep-alives): not stored.
	Unkeyed int64
	// Written entries handed to the sink successfully.
	Written int64
	// WriteErrors batches the sink refused.
	WriteErrors int64
}

// Tracer is the server-wide recorder: it takes every message from the wire tap and every
// decision from the Recorders, and writes them to its Sink in the background.
type Tracer struct {
	sink          Sink
	now           func() time.Time
	batchSize     int
	flushInterval time.Duration
	retention     Retention
	pruneInterval time.Duration
	liveCalls     int
	liveIdle      time.Duration
	onError       func(error)

	queue    chan item
	flushReq chan chan struct{}
	stop     chan struct{}
	done     chan struct{}
	closed   atomic.Bool

	recorded, dropped, unkeyed, written, writeErrors atomic.Int64

	// The writer goroutine's own state; nothing else touches it.
	seq     uint64
	live    map[string]*summarizer
	framers map[streamKey]*StreamFramer
}

// item is one queued entry.
type item struct {
	isEvent bool
	msg     Message
	ev      Event
}

type streamKey struct {
	dir                      Direction
	transport, local, remote string
}

// NewTracer starts a tracer and its writer. Close stops it.
func NewTracer(opts Options) (*Tracer, error) {
	if opts.Sink == nil {
		return nil, errors.New("trace: a sink is required")
	}
	t := &Tracer{
		sink:          opts.Sink,
		now:           opts.Now,
		batchSize:     cmp.Or(opts.BatchSize, 512),
		flushInterval: cmp.Or(opts.FlushInterval, 100*time.Millisecond),
		retention:     opts.Retention,
		pruneInterval: cmp.Or(opts.PruneInterval, time.Minute),
		liveCalls:     cmp.Or(opts.LiveCalls, 50000),
		liveIdle:      cmp.Or(opts.LiveIdle, 2*time.Minute),
		onError:       opts.OnError,
		queue:         make(chan item, cmp.Or(opts.QueueSize, 16384)),
		flushReq:      make(chan chan struct{}),
		stop:          make(chan struct{}),
		done:          make(chan struct{}),
		live:          map[string]*summarizer{},
		framers:       map[streamKey]*StreamFramer{},
	}
	if t.now == nil {
		t.now = time.Now
	}
	if t.onError == nil {
		t.onError = func(error) {}
	}
	go t.run()
	return t, nil
}

// stamp is the current time as records keep it: microseconds, UTC, no monotonic reading,
// so that a record reads back from any sink exactly as it was written.
func (t *Tracer) stamp() time.Time {
	return micros(t.now())
}

// micros is t as records keep it (see stamp).
func micros(t time.Time) time.Time {
	return time.UnixMicro(t.UnixMicro()).UTC()
}

// Message records one message. The tracer keeps m.Raw: the caller must not change it
// afterwards (SIPTraceRead and SIPTraceWrite copy sipgo's buffers). A zero Time is
// stamped now; CallID is found from the bytes when empty. Safe on a nil Tracer.
func (t *Tracer) Message(m Message) {
	if t == nil {
		return
	}
	if m.Time.IsZero() {
		m.Time = t.stamp()
	} else {
		m.Time = micros(m.Time)
	}
	m.Transport = strings.ToUpper(m.Transport)
	t.enqueue(item{msg: m})
}

// SIPTraceRead is sipgo's wire-tap hook for a message read (sip.SIPTracer).
func (t *Tracer) SIPTraceRead(transport, laddr, raddr string, sipmsg []byte) {
	t.wire(In, transport, laddr, raddr, sipmsg)
}

// SIPTraceWrite is sipgo's wire-tap hook for a message written (sip.SIPTracer).
func (t *Tracer) SIPTraceWrite(transport, laddr, raddr string, sipmsg []byte) {
	t.wire(Out, transport, laddr, raddr, sipmsg)
}

func (t *Tracer) wire(dir Direction, transport, laddr, raddr string, b []byte) {
	if t == nil || len(b) == 0 {
		return
	}
	// sipgo reuses its read and write buffers: the bytes must be copied now.
	raw := make([]byte, len(b))
	copy(raw, b)
	t.enqueue(item{msg: Message{Time: t.stamp(), Direction: dir, Transport: strings.ToUpper(transport),
		Local: laddr, Remote: raddr, Raw: raw}})
}

func (t *Tracer) event(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = t.stamp()
	} else {
		ev.Time = micros(ev.Time)
	}
	t.enqueue(item{isEvent: true, ev: ev})
}

func (t *Tracer) enqueue(it item) {
	if t.closed.Load() {
		t.dropped.Add(1)
		return
	}
	select {
	case t.queue <- it:
		t.recorded.Add(1)
	default:
		t.dropped.Add(1)
	}
}

// Stats returns the counters.
func (t *Tracer) Stats() Stats {
	return Stats{Recorded: t.recorded.Load(), Dropped: t.dropped.Load(), Unkeyed: t.unkeyed.Load(),
		Written: t.written.Load(), WriteErrors: t.writeErrors.Load()}
}

// Flush waits until everything recorded before the call is in the sink: the admin API
// calls it before reading a call that has just ended.
func (t *Tracer) Flush(ctx context.Context) error {
	ack := make(chan struct{})
	select {
	case t.flushReq <- ack:
	case <-t.done:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("flush traces: %w", ctx.Err())
	}
	select {
	case <-ack:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("flush traces: %w", ctx.Err())
	}
}

// Close writes what is queued and stops the writer. Entries recorded afterwards are
// dropped. It does not close the sink.
func (t *Tracer) Close() error {
	if t.closed.Swap(true) {
		<-t.done
		return nil
	}
	close(t.stop)
	<-t.done
	return nil
}

// Sink returns the tracer's sink, for readers (the admin API).
func (t *Tracer) Sink() Sink { return t.sink }

// run is the writer goroutine.
func (t *Tracer) run() {
	defer close(t.done)
	ctx := context.Background()
	flushTicker := time.NewTicker(t.flushInterval)
	defer flushTicker.Stop()
	pruneTicker := time.NewTicker(t.pruneInterval)
	defer pruneTicker.Stop()
	t.prune(ctx)
	pending := make([]item, 0, t.batchSize)
	for {
		select {
		case it := <-t.queue:
			pending = append(pending, it)
			if len(pending) >= t.batchSize {
				pending = t.flush(ctx, pending)
			}
		case <-flushTicker.C:
			pending = t.flush(ctx, pending)
		case <-pruneTicker.C:
			t.prune(ctx)
			t.forget(t.now())
		case ack := <-t.flushReq:
			pending = t.flush(ctx, t.drain(ctx, pending))
			close(ack)
		case <-t.stop:
			t.flush(ctx, t.drain(ctx, pending))
			return
		}
	}
}

// drain takes everything queued now, flushing full batches on the way.
func (t *Tracer) drain(ctx context.Context, pending []item) []item {
	for {
		select {
		case it := <-t.queue:
			pending = append(pending, it)
			if len(pending) >= t.batchSize {
				pending = t.flush(ctx, pending)
			}
		default:
			return pending
		}
	}
}

// flush turns queued items into a batch and writes it; it returns the emptied slice.
func (t *Tracer) flush(ctx context.Context, items []item) []item {
	if len(items) == 0 {
		return items
	}
	now := t.now()
	var b Batch
	// First the entries, keyed and numbered; then the summaries of the calls they touch.
	for i := range items {
		it := &items[i]
		if it.isEvent {
			if it.ev.CallID == "" {
				t.unkeyed.Add(1)
				continue
			}
			t.seq++
			it.ev.Seq = t.seq
			b.Events = append(b.Events, it.ev)
			continue
		}
		for _, m := range t.frame(it.msg) {
			if m.CallID == "" {
				m.CallID = CallIDOf(m.Raw)
			}
			if m.CallID == "" {
				t.unkeyed.Add(1)
				continue
			}
			t.seq++
			m.Seq = t.seq
			b.Messages = append(b.Messages, m)
		}
	}
	touched := t.summarizers(ctx, &b, now)
	// Entries are observed in the order they were queued, which is the order they were
	// recorded in.
	mi, ei := 0, 0
	for mi < len(b.Messages) || ei < len(b.Events) {
		if ei >= len(b.Events) || (mi < len(b.Messages) && b.Messages[mi].Seq < b.Events[ei].Seq) {
			touched[b.Messages[mi].CallID].message(&b.Messages[mi])
			mi++
		} else {
			touched[b.Events[ei].CallID].event(&b.Events[ei])
			ei++
		}
	}
	for _, z := range touched {
		b.Summaries = append(b.Summaries, z.summary)
	}
	if b.Len() > 0 {
		if err := t.sink.Write(ctx, b); err != nil {
			t.writeErrors.Add(1)
			t.onError(fmt.Errorf("trace: writing %d entries: %w", b.Len(), err))
		} else {
			t.written.Add(int64(b.Len()))
		}
	}
	if len(t.live) > t.liveCalls {
		t.forget(now)
	}
	clear(items)
	return items[:0]
}

// summarizers returns the live summaries of the calls in the batch. A call the writer
// does not know (one idle longer than LiveIdle, or one that began before a restart) is
// read back from the sink; one query per batch finds which of them the sink holds, so
// that a new call costs no lookup of its own.
func (t *Tracer) summarizers(ctx context.Context, b *Batch, now time.Time) map[string]*summarizer {
	touched := map[string]*summarizer{}
	var unknown []string
	see := func(callID string) {
		if _, ok := touched[callID]; ok {
			return
		}
		z, ok := t.live[callID]
		if !ok {
			z = newSummarizer(callID)
			t.live[callID] = z
			unknown = append(unknown, callID)
		}
		z.lastSeen = now
		touched[callID] = z
	}
	for i := range b.Messages {
		see(b.Messages[i].CallID)
	}
	for i := range b.Events {
		see(b.Events[i].CallID)
	}
	if len(unknown) == 0 {
		return touched
	}
	stored, err := t.sink.Calls(ctx, Query{CallIDs: unknown, Limit: len(unknown)})
	if err != nil {
		t.onError(fmt.Errorf("trace: looking up %d calls: %w", len(unknown), err))
		return touched
	}
	for _, sum := range stored {
		c, err := t.sink.Call(ctx, sum.CallID)
		if err != nil {
			t.onError(fmt.Errorf("trace: reading call %q back: %w", sum.CallID, err))
			continue
		}
		z := touched[sum.CallID]
		for _, e := range c.Timeline() {
			if e.Message != nil {
				z.message(e.Message)
			} else {
				z.event(e.Event)
			}
		}
	}
	return touched
}

// frame splits stream chunks into whole messages; datagrams are whole already.
func (t *Tracer) frame(m Message) []Message {
	if m.Transport != "TCP" && m.Transport != "TLS" {
		return []Message{m}
	}
	key := streamKey{m.Direction, m.Transport, m.Local, m.Remote}
	f, ok := t.framers[key]
	if !ok {
		f = &StreamFramer{}
	}
	frames := f.Write(m.Raw)
	switch {
	case f.Pending() && !ok:
		if len(t.framers) >= maxPartialStreams {
			clear(t.framers) // a flood of half-sent messages: give up on all of them
		}
		t.framers[key] = f
	case !f.Pending() && ok:
		delete(t.framers, key)
	}
	out := make([]Message, len(frames))
	for i, raw := range frames {
		out[i] = m
		out[i].Raw = raw
	}
	return out
}

// maxPartialStreams bounds the streams with half a message waiting.
const maxPartialStreams = 4096

// forget drops live summaries idle longer than LiveIdle, and the oldest beyond LiveCalls.
func (t *Tracer) forget(now time.Time) {
	for id, z := range t.live {
		if now.Sub(z.lastSeen) > t.liveIdle {
			delete(t.live, id)
		}
	}
	if len(t.live) <= t.liveCalls {
		return
	}
	type aged struct {
		id   string
		seen time.Time
	}
	all := make([]aged, 0, len(t.live))
	for id, z := range t.live {
		all = append(all, aged{id, z.lastSeen})
	}
	slices.SortFunc(all, func(a, b aged) int { return a.seen.Compare(b.seen) })
	// Down to nine tenths, so that the next batches do not sort again at once.
	for _, a := range all[:len(all)-t.liveCalls*9/10] {
		delete(t.live, a.id)
	}
}

func (t *Tracer) prune(ctx context.Context) {
	if t.retention.MaxAge <= 0 && t.retention.MaxCalls <= 0 {
		return
	}
	if _, err := t.sink.Prune(ctx, t.retention, t.now()); err != nil {
		t.onError(fmt.Errorf("trace: pruning: %w", err))
	}
}
