package siptest

import (
	"fmt"
	"net"
	"sync"
	"testing"
)

// loopback is the only address the kit listens on or sends to.
const loopback = "127.0.0.1"

// handedOut remembers every port this process has handed out, so that two
// callers (e.g. parallel tests) never get the same port from the kernel's
// recently-released pool.
var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// reserved ports are never handed out (the standard SIP ports).
func reserved(p int) bool { return p == 5060 || p == 5061 }

func claim(ports ...int) bool {
	handedOut.Lock()
	defer handedOut.Unlock()
	for _, p := range ports {
		if handedOut.ports[p] {
			return false
		}
	}
	for _, p := range ports {
		handedOut.ports[p] = true
	}
	return true
}

// FreePort returns a port that is free on 127.0.0.1 for both UDP and TCP
// at the time of the call (a SIP listener usually needs both). The port
// is never 5060/5061 and is never returned twice by this process.
func FreePort(t testing.TB) int {
	t.Helper()
	return FreePorts(t, 1)[0]
}

// FreePorts returns n distinct ports, each free on 127.0.0.1 for both UDP
// and TCP. All n sockets are held open until every port has been picked,
// so the kernel cannot hand the same port out twice.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	if n <= 0 {
		t.Fatalf("siptest.FreePorts: n must be positive, got %d", n)
	}
	var (
		ports   []int
		closers []func()
	)
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	for attempts := 0; len(ports) < n; attempts++ {
		if attempts > 100*n {
			t.Fatalf("siptest.FreePorts: could not find %d ports free for both UDP and TCP on %s", n, loopback)
		}
		p, closeFn, err := bindBoth()
		if err != nil {
			continue
		}
		closers = append(closers, closeFn)
		if reserved(p) || !claim(p) {
			continue
		}
		ports = append(ports, p)
	}
	return ports
}

// bindBoth binds TCP on 127.0.0.1:0, then UDP on the same port.
func bindBoth() (int, func(), error) {
	ln, err := net.Listen("tcp4", net.JoinHostPort(loopback, "0"))
	if err != nil {
		return 0, nil, err
	}
	p := ln.Addr().(*net.TCPAddr).Port
	pc, err := net.ListenPacket("udp4", net.JoinHostPort(loopback, fmt.Sprint(p)))
	if err != nil {
		ln.Close()
		return 0, nil, err
	}
	return p, func() { ln.Close(); pc.Close() }, nil
}

// freeMediaPort returns a UDP port p such that p and p+2 are both free on
// 127.0.0.1: SIPp binds its RTP echo sockets on -mp and -mp+2 and fails if
// either is taken.
func freeMediaPort(t testing.TB) int {
	t.Helper()
	for attempts := 0; attempts < 200; attempts++ {
		a, err := net.ListenPacket("udp4", net.JoinHostPort(loopback, "0"))
		if err != nil {
			continue
		}
		p := a.LocalAddr().(*net.UDPAddr).Port
		if p+2 > 65535 || reserved(p) || reserved(p+2) {
			a.Close()
			continue
		}
		b, err := net.ListenPacket("udp4", net.JoinHostPort(loopback, fmt.Sprint(p+2)))
		if err != nil {
			a.Close()
			continue
		}
		a.Close()
		b.Close()
		if claim(p, p+2) {
			return p
		}
	}
	t.Fatalf("siptest: could not find a free UDP media port pair (p, p+2) on %s", loopback)
	return 0
}
