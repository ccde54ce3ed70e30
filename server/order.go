package server

import (
	"sync"
	"time"
)

// ackOrder keeps a dialog's ACK ahead of the request that follows it. sipgo handles every
// message on a goroutine of its own, so a BYE sent right behind the ACK of a 2xx could
// be forwarded first; under load the callee then got BYE before ACK (SIPp aborts such a
// call as an "unexpected BYE"). sipgo's transport layer passes messages to its handlers
// one at a time, in arrival order, before any goroutine of the next message is started:
// a handler there notes every ACK, and an in-dialog request of the same Call-ID waits
// until that ACK has been handled, for at most ackWait. The ACK's own goroutine may finish
// before the note is taken, so the count may go below zero for a moment.
type ackOrder struct {
	mu      sync.Mutex
	pending map[string]pendingACK // by Call-ID; held by value: no allocation per ACK
}

type pendingACK struct {
	n    int           // ACKs read minus ACKs handled
	done chan struct{} // made by the first waiter, closed when n comes back to 0
	seen time.Time     // when the note was last changed
}

// ackWait bounds the wait: an ACK that sipgo absorbs (the ACK of a non-2xx answer, which
// its server transaction consumes) never reaches the handler, and nothing may wait on it
// for long.
const ackWait = 20 * time.Millisecond

// ackKeep is how long a note of an unhandled ACK is kept before sweep drops it.
const ackKeep = time.Second

func newACKOrder() *ackOrder { return &ackOrder{pending: map[string]pendingACK{}} }

// read notes an ACK of callID as read (sipgo's transport layer, in arrival order).
func (o *ackOrder) read(callID string, now time.Time) { o.add(callID, 1, now) }

// handled notes that an ACK of callID has gone through the chain.
func (o *ackOrder) handled(callID string, now time.Time) { o.add(callID, -1, now) }

func (o *ackOrder) add(callID string, d int, now time.Time) {
	o.mu.Lock()
	p := o.pending[callID]
	p.n += d
	p.seen = now
	if p.n == 0 {
		o.drop(callID, p)
	} else {
		o.pending[callID] = p
	}
	o.mu.Unlock()
}

// wait returns once no ACK of callID read before now is still being handled, or after
// ackWait.
func (o *ackOrder) wait(callID string) {
	o.mu.Lock()
	p, ok := o.pending[callID]
	if !ok || p.n <= 0 {
		o.mu.Unlock()
		return
	}
	if p.done == nil {
		p.done = make(chan struct{})
		o.pending[callID] = p
	}
	o.mu.Unlock()
	t := time.NewTimer(ackWait)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
	}
}

// sweep drops notes of ACKs that never reached the handler (or were handled and never
// noted: a message the transport layer did not pass on).
func (o *ackOrder) sweep(now time.Time) {
	o.mu.Lock()
	for id, p := range o.pending {
		if now.Sub(p.seen) > ackKeep {
			o.drop(id, p)
		}
	}
	o.mu.Unlock()
}

// drop forgets the note of callID and releases its waiters; o.mu is held.
func (o *ackOrder) drop(callID string, p pendingACK) {
	if p.done != nil {
		close(p.done)
	}
	delete(o.pending, callID)
}

// notes is the number of Call-IDs with an ACK noted (tests).
func (o *ackOrder) notes() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.pending)
}
