// Package locate turns the Request-URI of an out-of-dialog request into the target set
// (RFC 3261 16.5): a local user's registered contacts, a forwarding target, or a gateway
// from a static route. It applies the user's choices (do-not-disturb, forwarding, a limit
// of simultaneous calls) and answers 404, 480, 486, 302, 403 (no open relay), 504 and 500
// in the situations README.md lists, and 200 to an OPTIONS addressed to siplens itself.
package locate

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/chain"
	"github.com/siplens/siplens/dialogs"
	"github.com/siplens/siplens/store"
	"github.com/siplens/siplens/trace"
)

// Route sends requests for numbers with a prefix, or for a foreign domain, to a gateway.
type Route struct {
	Prefix  string  // the Request-URI user starts with it ("+1", "00"); "" with Domain
	Domain  string  // the Request-URI host equals it; "" with Prefix
	Gateway sip.Uri // where such requests go
}

// Step is the locate step.
type Step struct {
	Users     store.Users
	Locations store.Locations
	Domains   *chain.Domains
	Dialogs   *dialogs.Table
	Routes    []Route
	// StoreTimeout bounds each store lookup; past it the caller gets 504.
	StoreTimeout time.Duration
	Now          func() time.Time
	// Allow is advertised in the answer to OPTIONS.
	Allow string
}

func (s *Step) Name() string { return "locate" }

// maxForwardHops bounds chains of proxy-mode forwarding between local users.
const maxForwardHops = 5

func (s *Step) Handle(ctx context.Context, w chain.ResponseWriter, r *chain.Request) error {
	req := r.SIP
	if r.InDialog() || req.Method == sip.REGISTER || req.Method == sip.ACK || req.Method == sip.CANCEL {
		return nil
	}
	if r.ToServer {
		if req.Method == sip.OPTIONS {
			// A keep-alive or capability query for siplens itself (sipsak -s, SIPp pings).
			return w.Reply(200, "", sip.NewHeader("Allow", s.Allow), sip.NewHeader("Accept", "application/sdp"))
		}
		return chain.Reject(404, fmt.Sprintf("the Request-URI %s names siplens itself, not a user", req.Recipient.String()))
	}
	if r.Domain == "" {
		err := s.outbound(r)
		if err != nil {
			record(ctx, trace.NotServed, "", 0, err)
		}
		return err
	}
	user, domain := req.Recipient.User, r.Domain
	visited := map[string]bool{}
	for hop := 0; ; hop++ {
		aor := user + "@" + domain
		if visited[aor] || hop > maxForwardHops {
			return chain.Reject(482, fmt.Sprintf("forwarding settings go round in a loop at %s", aor))
		}
		visited[aor] = true
		u, err := s.getUser(ctx, user, domain)
		if errors.Is(err, store.ErrNotFound) {
			if route, ok := s.routeFor(user, ""); ok {
				return s.toGateway(r, route, fmt.Sprintf("%s is not a local user", aor))
			}
			return record(ctx, trace.NoSuchUser, aor, 0, chain.Reject(404, fmt.Sprintf("%s is not a user of this server", aor)))
		} else if err != nil {
			return err
		}
		if u.DND != 0 {
			return record(ctx, trace.DoNotDisturb, aor, 0, chain.Reject(u.DND, fmt.Sprintf("%s has do-not-disturb on (answering %d)", aor, u.DND)))
		}
		if u.ForwardTo != "" {
			var to sip.Uri
			if err := sip.ParseUri(u.ForwardTo, &to); err != nil {
				return fmt.Errorf("forwarding target %q of %s: %w", u.ForwardTo, aor, err)
			}
			trace.Decision(ctx, trace.Event{Kind: trace.KindLocate, Verdict: trace.Forwarded, Producer: "locate", User: aor, Target: to.String(),
				Reason: fmt.Sprintf("%s forwards every call to %s (%s)", aor, to.String(), u.ForwardMode)})
			if u.ForwardMode != "proxy" {
				// Redirect: the caller's phone places the call again (RFC 3261 21.3.3).
				return chain.Reject(302, fmt.Sprintf("%s forwards every call to %s (redirect)", aor, u.ForwardTo),
					sip.NewHeader("Contact", "<"+to.String()+">"))
			}
			if d, local := s.local(to.Host); local && to.User != "" {
				user, domain = to.User, d // proxy to another local user: look that one up
				continue
			}
			r.Targets = []chain.Target{{URI: to}}
			r.Callee = aor
			return nil
		}
		if u.MaxCalls > 0 && req.Method == sip.INVITE && s.Dialogs != nil {
			if n := s.Dialogs.Count(aor, s.Now()); n >= u.MaxCalls {
				return chain.Reject(486, fmt.Sprintf("%s is already in %d calls, the limit set for the user", aor, n))
			}
		}
		return s.toContacts(ctx, r, aor)
	}
}

