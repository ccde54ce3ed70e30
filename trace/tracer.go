package trace

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
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
	// many entries, or this long after the first one arrived. Defaults 2048 and 100 ms.
	// Big batches are cheap ones: the SQLite sink writes one row per call per batch.
	BatchSize     int
	FlushInterval time.Duration
	// Retention is applied every PruneInterval (default 1 minute) and at start.
	Retention     Retention
	PruneInterval time.Duration
	// LiveCalls bounds the calls whose summaries the writer keeps in memory to update
	// them without reading the record back; LiveIdle forgets a call between half that
	// and that long after its last entry. A forgotten call that gets new entries (the BYE
	// of a long call) is read back from the sink once. Defaults 50000 and 2 minutes.
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

	// The queue: the request path appends to queued under mu (a few nanoseconds: no
	// channel send per entry, no wake-up of the writer per entry) and signals wake when a
	// batch is full; the writer swaps the whole queue for its empty spare at once.
	mu        sync.Mutex
	queued    queue
	queueSize int
	order     uint64 // numbers the queued entries, to merge messages and events back in order
	shut      bool   // Close was called: refuse entries (under mu)
	wake      chan struct{}

	flushReq chan chan struct{}
	stop     chan struct{}
	done     chan struct{}
	closed   atomic.Bool

	recorded, dropped, unkeyed, written, writeErrors atomic.Int64

	// The writer goroutine's own state; nothing else touches it.
	seq uint64
	// The live summaries in two generations: see moves a call it finds in older to live,
	// and rotate drops older wholesale. Forgetting then costs nothing per call; a scan
	// and sort of one map at every batch cost the writer more than summarising did.
	live    map[string]*summarizer
	older   map[string]*summarizer
	rotated time.Time
	framers map[streamKey]*StreamFramer
	spare   queue
	batch   Batch
	gen     uint64        // numbers the batches, to mark the summarizers a batch touches
	touched []*summarizer // the calls of the batch being built
	unknown []string      // of which the writer did not know
	msgZ    []*summarizer // the call of each message of the batch
	evZ     []*summarizer // and of each event
}

// queue holds the entries waiting for the writer. Seq holds the order of recording
// until the writer numbers them.
type queue struct {
	msgs []Message
	evs  []Event
}

func (q *queue) len() int { return len(q.msgs) + len(q.evs) }

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
		batchSize:     cmp.Or(opts.BatchSize, 2048),
		flushInterval: cmp.Or(opts.FlushInterval, 100*time.Millisecond),
		retention:     opts.Retention,
		pruneInterval: cmp.Or(opts.PruneInterval, time.Minute),
		liveCalls:     cmp.Or(opts.LiveCalls, 50000),
		liveIdle:      cmp.Or(opts.LiveIdle, 2*time.Minute),
		onError:       opts.OnError,
		queueSize:     cmp.Or(opts.QueueSize, 16384),
		wake:          make(chan struct{}, 1),
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
	t.enqueueMessage(m)
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
	// sipgo reuses its read and write buffers: the bytes must be copied now. This copy is
	// the only allocation of the wire tap.
	raw := make([]byte, len(b))
	copy(raw, b)
	t.enqueueMessage(Message{Time: t.stamp(), Direction: dir, Transport: upperTransport(transport),
		Local: laddr, Remote: raddr, Raw: raw})
}

// upperTransport is strings.ToUpper without its scan for the names sipgo passes.
func upperTransport(s string) string {
	switch s {
	case "UDP", "TCP", "TLS", "WS", "WSS":
		return s
	}
	return strings.ToUpper(s)
}

func (t *Tracer) event(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = t.stamp()
	} else {
		ev.Time = micros(ev.Time)
	}
	if seq, ok := t.reserve(); ok {
		ev.Seq = seq
		t.queued.evs = append(t.queued.evs, ev)
		t.release()
	}
}

func (t *Tracer) enqueueMessage(m Message) {
	if seq, ok := t.reserve(); ok {
		m.Seq = seq
		t.queued.msgs = append(t.queued.msgs, m)
		t.release()
	}
}

// reserve takes the queue's lock and the order number of one more entry, which the
// caller appends before release. When the queue is full or shut it counts the entry as
// dropped and returns false, without the lock.
func (t *Tracer) reserve() (uint64, bool) {
	t.mu.Lock()
	if t.shut || t.queued.len() >= t.queueSize {
		t.mu.Unlock()
		t.dropped.Add(1)
		return 0, false
	}
	t.order++
	return t.order, true
}

// release ends what reserve began.
func (t *Tracer) release() {
	n := t.queued.len()
	t.mu.Unlock()
	t.accepted(n)
}

