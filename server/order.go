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
	pending map[string]*pendingACK // by Call-ID
}

type pendingACK struct {
	n    int           // ACKs read minus ACKs handled
	done chan struct{} // closed when n comes back to 0
	seen time.Time     // when the note was last changed
}

// ackWait bounds the wait: an ACK that sipgo absorbs (the ACK of a non-2xx answer, which
// its server transaction consumes) never reaches the handler, and nothing may wait on it
// for long.
const ackWait = 20 * time.Millisecond

// ackKeep is how long a note of an unhandled ACK is kept before sweep drops it.
const ackKeep = time.Second

func newACKOrder() *ackOrder { return &ackOrder{pending: map[string]*pendingACK{}} }

// read notes an ACK of callID as read (sipgo's transport layer, in arrival order).
func (o *ackOrder) read(callID string, now time.Time) { o.add(callID, 1, now) }

// handled notes that an ACK of callID has gone through the chain.
func (o *ackOrder) handled(callID string, now time.Time) { o.add(callID, -1, now) }

func (o *ackOrder) add(callID string, d int, now time.Time) {
	o.mu.Lock()
	p := o.pending[callID]
	if p == nil {
		p = &pendingACK{done: make(chan struct{})}
		o.pending[callID] = p
	}
	p.n += d
	p.seen = now
	if p.n == 0 {
		close(p.done)
		delete(o.pending, callID)
	}
	o.mu.Unlock()
}

// wait returns once no ACK of callID read before now is still being handled, or after
// ackWait.
func (o *ackOrder) wait(callID string) {
	o.mu.Lock()
	p := o.pending[callID]
	ahead := p != nil && p.n > 0
	o.mu.Unlock()
	if !ahead {
		return
	}
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
			close(p.done)
			delete(o.pending, id)
		}
	}
	o.mu.Unlock()
}

// notes is the number of Call-IDs with an ACK noted (tests).
func (o *ackOrder) notes() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.pending)
}
