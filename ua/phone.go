package ua

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Config describes one phone.
type Config struct {
	// AOR is who the phone is: the From of its requests and the address it registers.
	AOR sip.Uri
	// Password answers digest challenges (401/407); AuthUser is the digest user name
	// (default: the user part of AOR).
	Password string
	AuthUser string
	// Proxy is the outbound proxy, "host:port": every request outside a dialog goes
	// there, with a Route header naming it (RFC 3261 8.1.2). Empty: each request goes to
	// the host of its Request-URI (port 5060 when the URI has none).
	Proxy string
	// Transport is "udp" (default) or "tcp".
	Transport string
	// Listen is the local "ip:port" to bind. Empty: the local address the system uses to
	// reach the first hop (the proxy, or Near), on a port the system chooses.
	Listen string
	// Near is the first hop to choose the local address for when there is no Proxy
	// ("host:port"), e.g. the target of an OPTIONS probe.
	Near string
	// UserAgent is the User-Agent header (default "siplens").
	UserAgent string
	// Log receives sipgo's own diagnostics (default: discarded).
	Log *slog.Logger
	// OnEvent is called with every event of every call, registration and probe, from
	// several goroutines: it must be safe for concurrent use.
	OnEvent func(Event)
}

// Phone is a SIP user agent bound to one local address and transport: it registers, calls,
// answers and probes. Close releases it.
type Phone struct {
	cfg       Config
	transport string // "UDP" or "TCP"
	ua        *sipgo.UserAgent
	srv       *sipgo.Server
	client    *sipgo.Client

	udp       *net.UDPConn
	tcp       *net.TCPListener
	bind      sip.Addr // the bound socket address (Laddr of UDP requests)
	contactIP string   // the address in Contact, Via and SDP
	port      int

	wg     sync.WaitGroup
	closed chan struct{}
	once   sync.Once

	mu      sync.Mutex
	dialogs map[string]*uacDialog // established outgoing calls, by Call-ID
	ans     *answerer             // nil: incoming calls get 486
	reg     regState
}

