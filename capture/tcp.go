package capture

import (
	"net/netip"
	"time"

	"github.com/siplens/siplens/trace"
)

const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04

	// streamIdle is how long a stream may stay silent (capture time) before its state is
	// dropped; SIP connections idle for minutes between calls, and siplens itself closes
	// them after 10.
	streamIdle = 15 * time.Minute
	// maxOutOfOrder bounds the bytes held for one direction while waiting for a gap to
	// fill; past it the gap is declared lost and reading resumes at the next message.
	maxOutOfOrder = 256 << 10
	maxStreams    = 100000
)

type segment struct {
	src, dst netip.AddrPort
	seq      uint32
	flags    uint8
	data     []byte
	at       time.Time
}

// flow is one direction of a TCP connection.
type flow struct{ src, dst netip.AddrPort }

// stream is what we know of one direction: where the next byte belongs, the bytes that
// came early, and the framer cutting the bytes into SIP messages (RFC 3261 18.3:
// Content-Length says where a message ends on a stream).
type stream struct {
	next    uint32
	synced  bool // next is known
	sip     bool // the stream carries SIP (decided on its first bytes)
	early   map[uint32][]byte
	held    int
	framer  trace.StreamFramer
	last    time.Time
	partial bool // a message is half-read
}

type streams struct {
	problems Problems
	emit     func(transport string, src, dst netip.AddrPort, b []byte, at time.Time, origin string)
	flows    map[flow]*stream
	lastScan time.Time
}

func newStreams(p Problems, emit func(string, netip.AddrPort, netip.AddrPort, []byte, time.Time, string)) *streams {
	return &streams{problems: p, emit: emit, flows: map[flow]*stream{}}
}

func (s *streams) segment(seg segment) {
	s.expire(seg.at)
	key := flow{seg.src, seg.dst}
	st := s.flows[key]
	if seg.flags&tcpSYN != 0 {
		// A new connection: its data starts after the SYN's sequence number.
		if len(s.flows) >= maxStreams {
			s.problems.Add("TCP streams dropped (too many open)")
			return
		}
		if st != nil && st.framer.Pending() {
			s.problems.Add("TCP message cut short")
		}
		st = &stream{next: seg.seq + 1, synced: true, last: seg.at}
		s.flows[key] = st
		return
	}
	if len(seg.data) > 0 {
		if st == nil || !st.synced {
			// Joined mid-stream (the capture started after the handshake): start at a
			// segment that begins a SIP message.
			if !looksLikeSIP(seg.data) {
				s.problems.Add(NotSIP)
				return
			}
			if len(s.flows) >= maxStreams {
				s.problems.Add("TCP streams dropped (too many open)")
				return
			}
			st = &stream{next: seg.seq, synced: true, sip: true}
			s.flows[key] = st
		}
		st.last = seg.at
		s.data(key, st, seg)
	}
	if seg.flags&(tcpFIN|tcpRST) != 0 && st != nil {
		if st.framer.Pending() && len(st.early) == 0 {
			s.problems.Add("TCP message cut short")
		}
		delete(s.flows, key)
	}
}

// data places a segment's bytes in the stream.
func (s *streams) data(key flow, st *stream, seg segment) {
	d := seg.data
	delta := int32(seg.seq - st.next)
	switch {
	case delta < 0:
		// Some or all of it came before: a retransmission. Keep only what is new.
		if int(-delta) >= len(d) {
			return
		}
		d = d[-delta:]
	case delta > 0:
		// It came early: a gap to fill first.
		if st.early == nil {
			st.early = map[uint32][]byte{}
		}
		if _, dup := st.early[seg.seq]; !dup {
			st.early[seg.seq] = append([]byte(nil), d...)
			st.held += len(d)
		}
		if st.held > maxOutOfOrder {
			s.problems.Add("TCP gap (bytes lost)")
			s.resync(key, st)
		}
		return
	}
	s.feed(key, st, d, seg.at)
	// Whatever waited for this may follow now.
	for len(st.early) > 0 {
		progressed := false
		for seq, b := range st.early {
			off := int32(st.next - seq)
			if off < 0 {
				continue
			}
			delete(st.early, seq)
			st.held -= len(b)
			if int(off) < len(b) {
				s.feed(key, st, b[off:], seg.at)
			}
			progressed = true
		}
		if !progressed {
			break
		}
	}
}

func (s *streams) feed(key flow, st *stream, d []byte, at time.Time) {
	st.next += uint32(len(d))
	if !st.sip {
		// The first bytes after the handshake decide whether this is SIP.
		if onlyCRLF(d) {
			return
		}
		if !looksLikeSIP(d) {
			s.problems.Add(NotSIP)
			delete(s.flows, key)
			return
		}
		st.sip = true
	}
	for _, msg := range st.framer.Write(d) {
		if !looksLikeSIP(msg) {
			s.problems.Add("unreadable SIP on TCP")
			continue
		}
		s.emit("TCP", key.src, key.dst, msg, at, "")
	}
}

// resync gives up on a gap: the held bytes from the first one that starts a message on.
func (s *streams) resync(key flow, st *stream) {
	st.framer = trace.StreamFramer{}
	var first uint32
	found := false
	for seq, b := range st.early {
		if looksLikeSIP(b) && (!found || int32(seq-first) < 0) {
			first, found = seq, true
		}
	}
	early := st.early
	st.early, st.held = nil, 0
	if !found {
		st.synced = false
		delete(s.flows, key)
		return
	}
	st.next = first
	b := early[first]
	delete(early, first)
	st.early = early
	for _, v := range early {
		st.held += len(v)
	}
	s.feed(key, st, b, st.last)
	for len(st.early) > 0 {
		v, ok := st.early[st.next]
		if !ok {
			break
		}
		delete(st.early, st.next)
		st.held -= len(v)
		s.feed(key, st, v, st.last)
	}
	if len(st.early) > 0 {
		s.problems.Add("TCP gap (bytes lost)")
		st.early, st.held = nil, 0
	}
}

func (s *streams) expire(now time.Time) {
	if now.Sub(s.lastScan) < time.Minute {
		return
	}
	s.lastScan = now
	for k, st := range s.flows {
		if now.Sub(st.last) > streamIdle {
			if st.framer.Pending() {
				s.problems.Add("TCP message cut short")
			}
			delete(s.flows, k)
		}
	}
}

func (s *streams) flush() {
	for k, st := range s.flows {
		if st.framer.Pending() || len(st.early) > 0 {
			s.problems.Add("TCP message cut short")
		}
		delete(s.flows, k)
	}
}
