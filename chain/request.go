package chain

import (
	"time"

	"github.com/emiago/sipgo/sip"
)

// Request is one incoming SIP request on its way through the chain, with what the steps
// learn about it.
type Request struct {
	SIP *sip.Request
	// Source is the address the request came from ("ip:port"), which can differ from its
	// top Via behind NAT (RFC 3581).
	Source string
	// Transport is "UDP" or "TCP".
	Transport string
	// Received is when the request arrived.
	Received time.Time

	// Domain is the canonical name of the served domain the Request-URI points into, or ""
	// when the Request-URI is not ours. Set by the server before the chain runs.
	Domain string
	// ToServer is true when the Request-URI addresses siplens itself (one of its domains or
	// addresses, without a user part): OPTIONS keep-alives, REGISTER.
	ToServer bool

	// AuthUser is the local user the auth step has verified ("alice@example.com"), or "".
	AuthUser string

	// Cancelled is closed when the caller CANCELs the request (sipgo has then already
	// answered the CANCEL with 200 and the request with 487).
	Cancelled <-chan struct{}

	// Targets is the target set the locate step built for the forward step (RFC 3261 16.5).
	Targets []Target
	// Callee is the local user ("bob@example.com") the targets belong to, when there is one:
	// the forward step counts the call against that user's limit.
	Callee string
}

// Target is one place to try for a request: the URI to put in the Request-URI and, for a
// registered contact, where the phone really is (the address its REGISTER came from) so
// that phones behind NAT are reached.
type Target struct {
	URI sip.Uri
	// Destination is "ip:port" to send to; empty means resolve URI.
	Destination string
	// Transport is the transport to use ("UDP", "TCP"); empty means from URI.
	Transport string
	// Q is the contact's preference, 0..1 (RFC 3261 16.6: higher first when sequential).
	Q float64
}

// Method is a shortcut for r.SIP.Method.
func (r *Request) Method() sip.RequestMethod { return r.SIP.Method }

// CallID returns the Call-ID value or "".
func (r *Request) CallID() string {
	if h := r.SIP.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

// InDialog reports whether the request carries a To-tag, i.e. belongs to an existing dialog
// (RFC 3261 12.2).
func (r *Request) InDialog() bool {
	to := r.SIP.To()
	return to != nil && to.Params.Has("tag")
}

// CancelledNow reports whether the caller has cancelled the request.
func (r *Request) CancelledNow() bool {
	if r.Cancelled == nil {
		return false
	}
	select {
	case <-r.Cancelled:
		return true
	default:
		return false
	}
}