// New binds the phone's socket and starts serving incoming requests.
func New(cfg Config) (*Phone, error) {
	if cfg.AOR.Host == "" && cfg.Proxy == "" && cfg.Near == "" {
		return nil, errors.New("ua: Config.AOR (or Proxy or Near) is required")
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "siplens"
	}
	if cfg.AuthUser == "" {
		cfg.AuthUser = cfg.AOR.User
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	p := &Phone{cfg: cfg, closed: make(chan struct{}), dialogs: map[string]*uacDialog{}}
	switch strings.ToLower(cfg.Transport) {
	case "", "udp":
		p.transport = "UDP"
	case "tcp":
		p.transport = "TCP"
	default:
		return nil, fmt.Errorf("transport %q: use udp or tcp", cfg.Transport)
	}
	if cfg.Proxy != "" {
		hp, err := ParseHostPort(cfg.Proxy, 5060)
		if err != nil {
			return nil, fmt.Errorf("proxy: %w", err)
		}
		p.cfg.Proxy = hp
	}
	if err := p.listen(); err != nil {
		return nil, err
	}
	if p.cfg.AOR.Host == "" {
		// A phone that only probes: it is "USER@its own address".
		p.cfg.AOR = sip.Uri{Scheme: "sip", User: p.cfg.AOR.User, Host: p.contactIP}
		if p.cfg.AOR.User == "" {
			p.cfg.AOR.User = "siplens"
		}
	}
	if p.cfg.AOR.Scheme == "" {
		p.cfg.AOR.Scheme = "sip"
	}
	if err := p.build(); err != nil {
		p.closeSockets()
		return nil, err
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		var err error
		if p.udp != nil {
			err = p.srv.ServeUDP(p.udp)
		} else {
			err = p.srv.ServeTCP(p.tcp)
		}
		if err != nil && !errors.Is(err, net.ErrClosed) {
			p.cfg.Log.Debug("listener stopped", "error", err)
		}
	}()
	if p.udp != nil {
		// Requests leave through the listening socket (its address is their Laddr), which
		// sipgo finds in its pool only once Serve has put it there.
		pool := p.ua.TransportLayer().Pool("udp")
		deadline := time.Now().Add(5 * time.Second)
		for {
			if c := pool.Get(p.bind.String()); c != nil {
				c.TryClose()
				break
			}
			if time.Now().After(deadline) {
				p.Close()
				return nil, errors.New("ua: the UDP listener did not start")
			}
			time.Sleep(time.Millisecond)
		}
	}
	return p, nil
}

// firstHop is where the phone's first request goes: the proxy, Near, or the AOR's domain.
func (p *Phone) firstHop() string {
	if p.cfg.Proxy != "" {
		return p.cfg.Proxy
	}
	if p.cfg.Near != "" {
		return p.cfg.Near
	}
	port := p.cfg.AOR.Port
	if port == 0 {
		port = 5060
	}
	return net.JoinHostPort(p.cfg.AOR.Host, strconv.Itoa(port))
}

// localIPToward returns the local address the system would use to send to hostport. No
// packet is sent (a UDP "connect" only picks the route).
func localIPToward(hostport string) (string, error) {
	c, err := net.Dial("udp", hostport)
	if err != nil {
		return "", fmt.Errorf("cannot find a route to %s: %w", hostport, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).IP.String(), nil
}

func (p *Phone) listen() error {
	listen := p.cfg.Listen
	var host string
	port := 0
	if listen != "" {
		hp, err := ParseHostPort(listen, 0)
		if err != nil {
			return fmt.Errorf("listen: %w", err)
		}
		h, ps, _ := net.SplitHostPort(hp)
		host = h
		port, _ = strconv.Atoi(ps)
	}
	ip := net.ParseIP(host)
	if host != "" && ip == nil {
		addrs, err := net.LookupIP(host)
		if err != nil || len(addrs) == 0 {
			return fmt.Errorf("listen: cannot resolve %q: %v", host, err)
		}
		ip = addrs[0]
	}
	if ip == nil {
		s, err := localIPToward(p.firstHop())
		if err != nil {
			return err
		}
		ip = net.ParseIP(s)
	}
	p.contactIP = ip.String()
	if ip.IsUnspecified() {
		s, err := localIPToward(p.firstHop())
		if err != nil {
			return err
		}
		p.contactIP = s
	}
	network := "4"
	if ip.To4() == nil {
		network = "6"
	}
	if p.transport == "UDP" {
		c, err := net.ListenUDP("udp"+network, &net.UDPAddr{IP: ip, Port: port})
		if err != nil {
			return fmt.Errorf("listen on UDP %s: %w", net.JoinHostPort(ip.String(), strconv.Itoa(port)), err)
		}
		p.udp = c
		a := c.LocalAddr().(*net.UDPAddr)
		p.port = a.Port
		p.bind = sip.Addr{IP: a.IP, Port: a.Port}
		return nil
	}
	l, err := net.ListenTCP("tcp"+network, &net.TCPAddr{IP: ip, Port: port})
	if err != nil {
		return fmt.Errorf("listen on TCP %s: %w", net.JoinHostPort(ip.String(), strconv.Itoa(port)), err)
	}
	p.tcp = l
	a := l.Addr().(*net.TCPAddr)
	p.port = a.Port
	// Outgoing TCP connections start from the bound IP and a port of the system's choice
	// (a socket cannot connect from a port it listens on); Via and Contact name the
	// listening port, where new connections reach the phone.
	p.bind = sip.Addr{IP: a.IP}
	if a.IP.IsUnspecified() {
		p.bind = sip.Addr{}
	}
	return nil
}

func (p *Phone) build() error {
	log := p.cfg.Log
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent(p.cfg.UserAgent),
		sipgo.WithUserAgentHostname(p.contactIP),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(log),
			sip.WithTransactionLayerUnhandledResponseHandler(p.strayResponse)),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(log)),
	)
	if err != nil {
		return err
	}
	p.ua = ua
	if p.srv, err = sipgo.NewServer(ua, sipgo.WithServerLogger(log)); err != nil {
		return err
	}
	if p.client, err = sipgo.NewClient(ua, sipgo.WithClientHostname(p.contactIP), sipgo.WithClientPort(p.port), sipgo.WithClientLogger(log)); err != nil {
		return err
	}
	p.srv.OnInvite(p.onInvite)
	p.srv.OnAck(p.onAck)
	p.srv.OnBye(p.onBye)
	p.srv.OnCancel(func(req *sip.Request, tx sip.ServerTransaction) {
		// A CANCEL that matches a pending INVITE never gets here: sipgo answers it (200,
		// then 487 to the INVITE). This one matches nothing (RFC 3261 9.2).
		p.respond(req, tx, 481, "Call/Transaction Does Not Exist")
	})
	p.srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		res.AppendHeader(sip.NewHeader("Allow", allowed))
		res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
		_ = tx.Respond(res)
	})
	p.srv.OnNoRoute(func(req *sip.Request, tx sip.ServerTransaction) {
		res := sip.NewResponseFromRequest(req, 405, "Method Not Allowed", nil)
		res.AppendHeader(sip.NewHeader("Allow", allowed))
		_ = tx.Respond(res)
	})
	return nil
}

