// Package forward is the last step: it sends the request to its targets, one client
// transaction per branch, relays what comes back, and chooses the response for the caller
// (RFC 3261 16.6-16.10): provisional responses are relayed, the first 2xx wins and the other
// branches are cancelled, a 6xx ends the search, Timer C bounds ringing, and when every
// branch has answered the best final response goes back. See README.md.
package forward

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/chain"
	"github.com/siplens/siplens/dialogs"
)

// Self is how siplens names itself in Via and Record-Route.
type Self struct {
	Host  string
	Ports map[string]int // "UDP" -> 5060
}

// Step is the forward step.
type Step struct {
	Client *sipgo.Client
	Self   Self
	// IsSelf reports whether a URI (a Route entry or Request-URI) points at siplens.
	IsSelf      func(uri sip.Uri) bool
	RecordRoute bool
	// Sequential tries the targets in groups of equal q, highest first, instead of all at
	// once; each group rings for up to NoAnswer.
	Sequential bool
	// NoAnswer is Timer C (RFC 3261 16.6 step 11).
	NoAnswer time.Duration
	// Dialogs counts each callee's calls in progress (for the per-user call limit).
	Dialogs *dialogs.Table
	Now     func() time.Time
	// Guard, when set, vets every destination before anything is sent there; tests and
	// fuzzing use it to keep traffic on loopback whatever the input says.
	Guard func(host string) bool
	Log   *slog.Logger
}

func (s *Step) Name() string { return "forward" }

// noBuild tells sipgo that the request is complete: a proxy's copy must not get a new
// From, Call-ID or CSeq.
func noBuild(*sipgo.Client, *sip.Request) error { return nil }

func (s *Step) Handle(ctx context.Context, w chain.ResponseWriter, r *chain.Request) error {
	req := r.SIP
	switch {
	case req.Method == sip.ACK:
		return s.forwardACK(r)
	case req.Method == sip.CANCEL:
		// sipgo answers every CANCEL that matches a transaction; this one matched none.
		return chain.Reject(481, "CANCEL for a transaction siplens does not know (already answered, or never seen)")
	case r.InDialog():
		target, err := s.dialogTarget(r)
		if err != nil {
			return err
		}
		r.Targets = []chain.Target{*target}
		if req.Method == sip.BYE && s.Dialogs != nil {
			s.Dialogs.End(r.CallID()) // the call is over, whoever answers the BYE
		}
		return s.fork(ctx, w, r, false)
	case len(r.Targets) > 0:
		return s.fork(ctx, w, r, true)
	}
	return fmt.Errorf("forward: no target for %s %s", req.Method, req.Recipient.String())
}

// dialogTarget applies loose routing (RFC 3261 16.4 and 16.12): our own Route entry is
// removed; the next Route, or else the Request-URI, says where the request goes.
// siplens relays in-dialog requests only for dialogs it record-routed, i.e. when the top
// Route is siplens: anything else would make it an open relay for forged BYEs and
// MESSAGEs (phones of a dialog that siplens did not record-route talk directly).
func (s *Step) dialogTarget(r *chain.Request) (*chain.Target, error) {
	req := r.SIP
	route := req.Route()
	if route == nil || !s.IsSelf(route.Address) {
		if s.IsSelf(req.Recipient) {
			return nil, chain.Reject(481, "in-dialog request for siplens itself, which holds no dialogs")
		}
		return nil, chain.Reject(404, "in-dialog request whose route does not pass through siplens: not relayed")
	}
	var t chain.Target
	routes := slices.Collect(chain.Named(req, "Route"))
	if next, ok := nextRoute(routes); ok {
		// The entry after ours is the next hop (the copy made by prepare drops ours).
		t = chain.Target{URI: req.Recipient, Destination: uriHostPort(next.Address), Transport: uriTransport(next.Address)}
	} else {
		t = chain.Target{URI: req.Recipient}
	}
	if !s.allowed(t) {
		return nil, chain.Reject(403, "destination refused by the forwarding guard")
	}
	return &t, nil
}

// allowed applies the Guard to a target's destination host.
func (s *Step) allowed(t chain.Target) bool {
	if s.Guard == nil {
		return true
	}
	host := t.URI.Host
	if t.Destination != "" {
		if h, _, err := net.SplitHostPort(t.Destination); err == nil {
			host = h
		}
	}
	return s.Guard(host)
}

// forwardACK sends an ACK for a 2xx on along the route set, statelessly: it has no
// transaction of its own (RFC 3261 16.11). An ACK that is not ours to relay is absorbed.
func (s *Step) forwardACK(r *chain.Request) error {
	target, err := s.dialogTarget(r)
	if err != nil {
		return nil // an ACK gets no answer, whatever is wrong with it
	}
	// The ACK of a 2xx is edited in place rather than copied: no transaction holds it
	// (sipgo passes it up without one) and nothing reads it after this step.
	out := s.adapt(r, r.SIP, *target, false)
	if err := s.Client.TransportLayer().WriteMsg(out); err != nil {
		s.Log.Debug("forwarding ACK failed", "call_id", r.CallID(), "error", err)
	}
	return nil
}

