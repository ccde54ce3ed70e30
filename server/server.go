// Package server runs siplens: the sipgo user agent and its listeners, the chain of steps,
// and the frame that turns every request into exactly one logged answer.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/chain"
	"github.com/siplens/siplens/config"
	"github.com/siplens/siplens/dialogs"
	"github.com/siplens/siplens/metrics"
	"github.com/siplens/siplens/store"
	"github.com/siplens/siplens/trace"
)

// Options are what the caller provides besides the config.
type Options struct {
	Users     store.Users
	Locations store.Locations
	Log       *slog.Logger
	// Now is the clock (tests may pin it); default time.Now.
	Now func() time.Time
	// ForwardGuard, when set, must approve every host siplens forwards to (tests and
	// fuzzing keep all traffic on loopback with it).
	ForwardGuard func(host string) bool
	// Tracer, when set, records every message and decision of every call.
	Tracer *trace.Tracer
	// Metrics, when set, counts messages, calls and refusals (package metrics).
	Metrics *metrics.Metrics
}

// Server is one running siplens.
type Server struct {
	cfg     config.Config
	log     *slog.Logger
	now     func() time.Time
	domains *chain.Domains
	self    selfAddrs
	users   store.Users
	loc     store.Locations
	guard   func(host string) bool
	tracer  *trace.Tracer
	metrics *metrics.Metrics
	dialogs *dialogs.Table
	acks    *ackOrder

	ua     *sipgo.UserAgent
	sip    *sipgo.Server
	client *sipgo.Client
	chain  *chain.Chain

	udp      *net.UDPConn
	tcp      *net.TCPListener
	tcpLimit *limitListener
	stop     context.CancelFunc
	wg       sync.WaitGroup

	// Dropped counts messages that could not be parsed or answered.
	Dropped atomic.Int64
	// Panics counts panics recovered in the request path (each became a 500).
	Panics atomic.Int64
	// inProgress counts the requests being handled right now (the overload guard).
	inProgress atomic.Int64
}

// New prepares a server from a validated config; Start opens the listeners.
func New(cfg config.Config, opts Options) (*Server, error) {
	s := &Server{cfg: cfg, log: opts.Log, now: opts.Now, loc: opts.Locations, guard: opts.ForwardGuard, tracer: opts.Tracer,
		acks: newACKOrder()}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	if opts.Users == nil || opts.Locations == nil {
		return nil, errors.New("server: a user store and a location store are required")
	}
	s.metrics = opts.Metrics
	if opts.Tracer != nil || opts.Metrics != nil {
		wiretap.install() // before any listener goroutine reads sipgo's debug flag
	}
	s.metrics.SetServer(metrics.ServerStats{InProgress: s.inProgress.Load, Dropped: s.Dropped.Load, Panics: s.Panics.Load})
	cfgUsers, err := ConfigUsers(cfg)
	if err != nil {
		return nil, err
	}
	s.users = layeredUsers{first: cfgUsers, then: opts.Users}
	return s, nil
}

// Start binds the listeners and begins serving. Ports given as 0 are chosen by the system;
// Addrs tells which.
func (s *Server) Start() error {
	cfg := s.cfg
	ip := net.ParseIP(cfg.Listen.Address)
	// An IPv4 address means IPv4 only; "::" means both.
	udpNet, tcpNet := "udp", "tcp"
	if ip != nil && ip.To4() != nil {
		udpNet, tcpNet = "udp4", "tcp4"
	}
	if cfg.Listen.UDP != 0 {
		c, err := net.ListenUDP(udpNet, &net.UDPAddr{IP: ip, Port: cfg.Listen.UDP})
		if err != nil {
			return fmt.Errorf("listen on UDP %s: %w", net.JoinHostPort(cfg.Listen.Address, strconv.Itoa(cfg.Listen.UDP)), err)
		}
		// Large buffers ride out bursts (a REGISTER storm after an outage) without drops.
		_ = c.SetReadBuffer(4 << 20)
		_ = c.SetWriteBuffer(4 << 20)
		s.udp = c
	}
	if cfg.Listen.TCP != 0 {
		l, err := net.ListenTCP(tcpNet, &net.TCPAddr{IP: ip, Port: s.tcpPort()})
		if err != nil {
			s.closeListeners()
			return fmt.Errorf("listen on TCP %s: %w", net.JoinHostPort(cfg.Listen.Address, strconv.Itoa(cfg.Listen.TCP)), err)
		}
		s.tcp = l
		s.tcpLimit = newLimitListener(l, maxTCPConnections)
	}
	if err := s.build(); err != nil {
		s.closeListeners()
		return err
	}
	ctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	if s.udp != nil {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := s.sip.ServeUDP(s.udp); err != nil && !errors.Is(err, net.ErrClosed) {
				s.log.Error("UDP listener stopped", "error", err)
			}
		}()
	}
	if s.tcp != nil {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := s.sip.ServeTCP(s.tcpLimit); err != nil && !errors.Is(err, net.ErrClosed) {
				s.log.Error("TCP listener stopped", "error", err)
			}
		}()
	}
	if s.tracer != nil || s.metrics != nil {
		wiretap.attach(s.tracer, s.metrics, tapLocals(s.Addrs()))
	}
	go s.expireLoop(ctx)
	return nil
}

// Tracer is the call recorder, or nil when recording is off.
func (s *Server) Tracer() *trace.Tracer { return s.tracer }

// tcpPort: when UDP was given port 0 and TCP too, TCP takes the same number as UDP so that
// one port serves both, as SIP phones expect.
func (s *Server) tcpPort() int {
	if s.cfg.Listen.TCP == s.cfg.Listen.UDP && s.udp != nil {
		return s.udp.LocalAddr().(*net.UDPAddr).Port
	}
	return s.cfg.Listen.TCP
}

