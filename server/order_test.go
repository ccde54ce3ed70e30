package server

import (
	"testing"
	"time"
)

func TestACKOrder(t *testing.T) {
	o := newACKOrder()
	now := time.Now()

	// No ACK read: no wait.
	start := time.Now()
	o.wait("a")
	if d := time.Since(start); d > ackWait/2 {
		t.Errorf("wait without a pending ACK took %v", d)
	}

	// An ACK read and handled while the BYE waits: the wait ends with the handling.
	o.read("a", now)
	o.read("a", now) // a retransmission
	go func() {
		time.Sleep(2 * time.Millisecond)
		o.handled("a", time.Now())
		o.handled("a", time.Now())
	}()
	start = time.Now()
	o.wait("a")
	if d := time.Since(start); d >= ackWait {
		t.Errorf("wait did not end when the ACKs were handled: %v", d)
	}
	if o.notes() != 0 {
		t.Errorf("%d notes left after handling", o.notes())
	}

	// An ACK that never reaches the handler: the wait is bounded, and sweep forgets it.
	o.read("b", now)
	start = time.Now()
	o.wait("b")
	if d := time.Since(start); d < ackWait || d > 20*ackWait {
		t.Errorf("wait for an absorbed ACK took %v, want about %v", d, ackWait)
	}
	o.sweep(now.Add(ackKeep / 2))
	if o.notes() != 1 {
		t.Errorf("swept too early")
	}
	o.sweep(now.Add(2 * ackKeep))
	if o.notes() != 0 {
		t.Errorf("not swept")
	}
	o.handled("b", now) // late: a note of its own, swept later, never waited on
	o.wait("b")
	o.sweep(now.Add(2 * ackKeep))

	// The ACK's goroutine finished before the transport layer noted it: the count dips
	// below zero and comes back, and nothing waits.
	o.handled("c", now)
	o.read("c", now)
	if o.notes() != 0 {
		t.Errorf("handled-then-read left a note")
	}
	start = time.Now()
	o.wait("c")
	if d := time.Since(start); d > ackWait/2 {
		t.Errorf("wait after handled-then-read took %v", d)
	}
}

// TestACKOrderAllocs: noting and handling an ACK is on every call's path and must not
// allocate (the channel is made only when a request has to wait).
func TestACKOrderAllocs(t *testing.T) {
	o := newACKOrder()
	now := time.Now()
	o.read("warm", now)
	o.handled("warm", now)
	if n := testing.AllocsPerRun(1000, func() {
		o.read("warm", now)
		o.handled("warm", now)
		o.wait("warm")
	}); n != 0 {
		t.Errorf("an ACK noted and handled allocates %.1f times", n)
	}
}