func (s *Step) local(host string) (string, bool) {
	if s.Domains == nil {
		return "", false
	}
	return s.Domains.Canonical(host)
}

// toContacts builds the target set from aor's registered contacts.
func (s *Step) toContacts(ctx context.Context, r *chain.Request, aor string) error {
	bindings, err := s.bindings(ctx, aor)
	if err != nil {
		return err
	}
	if len(bindings) == 0 {
		return record(ctx, trace.NoBinding, aor, 0, chain.Reject(480, fmt.Sprintf("%s exists but has no registered contact", aor)))
	}
	targets := make([]chain.Target, 0, len(bindings))
	for _, b := range bindings {
		var uri sip.Uri
		if err := sip.ParseUri(b.Contact, &uri); err != nil {
			continue // a binding we stored ourselves; cannot happen unless the file was edited
		}
		t := chain.Target{URI: uri, Q: b.Q}
		if b.NAT {
			// Behind NAT the Contact is unreachable: go where the REGISTER came from, over
			// the transport it used.
			t.Destination, t.Transport = b.Source, b.Transport
		}
		targets = append(targets, t)
	}
	if len(targets) == 0 {
		return chain.Reject(480, fmt.Sprintf("%s has bindings but none with a usable contact", aor))
	}
	sort.SliceStable(targets, func(i, j int) bool { return targets[i].Q > targets[j].Q })
	r.Targets = targets
	r.Callee = aor
	record(ctx, trace.Found, aor, len(targets), nil)
	return nil
}

// record puts the lookup's result on the call's timeline and returns err.
func record(ctx context.Context, v trace.Verdict, aor string, count int, err error) error {
	ev := trace.Event{Kind: trace.KindLocate, Verdict: v, Producer: "locate", User: aor, Count: count}
	if rej, ok := err.(*chain.Error); ok {
		ev.Code, ev.Reason = rej.Code, rej.Reason
	}
	trace.Decision(ctx, ev)
	return err
}

// outbound handles a Request-URI in a domain siplens does not serve: only an authenticated
// local user may go there, and only where a static route says how (no open relay).
func (s *Step) outbound(r *chain.Request) error {
	host := r.SIP.Recipient.Host
	route, ok := s.routeFor(r.SIP.Recipient.User, host)
	switch {
	case !ok:
		return chain.Reject(403, fmt.Sprintf("siplens does not relay to %q, a domain it does not serve", host))
	case r.AuthUser == "":
		return chain.Reject(403, fmt.Sprintf("relaying to %q is only for authenticated local users", host))
	}
	return s.toGateway(r, route, fmt.Sprintf("%q is not served here", host))
}

// toGateway sends the request to a route's gateway, keeping the Request-URI's user.
func (s *Step) toGateway(r *chain.Request, route Route, why string) error {
	if r.AuthUser == "" {
		return chain.Reject(403, why+"; its static route to a gateway is only for authenticated local users")
	}
	uri := route.Gateway
	uri.User = r.SIP.Recipient.User
	r.Targets = []chain.Target{{URI: uri}}
	return nil
}

// routeFor finds the first static route for a user part or a domain.
func (s *Step) routeFor(user, host string) (Route, bool) {
	for _, rt := range s.Routes {
		if rt.Domain != "" && strings.EqualFold(rt.Domain, host) {
			return rt, true
		}
		if rt.Prefix != "" && host == "" && strings.HasPrefix(user, rt.Prefix) {
			return rt, true
		}
	}
	return Route{}, false
}

// getUser and bindings bound each store call in time: a store that does not answer makes a
// 504, any other failure a 500 with Retry-After (RFC 3261 21.5.1, 21.5.5).
func (s *Step) getUser(ctx context.Context, user, domain string) (store.User, error) {
	ctx, cancel := s.storeContext(ctx)
	defer cancel()
	u, err := s.Users.GetUser(ctx, user, domain)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return u, s.storeError(ctx, "user "+user+"@"+domain, err)
	}
	return u, err
}

func (s *Step) bindings(ctx context.Context, aor string) ([]store.Binding, error) {
	ctx, cancel := s.storeContext(ctx)
	defer cancel()
	bs, err := s.Locations.Bindings(ctx, aor, s.Now())
	if err != nil {
		return nil, s.storeError(ctx, "bindings of "+aor, err)
	}
	return bs, nil
}

func (s *Step) storeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.StoreTimeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.StoreTimeout)
}

func (s *Step) storeError(ctx context.Context, what string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return chain.Reject(504, fmt.Sprintf("the store did not answer the lookup of %s within %s", what, s.StoreTimeout))
	}
	return chain.Reject(500, fmt.Sprintf("the store failed to look up %s: %v", what, err), sip.NewHeader("Retry-After", strconv.Itoa(5)))
}