// allowed are the methods the phone handles.
const allowed = "INVITE, ACK, CANCEL, BYE, OPTIONS"

func (p *Phone) strayResponse(res *sip.Response) {
	// Retransmitted final responses after their transaction ended, 200s to a CANCEL that
	// lost the race: nothing to do.
	p.cfg.Log.Debug("response matches no transaction", "status", res.StatusCode, "cseq", res.CSeq())
}

func (p *Phone) respond(req *sip.Request, tx sip.ServerTransaction, code int, reason string) {
	_ = tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil))
}

// Close ends every call and stops the phone. It does not unregister: use Unregister (or
// KeepRegistered, which unregisters when its context ends) first.
func (p *Phone) Close() error {
	p.once.Do(func() {
		close(p.closed)
		p.mu.Lock()
		ans := p.ans
		p.mu.Unlock()
		if ans != nil {
			ans.wait()
		}
		p.ua.Close()
		p.closeSockets()
		p.wg.Wait()
	})
	return nil
}

func (p *Phone) closeSockets() {
	if p.udp != nil {
		p.udp.Close()
	}
	if p.tcp != nil {
		p.tcp.Close()
	}
}

// Addr is the local "ip:port" the phone listens on (as written in its Contact).
func (p *Phone) Addr() string { return net.JoinHostPort(p.contactIP, strconv.Itoa(p.port)) }

// Transport is "UDP" or "TCP".
func (p *Phone) Transport() string { return p.transport }

// AOR is the phone's address-of-record.
func (p *Phone) AOR() sip.Uri { return p.cfg.AOR }

// ContactURI is the phone's Contact: where requests reach it.
func (p *Phone) ContactURI() sip.Uri {
	u := sip.Uri{Scheme: "sip", User: p.cfg.AOR.User, Host: p.contactIP, Port: p.port}
	if p.transport == "TCP" {
		u.UriParams = sip.HeaderParams{{K: "transport", V: "tcp"}}
	}
	return u
}

func (p *Phone) contactHeader() *sip.ContactHeader {
	return &sip.ContactHeader{Address: p.ContactURI()}
}

func (p *Phone) emit(e Event) {
	if p.cfg.OnEvent != nil {
		if e.Time.IsZero() {
			e.Time = time.Now()
		}
		p.cfg.OnEvent(e)
	}
}

// newRequest builds a request outside any dialog (RFC 3261 8.1.1): Via with a new branch,
// From, To, Call-ID, CSeq, Max-Forwards, Contact, User-Agent, and the outbound proxy as a
// pre-loaded Route.
func (p *Phone) newRequest(method sip.RequestMethod, ruri, to sip.Uri, callID, fromTag string, cseq uint32) *sip.Request {
	req := sip.NewRequest(method, ruri)
	req.AppendHeader(p.via())
	if p.cfg.Proxy != "" {
		req.AppendHeader(&sip.RouteHeader{Address: p.proxyURI()})
	}
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	from := &sip.FromHeader{Address: p.cfg.AOR, Params: sip.NewParams()}
	from.Params.Add("tag", fromTag)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: to, Params: sip.NewParams()})
	cid := sip.CallIDHeader(callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: method})
	if method == sip.INVITE || method == sip.REGISTER {
		req.AppendHeader(p.contactHeader())
	}
	req.AppendHeader(sip.NewHeader("User-Agent", p.cfg.UserAgent))
	req.SetBody(nil)
	p.route(req)
	return req
}

