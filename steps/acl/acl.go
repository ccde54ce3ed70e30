// Package acl decides by source address (and User-Agent) who may talk to siplens at all:
// listed scanners are dropped without an answer, denied sources get 403, and when an
// allow list is set, only its sources get through; each served domain may narrow that
// further for requests into it. See README.md.
package acl

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/siplens/siplens/chain"
	"github.com/siplens/siplens/trace"
)

// Rules is one allow/deny pair; an empty allow list allows everyone not denied.
type Rules struct {
	Allow []netip.Prefix
	Deny  []netip.Prefix
}

// Step is the acl step.
type Step struct {
	Global Rules
	// Drop lists sources whose requests are dropped silently: an answer only tells a
	// scanner that something is listening.
	Drop []netip.Prefix
	// DropUserAgents are User-Agent substrings (case-insensitive) dropped silently, such as
	// "friendly-scanner" (SIPVicious).
	DropUserAgents []string
	// Domains narrows the rules for requests into one served (canonical) domain.
	Domains map[string]Rules
}

func (s *Step) Name() string { return "acl" }

func (s *Step) Handle(ctx context.Context, _ chain.ResponseWriter, r *chain.Request) error {
	rule, err := s.decide(r)
	if rej, ok := err.(*chain.Error); ok {
		trace.Decision(ctx, trace.Event{Kind: trace.KindACL, Verdict: trace.Denied, Producer: "acl", Code: rej.Code, Reason: rej.Reason, Rule: rule})
	}
	return err
}

// decide returns the refusal, if any, and the rule that made it: the deny or drop entry
// that matched ("" when the source is simply missing from an allow list).
func (s *Step) decide(r *chain.Request) (string, error) {
	ap, err := netip.ParseAddrPort(r.Source)
	if err != nil {
		return "", nil // not an IP source (cannot happen on UDP/TCP); nothing to match
	}
	ip := ap.Addr().Unmap()
	if p, ok := match(s.Drop, ip); ok {
		return p.String(), chain.Drop(fmt.Sprintf("source %s is on the drop list (%s)", ip, p))
	}
	if len(s.DropUserAgents) > 0 {
		if h := r.SIP.GetHeader("User-Agent"); h != nil {
			ua := strings.ToLower(h.Value())
			for _, bad := range s.DropUserAgents {
				if strings.Contains(ua, strings.ToLower(bad)) {
					return bad, chain.Drop(fmt.Sprintf("User-Agent %q matches %q on the drop list", h.Value(), bad))
				}
			}
		}
	}
	if rule, err := check(s.Global, ip, "acl"); err != nil {
		return rule, err
	}
	if rules, ok := s.Domains[r.Domain]; ok && r.Domain != "" {
		return check(rules, ip, "acl for "+r.Domain)
	}
	return "", nil
}

// check applies deny before allow, so a denied host inside an allowed network stays out.
func check(rules Rules, ip netip.Addr, what string) (string, error) {
	if p, ok := match(rules.Deny, ip); ok {
		return p.String(), chain.Reject(403, fmt.Sprintf("source %s is denied by the %s rule %s", ip, what, p))
	}
	if len(rules.Allow) > 0 {
		if _, ok := match(rules.Allow, ip); !ok {
			return "", chain.Reject(403, fmt.Sprintf("source %s is not in the %s allow list", ip, what))
		}
	}
	return "", nil
}

func match(prefixes []netip.Prefix, ip netip.Addr) (netip.Prefix, bool) {
	for _, p := range prefixes {
		if p.Contains(ip) {
			return p, true
		}
	}
	return netip.Prefix{}, false
}
