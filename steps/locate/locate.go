// Package locate turns the Request-URI of an out-of-dialog request into the target set
// (RFC 3261 16.5): a local user's registered contacts. It answers 404 for a user that does
// not exist, 480 for one with no registered contact, and 200 to an OPTIONS addressed to
// siplens itself. See README.md.
package locate

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/chain"
	"github.com/siplens/siplens/store"
)

// Step is the locate step.
type Step struct {
	Users     store.Users
	Locations store.Locations
	Now       func() time.Time
	// Allow and Supported are advertised in the answer to OPTIONS.
	Allow string
}

func (s *Step) Name() string { return "locate" }

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
		// No open relay: siplens forwards only into the domains it serves.
		return chain.Reject(403, fmt.Sprintf("siplens does not relay to %q, a domain it does not serve", req.Recipient.Host))
	}
	user := req.Recipient.User
	aor := user + "@" + r.Domain
	if _, err := s.Users.GetUser(ctx, user, r.Domain); errors.Is(err, store.ErrNotFound) {
		return chain.Reject(404, fmt.Sprintf("%s is not a user of this server", aor))
	} else if err != nil {
		return fmt.Errorf("look up user %s: %w", aor, err)
	}
	bindings, err := s.Locations.Bindings(ctx, aor, s.Now())
	if err != nil {
		return fmt.Errorf("look up bindings of %s: %w", aor, err)
	}
	if len(bindings) == 0 {
		return chain.Reject(480, fmt.Sprintf("%s exists but has no registered contact", aor))
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
	return nil
}