// via is a new top Via for a request the phone sends (RFC 3261 8.1.1.7), with rport
// (RFC 3581) so that a server replies to the address the request came from.
func (p *Phone) via() *sip.ViaHeader {
	v := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: p.transport,
		Host: p.contactIP, Port: p.port, Params: sip.NewParams()}
	v.Params.Add("branch", sip.GenerateBranchN(16))
	v.Params.Add("rport", "")
	return v
}

func (p *Phone) proxyURI() sip.Uri {
	host, port, _ := net.SplitHostPort(p.cfg.Proxy)
	n, _ := strconv.Atoi(port)
	u := sip.Uri{Scheme: "sip", Host: host, Port: n, UriParams: sip.HeaderParams{{K: "lr", V: ""}}}
	if p.transport == "TCP" {
		u.UriParams = append(u.UriParams, sip.HeaderKV{K: "transport", V: "tcp"})
	}
	return u
}

// route sets the transport and the local socket of a request. Its destination follows
// from its first Route, or else its Request-URI (sipgo's Request.Destination).
func (p *Phone) route(req *sip.Request) {
	req.SetTransport(p.transport)
	if p.bind.IP != nil {
		req.Laddr = sip.Addr{IP: p.bind.IP, Port: p.bind.Port}
	}
}

// send opens a client transaction for req and records it.
func (p *Phone) send(req *sip.Request, rec *recorder) (*sip.ClientTx, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tx, err := p.ua.TransactionLayer().Request(ctx, req)
	if err != nil {
		rec.note("could not send %s to %s: %v", req.Method, req.Destination(), err)
		return nil, err
	}
	rec.sent(req, p.Addr())
	return tx, nil
}

// errTimeout says that no final response came in time (Timer B or F, RFC 3261 17.1).
var errTimeout = errors.New("no final response (transaction timed out)")

// do sends a non-INVITE request and waits for its final response, recording every
// response. It returns errTimeout when the transaction times out.
func (p *Phone) do(ctx context.Context, req *sip.Request, rec *recorder) (*sip.Response, error) {
	tx, err := p.send(req, rec)
	if err != nil {
		return nil, err
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			rec.received(res, p.Addr())
			if res.IsProvisional() {
				continue
			}
			return res, nil
		case <-tx.Done():
			return nil, txError(tx.Err())
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-p.closed:
			return nil, errors.New("phone closed")
		}
	}
}

func txError(err error) error {
	if err == nil || errors.Is(err, sip.ErrTransactionTimeout) {
		return errTimeout
	}
	return err
}

// onInvite: a new call for the answerer; a re-INVITE in one of our calls is refused
// without ending the call (RFC 3261 14.2); with no answerer the phone is busy.
func (p *Phone) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		p.respond(req, tx, 488, "Not Acceptable Here")
		return
	}
	p.mu.Lock()
	ans := p.ans
	p.mu.Unlock()
	select {
	case <-p.closed:
		ans = nil
	default:
	}
	if ans == nil {
		p.emit(Event{Type: EventNote, CallID: req.CallID().Value(), Text: fmt.Sprintf("incoming INVITE from %s while not answering calls: 486 Busy Here", req.From().Address.String())})
		p.respond(req, tx, 486, "Busy Here")
		return
	}
	ans.handleInvite(req, tx)
}

func (p *Phone) onAck(req *sip.Request, tx sip.ServerTransaction) {
	p.mu.Lock()
	ans := p.ans
	p.mu.Unlock()
	if ans != nil {
		ans.handleAck(req, tx)
	}
}

func (p *Phone) onBye(req *sip.Request, tx sip.ServerTransaction) {
	p.mu.Lock()
	d := p.dialogs[req.CallID().Value()]
	ans := p.ans
	p.mu.Unlock()
	if d != nil && d.matches(req) {
		d.remoteBye(req, tx)
		return
	}
	if ans != nil && ans.handleBye(req, tx) {
		return
	}
	p.respond(req, tx, 481, "Call/Transaction Does Not Exist")
}

func newCallID(host string) string {
	return sip.GenerateTagN(20) + "@" + host
}

func (p *Phone) contactString() string {
	u := p.ContactURI()
	return u.String()
}
