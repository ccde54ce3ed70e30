package server

import (
	"net"
	"sync"
	"time"
)

// Bounds on TCP, which sipgo leaves open by default: a connection that stays silent longer
// than tcpIdleTimeout is closed (a phone re-registering reconnects; Kamailio's default
// connection lifetime is 2 minutes, ours is longer so that keep-alive-less phones
// registered for 10 minutes keep their flow), a write that cannot make progress fails
// after tcpWriteTimeout, and at most maxTCPConnections are open at once (more are accepted
// and closed at once, so a flood costs file descriptors only briefly).
const (
	tcpIdleTimeout    = 10 * time.Minute
	tcpWriteTimeout   = 10 * time.Second
	maxTCPConnections = 10000
)

// limitListener closes connections beyond max instead of letting them pile up.
type limitListener struct {
	net.Listener
	mu   sync.Mutex
	open int
	max  int
}

func newLimitListener(l net.Listener, max int) *limitListener {
	return &limitListener{Listener: l, max: max}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		if l.open >= l.max {
			l.mu.Unlock()
			c.Close()
			continue
		}
		l.open++
		l.mu.Unlock()
		return &countedConn{Conn: c, release: l.release}, nil
	}
}

func (l *limitListener) release() {
	l.mu.Lock()
	l.open--
	l.mu.Unlock()
}

// Open is the number of connections accepted and not yet closed.
func (l *limitListener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
