package server

import (
	"net"
	"testing"
	"time"
)

// TestLimitListener: past the limit a new connection is closed at once; closing one frees
// a place.
func TestLimitListener(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newLimitListener(inner, 2)
	defer l.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b := dial(), dial()
	first, second := <-accepted, <-accepted
	third := dial()
	third.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := third.Read(make([]byte, 1)); err == nil {
		t.Fatal("a third connection over the limit of 2 was kept open")
	}
	if n := l.Open(); n != 2 {
		t.Fatalf("%d open, want 2", n)
	}
	first.Close()
	first.Close() // twice is harmless
	if n := l.Open(); n != 1 {
		t.Fatalf("after one close: %d open, want 1", n)
	}
	fourth := dial()
	select {
	case c := <-accepted:
		c.Close()
	case <-time.After(2 * time.Second):
		t.Fatal("the freed place was not given to a new connection")
	}
	for _, c := range []net.Conn{a, b, third, fourth, second} {
		c.Close()
	}
}