// prepare makes the copy of the request for one target (RFC 3261 16.6 steps 1-8).
func (s *Step) prepare(r *chain.Request, t chain.Target, newDialog bool) *sip.Request {
	return s.adapt(r, r.SIP.Clone(), t, newDialog)
}

// adapt makes the changes of RFC 3261 16.6 steps 2-8 to out, a copy of r.SIP or r.SIP
// itself.
func (s *Step) adapt(r *chain.Request, out *sip.Request, t chain.Target, newDialog bool) *sip.Request {
	branch := chain.NewBranch(r.SIP) // before any change, out may be r.SIP
	// RFC 3261 16.4: a Route entry naming siplens (a phone's outbound proxy setting, or our
	// own Record-Route in a dialog) has done its job here and comes off; what remains, or
	// else the Request-URI, says where the request goes next.
	// (Has first: sipgo's Route() allocates on every call when there is none, the usual case.)
	if chain.Has(out, "Route") {
		if route := out.Route(); route != nil && s.IsSelf(route.Address) {
			removeTopRoute(out)
		}
	}
	if !r.InDialog() {
		out.Recipient = t.URI // step 2
	}
	// Step 3: Max-Forwards. 0 was refused by sanity (483); absent means add 70.
	if mf := out.MaxForwards(); mf != nil {
		mf.Dec()
	} else {
		v := sip.MaxForwardsHeader(70)
		out.AppendHeader(&v)
	}
	transport := t.Transport
	if transport == "" {
		transport = "UDP"
		if tp, ok := t.URI.UriParams.Get("transport"); ok {
			transport = normalTransport(tp)
		}
	}
	// Step 4: Record-Route for requests that can make a dialog.
	if newDialog && s.RecordRoute && out.Method != sip.REGISTER {
		out.PrependHeader(&sip.RecordRouteHeader{Address: s.selfURI(transport)})
	}
	// RFC 3261 18.2.1 / RFC 3581: note where the previous hop really sent from.
	markReceived(out.Via(), r.Source)
	// Step 8: our Via, with a branch that carries the loop hash.
	via := &sip.ViaHeader{
		ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: transport,
		Host: s.Self.Host, Port: s.Self.Ports[transport],
	}
	via.Params.Add("branch", branch)
	via.Params.Add("rport", "")
	out.PrependHeader(via)
	out.SetTransport(transport)
	if t.Destination != "" {
		out.SetDestination(t.Destination)
	} else {
		out.SetDestination("")
	}
	return out
}

func (s *Step) selfURI(transport string) sip.Uri {
	u := sip.Uri{Scheme: "sip", Host: s.Self.Host, Port: s.Self.Ports[transport]}
	u.UriParams = sip.NewParams()
	u.UriParams.Add("transport", lower(transport))
	u.UriParams.Add("lr", "")
	return u
}

// markReceived adds received= (and fills rport=) to the previous hop's Via when the
// packet came from another address than the Via claims.
func markReceived(via *sip.ViaHeader, source string) {
	if via == nil || source == "" {
		return
	}
	host, port, err := net.SplitHostPort(source)
	if err != nil {
		return
	}
	if via.Host != host {
		via.Params.Remove("received")
		via.Params.Add("received", host)
	}
	if v, ok := via.Params.Get("rport"); ok && v == "" {
		via.Params.Remove("rport")
		via.Params.Add("rport", port)
	}
}

func nextRoute(routes []sip.Header) (*sip.RouteHeader, bool) {
	if len(routes) < 2 {
		return nil, false
	}
	next, ok := routes[1].(*sip.RouteHeader)
	return next, ok
}

// removeTopRoute drops the first Route entry (sipgo's RemoveHeader removes only the first
// header of that name).
func removeTopRoute(req *sip.Request) {
	req.RemoveHeader("Route")
}

func uriHostPort(u sip.Uri) string {
	port := u.Port
	if port == 0 {
		port = 5060
		if u.IsEncrypted() {
			port = 5061
		}
	}
	return net.JoinHostPort(u.Host, strconv.Itoa(port))
}

func uriTransport(u sip.Uri) string {
	if tp, ok := u.UriParams.Get("transport"); ok {
		return normalTransport(tp)
	}
	return ""
}

func normalTransport(tp string) string {
	switch tp {
	case "tcp", "TCP":
		return "TCP"
	case "tls", "TLS":
		return "TLS"
	}
	return "UDP"
}

func lower(tp string) string {
	switch tp {
	case "TCP":
		return "tcp"
	case "TLS":
		return "tls"
	}
	return "udp"
}

// errCode maps a client transaction's end to the code RFC 3261 16.7/16.9 says to count
// for that branch.
func errCode(err error) (int, string) {
	switch {
	case errors.Is(err, sip.ErrTransactionTimeout):
		return 408, "the contact never answered (Timer B/F expired)"
	case errors.Is(err, sip.ErrTransactionTransport):
		return 503, "the request could not be sent to the contact (transport error)"
	}
	return 408, fmt.Sprintf("the branch ended without a final answer: %v", err)
}
