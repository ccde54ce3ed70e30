package capture

import (
	"net/netip"
	"slices"
	"time"
)

// Bounds on fragment reassembly: a capture of a flood of stray fragments must not grow
// memory without end. 30 s is the reassembly timeout of Linux (net.ipv4.ipfrag_time).
const (
	fragTimeout = 30 * time.Second
	maxPending  = 4096
	maxDatagram = 65535
)

// fragKey names one datagram being reassembled (RFC 791: source, destination,
// protocol, identification; RFC 8200 4.5 for IPv6).
type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
}

type fragment struct {
	offset int
	data   []byte
}

type pending struct {
	first time.Time
	parts []fragment
	total int // known once the last fragment (more == false) arrived; -1 before
	size  int
}

// defragmenter puts IP fragments back together, in capture time.
type defragmenter struct {
	problems Problems
	pending  map[fragKey]*pending
	lastScan time.Time
}

func newDefragmenter(p Problems) *defragmenter {
	return &defragmenter{problems: p, pending: map[fragKey]*pending{}}
}

// add takes one fragment; it returns the whole payload once every piece is there.
func (f *defragmenter) add(key fragKey, offset int, more bool, data []byte, at time.Time) ([]byte, bool) {
	f.expire(at)
	p := f.pending[key]
	if p == nil {
		if len(f.pending) >= maxPending {
			f.problems.Add("IP fragments dropped (too many pending)")
			return nil, false
		}
		p = &pending{first: at, total: -1}
		f.pending[key] = p
	}
	if offset+len(data) > maxDatagram || p.size+len(data) > 2*maxDatagram {
		f.problems.Add("malformed IP fragment")
		delete(f.pending, key)
		return nil, false
	}
	p.parts = append(p.parts, fragment{offset: offset, data: append([]byte(nil), data...)})
	p.size += len(data)
	if !more {
		p.total = offset + len(data)
	}
	if p.total < 0 {
		return nil, false
	}
	slices.SortFunc(p.parts, func(a, b fragment) int { return a.offset - b.offset })
	out := make([]byte, p.total)
	covered := 0
	for _, part := range p.parts {
		if part.offset > covered {
			return nil, false // a hole: wait for more
		}
		end := part.offset + len(part.data)
		if end > p.total {
			end = p.total
		}
		if end > covered {
			copy(out[covered:end], part.data[covered-part.offset:end-part.offset])
			covered = end
		}
	}
	if covered < p.total {
		return nil, false
	}
	delete(f.pending, key)
	return out, true
}

// expire drops datagrams whose fragments stopped coming, once a second of capture time.
func (f *defragmenter) expire(now time.Time) {
	if now.Sub(f.lastScan) < time.Second {
		return
	}
	f.lastScan = now
	for k, p := range f.pending {
		if now.Sub(p.first) > fragTimeout {
			f.problems.Add("IP fragments incomplete")
			delete(f.pending, k)
		}
	}
}

// flush counts what is still waiting at the end.
func (f *defragmenter) flush() {
	for k := range f.pending {
		f.problems.Add("IP fragments incomplete")
		delete(f.pending, k)
	}
}