// build creates the sipgo stack and the chain once the ports are known.
func (s *Server) build() error {
	ports := map[string]int{}
	if s.udp != nil {
		ports["UDP"] = s.udp.LocalAddr().(*net.UDPAddr).Port
	}
	if s.tcp != nil {
		ports["TCP"] = s.tcp.Addr().(*net.TCPAddr).Port
	}
	s.self = newSelfAddrs(s.cfg, ports)
	s.domains = buildDomains(s.cfg, s.self)

	sipLog := slog.New(&sipgoLogHandler{next: s.log.Handler(), dropped: &s.Dropped})
	setSipgoDefaultLogger(sipLog.Handler())
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent("siplens"),
		sipgo.WithUserAgentHostname(s.self.advertise),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(sipLog),
			sip.WithTransactionLayerUnhandledResponseHandler(s.strayResponse)),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipLog),
			sip.WithTransportLayerReadFilter(s.prefilter),
			sip.WithTransportLayerTransports(sip.TransportsConfig{
				TCP: &sip.TransportTCP{ReadTimeout: tcpIdleTimeout, WriteTimeout: tcpWriteTimeout},
			})),
	)
	if err != nil {
		return fmt.Errorf("create SIP user agent: %w", err)
	}
	s.ua = ua
	// Every message read, parsed and framed (TCP included), in arrival order and before
	// the transaction layer absorbs retransmissions.
	ua.TransportLayer().OnMessage(s.arrived)
	s.sip, err = sipgo.NewServer(ua, sipgo.WithServerLogger(sipLog))
	if err != nil {
		return fmt.Errorf("create SIP server: %w", err)
	}
	s.client, err = sipgo.NewClient(ua, sipgo.WithClientHostname(s.self.advertise), sipgo.WithClientLogger(sipLog))
	if err != nil {
		return fmt.Errorf("create SIP client: %w", err)
	}
	s.chain, err = s.buildChain()
	if err != nil {
		return err
	}
	for _, m := range []sip.RequestMethod{sip.INVITE, sip.ACK, sip.CANCEL, sip.BYE, sip.REGISTER, sip.OPTIONS,
		sip.SUBSCRIBE, sip.NOTIFY, sip.REFER, sip.INFO, sip.MESSAGE, sip.PRACK, sip.UPDATE, sip.PUBLISH} {
		s.sip.OnRequest(m, s.handle)
	}
	s.sip.OnNoRoute(s.handle)
	return nil
}

// Addrs returns the bound "ip:port" per transport ("UDP", "TCP").
func (s *Server) Addrs() map[string]string {
	out := map[string]string{}
	if s.udp != nil {
		out["UDP"] = s.udp.LocalAddr().String()
	}
	if s.tcp != nil {
		out["TCP"] = s.tcp.Addr().String()
	}
	return out
}

// Domains returns the served domains.
func (s *Server) Domains() *chain.Domains { return s.domains }

// Close stops the listeners and waits for them.
func (s *Server) Close() error {
	if s.stop != nil {
		s.stop()
	}
	s.closeListeners()
	if s.ua != nil {
		s.ua.Close()
	}
	s.wg.Wait()
	if s.tracer != nil || s.metrics != nil {
		wiretap.detach(s.tracer, s.metrics, tapLocals(s.Addrs()))
	}
	return nil
}

func (s *Server) closeListeners() {
	if s.udp != nil {
		s.udp.Close()
	}
	if s.tcp != nil {
		s.tcp.Close()
	}
}

// expireLoop removes expired bindings from the store every few seconds, so the file does
// not grow with phones that went away.
func (s *Server) expireLoop(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.acks.sweep(s.now())
			if n, err := s.loc.Expire(ctx, s.now()); err != nil {
				s.log.Warn("expiring bindings failed", "error", err)
			} else if n > 0 {
				s.log.Debug("bindings expired", "count", n)
			}
		}
	}
}

// strayResponse handles a response no client transaction is waiting for: a retransmitted
// 2xx for an INVITE whose transaction is over is forwarded upstream statelessly (RFC 3261
// 16.7: a proxy relays every 2xx), anything else is dropped.
func (s *Server) strayResponse(res *sip.Response) {
	via := res.Via()
	if via == nil || !s.self.isOwnVia(via.Host, via.Port) || !res.IsSuccess() {
		return
	}
	vias := res.GetHeaders("Via")
	if len(vias) < 2 {
		return
	}
	out := res.Clone()
	out.RemoveHeader("Via") // the first, ours
	next := out.Via()
	out.SetTransport(next.Transport)
	out.SetDestination("")
	if err := s.client.TransportLayer().WriteMsg(out); err != nil {
		s.log.Debug("relaying a stray 2xx failed", "error", err)
	}
}

// arrived sees every message sipgo reads, one at a time in arrival order: it counts it
// (the messages sent are counted by the wire tap) and notes ACKs for ackOrder.
func (s *Server) arrived(msg sip.Message) {
	if s.metrics != nil {
		s.metrics.Received(msg)
	}
	if req, ok := msg.(*sip.Request); ok && req.Method == sip.ACK {
		if id := req.CallID(); id != nil {
			s.acks.read(id.Value(), s.now())
		}
	}
}

// ActiveCalls is the number of calls forwarded to a local user and not yet ended.
func (s *Server) ActiveCalls() int { return s.dialogs.Total(s.now()) }

// InProgress is the number of requests being handled right now.
func (s *Server) InProgress() int64 { return s.inProgress.Load() }
