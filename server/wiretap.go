package server

import (
	"net"
	"strconv"
	"sync"

	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/metrics"
	"github.com/siplens/siplens/trace"
)

// The wire tap. sipgo shows every message it reads or writes, retransmissions and the
// responses it sends by itself (100 Trying, 487, stateless 400) included, to one
// process-wide tracer, and only while sip.SIPDebug is on. siplens installs that tracer
// once, before any listener runs (sipgo reads the flag unsynchronised): a dispatcher that
// hands each message to the recorder of the server that owns the local address. A message
// on another socket is either another user agent in the same process talking to a server
// (its remote address is a server's listener: the server records its own side, so it is
// skipped) or siplens sending from a socket sipgo opened for an outgoing request (it goes
// to the latest server started). Keeping this in one file keeps the global in one place.
//
// The metrics count the messages siplens sends here, and only those: the tap is the one
// place that sees every message written, the 100 Trying, the 487 after a CANCEL, the
// stateless relays and the retransmissions included, which the frame never sees. Each
// write is one whole message, so its first line is enough, and the count allocates
// nothing. Messages received are counted after parsing instead (the transport layer's
// message hook, server.go): a TCP read here is a chunk, not a message. So with metrics on
// the tap is installed even when recording is off; sipgo then formats the two addresses
// of each message it reads or writes for it (its cost, measured in docs/metrics.md).
var wiretap = &tapDispatcher{byLocal: map[string]tapSink{}}

// tapSink is where one server's messages go: its recorder and its metrics, either nil.
type tapSink struct {
	tracer  *trace.Tracer
	metrics *metrics.Metrics
}

type tapDispatcher struct {
	mu      sync.RWMutex
	byLocal map[string]tapSink
	latest  tapSink
	once    sync.Once
}

// install turns the tap on, once per process, before any sipgo goroutine of ours runs.
func (d *tapDispatcher) install() {
	d.once.Do(func() {
		sip.SIPDebugTracer(d)
		sip.SIPDebug = true
	})
}

// attach routes messages on the given local addresses to t and m.
func (d *tapDispatcher) attach(t *trace.Tracer, m *metrics.Metrics, locals []string) {
	d.install()
	d.mu.Lock()
	defer d.mu.Unlock()
	sink := tapSink{tracer: t, metrics: m}
	for _, l := range locals {
		d.byLocal[l] = sink
	}
	d.latest = sink
}

// detach forgets t and m (the server stopped).
func (d *tapDispatcher) detach(t *trace.Tracer, m *metrics.Metrics, locals []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	sink := tapSink{tracer: t, metrics: m}
	for _, l := range locals {
		if d.byLocal[l] == sink {
			delete(d.byLocal, l)
		}
	}
	if d.latest == sink {
		d.latest = tapSink{}
	}
}

func (d *tapDispatcher) route(laddr, raddr string) tapSink {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if t, ok := d.byLocal[laddr]; ok {
		return t
	}
	if _, peer := d.byLocal[raddr]; peer {
		return tapSink{} // another user agent of this process talking to a server
	}
	return d.latest
}

func (d *tapDispatcher) SIPTraceRead(transport, laddr, raddr string, msg []byte) {
	d.route(laddr, raddr).tracer.SIPTraceRead(transport, laddr, raddr, msg)
}

func (d *tapDispatcher) SIPTraceWrite(transport, laddr, raddr string, msg []byte) {
	sink := d.route(laddr, raddr)
	sink.tracer.SIPTraceWrite(transport, laddr, raddr, msg)
	sink.metrics.Sent(msg)
}

// tapLocals are the addresses a server's listeners see as their own.
func tapLocals(addrs map[string]string) []string {
	var out []string
	for _, a := range addrs {
		out = append(out, a)
		// A listener on 0.0.0.0 reports the concrete address of each message's socket;
		// the dispatcher falls back to the latest server for those.
		if host, port, err := net.SplitHostPort(a); err == nil && (host == "0.0.0.0" || host == "::") {
			if p, err := strconv.Atoi(port); err == nil {
				out = append(out, net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			}
		}
	}
	return out
}