// accepted counts an entry queued, n entries now waiting, and wakes the writer when a
// batch is full. The send never blocks: one signal waiting is enough.
func (t *Tracer) accepted(n int) {
	t.recorded.Add(1)
	if n == t.batchSize {
		select {
		case t.wake <- struct{}{}:
		default:
		}
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
	t.mu.Lock()
	t.shut = true
	t.mu.Unlock()
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
	for {
		select {
		case <-t.wake:
			t.drain(ctx)
		case <-flushTicker.C:
			t.drain(ctx)
		case <-pruneTicker.C:
			t.prune(ctx)
			t.rotate(t.now())
		case ack := <-t.flushReq:
			t.drain(ctx)
			close(ack)
		case <-t.stop:
			t.drain(ctx)
			return
		}
	}
}

// drain writes everything queued now, and what was queued meanwhile while that is a
// full batch or more.
func (t *Tracer) drain(ctx context.Context) {
	for {
		t.mu.Lock()
		t.queued, t.spare = t.spare, t.queued
		t.mu.Unlock()
		t.flush(ctx, &t.spare)
		clear(t.spare.msgs)
		clear(t.spare.evs)
		t.spare.msgs, t.spare.evs = t.spare.msgs[:0], t.spare.evs[:0]
		t.mu.Lock()
		n := t.queued.len()
		t.mu.Unlock()
		if n < t.batchSize {
			return
		}
	}
}

// flush turns queued entries into batches and writes them: messages and events merged
// back in the order they were recorded, TCP streams framed, entries keyed by Call-ID
// and numbered.
func (t *Tracer) flush(ctx context.Context, q *queue) {
	b := &t.batch
	mi, ei := 0, 0
	for mi < len(q.msgs) || ei < len(q.evs) {
		if ei >= len(q.evs) || (mi < len(q.msgs) && q.msgs[mi].Seq < q.evs[ei].Seq) {
			m := &q.msgs[mi]
			mi++
			if m.Transport == "TCP" || m.Transport == "TLS" {
				for _, f := range t.frame(*m) {
					t.addMessage(f)
				}
			} else {
				t.addMessage(*m)
			}
		} else {
			ev := &q.evs[ei]
			ei++
			if ev.CallID == "" {
				t.unkeyed.Add(1)
				continue
			}
			t.seq++
			ev.Seq = t.seq
			b.Events = append(b.Events, *ev)
			t.evZ = append(t.evZ, t.see(ev.CallID, nil, nil))
		}
		if b.Len() >= t.batchSize {
			t.write(ctx)
		}
	}
	t.write(ctx)
}

// addMessage keys a message and adds it to the batch.
func (t *Tracer) addMessage(m Message) {
	var z *summarizer
	if m.CallID == "" {
		id := callIDBytes(m.Raw)
		if len(id) == 0 {
			t.unkeyed.Add(1)
			return
		}
		z = t.see("", id, m.Raw)
		m.CallID = z.summary.CallID // shared with the summary: no string per message
	} else {
		z = t.see(m.CallID, nil, m.Raw)
	}
	t.seq++
	m.Seq = t.seq
	t.batch.Messages = append(t.batch.Messages, m)
	t.msgZ = append(t.msgZ, z)
}

// see returns the live summary of a call (named by callID, or by the bytes id) and
// marks it touched by the batch being built. A call the writer does not know is noted
// to be looked up in the sink before the batch is summarised, unless raw (the message
// that names it, nil for an event) starts a new call.
func (t *Tracer) see(callID string, id []byte, raw []byte) *summarizer {
	var (
		z  *summarizer
		ok bool
	)
	if id != nil {
		z, ok = t.live[string(id)] // no allocation for the lookup
		if !ok {
			if z, ok = t.older[string(id)]; ok {
				delete(t.older, string(id))
				t.live[z.summary.CallID] = z
			}
		}
	} else {
		z, ok = t.live[callID]
		if !ok {
			if z, ok = t.older[callID]; ok {
				delete(t.older, callID)
				t.live[callID] = z
			}
		}
	}
	if !ok {
		if id != nil {
			callID = string(id)
		}
		z = newSummarizer(callID)
		t.live[callID] = z
		if !startsCall(raw) {
			t.unknown = append(t.unknown, callID)
		}
	}
	if z.gen != t.gen+1 {
		z.gen = t.gen + 1
		t.touched = append(t.touched, z)
	}
	return z
}

// startsCall reports whether raw is the first request of a Call-ID, which the sink
// cannot hold yet, so the look-up is skipped (it was about 2% of the proxy's CPU under
// call load and more under REGISTER load, one query per batch of new Call-IDs): an
// INVITE outside any dialog (its To has no tag; a retry after a challenge comes within
// seconds, while the call is still live), or any request outside a dialog with CSeq 1
// (a CSeq only grows within a Call-ID, RFC 3261 8.1.1.5). REGISTER refreshes, which reuse
// their Call-ID with a higher CSeq, are still looked up. A phone that reused an old
// Call-ID for a new call would get a record whose summary covers the new call only.
func startsCall(raw []byte) bool {
	if len(raw) == 0 || bytes.HasPrefix(raw, []byte("SIP/")) {
		return false
	}
	f, ok, sure := quickFacts(raw)
	if !ok || !sure || !f.request || strings.Contains(strings.ToLower(f.to), "tag=") {
		return false
	}
	return f.method == "INVITE" || f.cseq == 1
}

// write summarises the batch being built and hands it to the sink.
func (t *Tracer) write(ctx context.Context) {
	b := &t.batch
	if b.Len() == 0 {
		return
	}
	now := t.now()
	t.readBack(ctx)
	// Entries are observed in the order they were queued, which is the order they were
	// recorded in.
	mi, ei := 0, 0
	for mi < len(b.Messages) || ei < len(b.Events) {
		if ei >= len(b.Events) || (mi < len(b.Messages) && b.Messages[mi].Seq < b.Events[ei].Seq) {
			t.msgZ[mi].message(&b.Messages[mi])
			mi++
		} else {
			t.evZ[ei].event(&b.Events[ei])
			ei++
		}
	}
	for _, z := range t.touched {
		b.Summaries = append(b.Summaries, z.summary)
	}
	if err := t.sink.Write(ctx, *b); err != nil {
		t.writeErrors.Add(1)
		t.onError(fmt.Errorf("trace: writing %d entries: %w", b.Len(), err))
	} else {
		t.written.Add(int64(b.Len()))
	}
	// The batch's slices are reused: sinks copy what they keep (see Sink.Write).
	clear(b.Messages)
	clear(b.Events)
	clear(b.Summaries)
	clear(t.touched)
	clear(t.msgZ)
	clear(t.evZ)
	*b = Batch{Messages: b.Messages[:0], Events: b.Events[:0], Summaries: b.Summaries[:0]}
	t.touched, t.msgZ, t.evZ = t.touched[:0], t.msgZ[:0], t.evZ[:0]
	t.gen++
	t.rotate(now)
}

// readBack brings the summaries of the calls the writer did not know up to date. A call
// the writer does not know (one idle longer than LiveIdle, or one that began before a
// restart) is read back from the sink; one query per batch finds which of them the sink
// holds, so that a new call costs no lookup of its own.
func (t *Tracer) readBack(ctx context.Context) {
	unknown := t.unknown
	t.unknown = t.unknown[:0]
	if len(unknown) == 0 {
		return
	}
	defer clear(unknown)
	stored, err := t.sink.Calls(ctx, Query{CallIDs: unknown, Limit: len(unknown)})
	if err != nil {
		t.onError(fmt.Errorf("trace: looking up %d calls: %w", len(unknown), err))
		return
	}
	for _, sum := range stored {
		c, err := t.sink.Call(ctx, sum.CallID)
		if err != nil {
			t.onError(fmt.Errorf("trace: reading call %q back: %w", sum.CallID, err))
			continue
		}
		z := t.live[sum.CallID]
		if z == nil {
			continue
		}
		for _, e := range c.Timeline() {
			if e.Message != nil {
				z.message(e.Message)
			} else {
				z.event(e.Event)
			}
		}
	}
}

// frame splits stream chunks into whole messages; datagrams are whole already.
func (t *Tracer) frame(m Message) []Message {
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

// rotate forgets the older generation of live summaries and starts a new one, when the
// current one holds half of LiveCalls or is half of LiveIdle old. A call is so kept for
// at least LiveIdle/2 after its last entry, and at most LiveCalls are kept.
func (t *Tracer) rotate(now time.Time) {
	if t.rotated.IsZero() {
		t.rotated = now
	}
	if len(t.live) < max(t.liveCalls/2, 1) && now.Sub(t.rotated) < t.liveIdle/2 {
		return
	}
	t.older, t.live, t.rotated = t.live, make(map[string]*summarizer, len(t.live)), now
}

func (t *Tracer) prune(ctx context.Context) {
	if t.retention.MaxAge <= 0 && t.retention.MaxCalls <= 0 {
		return
	}
	if _, err := t.sink.Prune(ctx, t.retention, t.now()); err != nil {
		t.onError(fmt.Errorf("trace: pruning: %w", err))
	}
}
