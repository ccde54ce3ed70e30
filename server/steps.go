package server

import (
	"crypto/rand"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/chain"
	"github.com/siplens/siplens/config"
	"github.com/siplens/siplens/dialogs"
	"github.com/siplens/siplens/digest"
	"github.com/siplens/siplens/steps/acl"
	"github.com/siplens/siplens/steps/auth"
	"github.com/siplens/siplens/steps/forward"
	"github.com/siplens/siplens/steps/locate"
	"github.com/siplens/siplens/steps/media"
	"github.com/siplens/siplens/steps/ratelimit"
	"github.com/siplens/siplens/steps/registrar"
	"github.com/siplens/siplens/steps/sanity"
)

// buildChain puts the steps in their fixed order; the config only tunes them.
// The order is the request path: sanity -> acl -> ratelimit -> auth -> registrar ->
// locate -> media -> forward.
func (s *Server) buildChain() (*chain.Chain, error) {
	cfg := s.cfg
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("nonce secret: %w", err)
	}
	nonces, err := digest.NewNonces(secret, cfg.Auth.NonceLifetime.Duration, s.now)
	if err != nil {
		return nil, fmt.Errorf("nonces: %w", err)
	}
	var algs []digest.Algorithm
	for _, a := range cfg.Auth.Algorithms {
		algs = append(algs, digest.Algorithm(a))
	}
	verifier, err := digest.NewVerifier(digest.Options{Nonces: nonces, Algorithms: algs})
	if err != nil {
		return nil, err
	}
	var trusted []netip.Prefix
	for _, t := range cfg.Auth.Trusted {
		p, err := config.ParsePrefix(t)
		if err != nil {
			return nil, err
		}
		trusted = append(trusted, p)
	}
	prefixes := func(items []string) []netip.Prefix {
		var out []netip.Prefix
		for _, it := range items {
			if p, err := config.ParsePrefix(it); err == nil { // validated with the config
				out = append(out, p)
			}
		}
		return out
	}
	aclStep := &acl.Step{
		Global:         acl.Rules{Allow: prefixes(cfg.ACL.Allow), Deny: prefixes(cfg.ACL.Deny)},
		Drop:           prefixes(cfg.ACL.Drop),
		DropUserAgents: cfg.ACL.DropUserAgents,
		Domains:        map[string]acl.Rules{},
	}
	for d, rules := range cfg.ACL.Domains {
		canonical, _ := s.domains.Canonical(d)
		aclStep.Domains[canonical] = acl.Rules{Allow: prefixes(rules.Allow), Deny: prefixes(rules.Deny)}
	}
	rl := cfg.RateLimit
	limitStep := &ratelimit.Step{
		MaxInProgress: int64(rl.MaxInProgress), InProgress: s.inProgress.Load,
		RetryAfter: rl.RetryAfter, Exempt: prefixes(rl.Exempt), Now: s.now, Metrics: s.rateLimitCounter(),
	}
	if rl.PerSource > 0 {
		limitStep.PerSource = ratelimit.NewBuckets(rl.PerSource, rl.PerSourceBurst)
	}
	if rl.Total > 0 {
		limitStep.Total = ratelimit.NewBucket(rl.Total, rl.TotalBurst)
	}
	var routes []locate.Route
	for _, rt := range cfg.Routes {
		var gw sip.Uri
		if err := sip.ParseUri(rt.Gateway, &gw); err != nil {
			return nil, fmt.Errorf("route to %s: %w", rt.Gateway, err)
		}
		routes = append(routes, locate.Route{Prefix: rt.Prefix, Domain: strings.ToLower(rt.Domain), Gateway: gw})
	}
	s.dialogs = dialogs.New(12 * time.Hour)
	log := s.log
	return chain.New(
		&sanity.Step{MaxMessageSize: cfg.Proxy.MaxMessageSize, IsOwnVia: s.self.isOwnVia,
			// UDP datagrams went through s.prefilter: size and bare line breaks are checked.
			Prefiltered: func(req *sip.Request) bool { return req.Transport() == "UDP" }},
		aclStep,
		limitStep,
		&auth.Step{
			Verifier: verifier, Users: s.users, Domains: s.domains,
			Realm:    func(d string) string { return Realm(cfg, d) },
			Register: cfg.Auth.RegisterAuthOn(), Calls: cfg.Auth.CallsAuthOn(), Trusted: trusted,
			Lockout: auth.NewLockout(cfg.Auth.Lockout.MaxFailures, cfg.Auth.Lockout.Window.Duration, cfg.Auth.Lockout.Cooldown.Duration),
			Now:     s.now, Metrics: s.authCounter(),
		},
		&registrar.Step{
			Domains: s.domains, Users: s.users, Locations: s.loc,
			MinExpires: cfg.Registrar.MinExpires, MaxExpires: cfg.Registrar.MaxExpires,
			DefaultExpires: cfg.Registrar.DefaultExpires, MaxContacts: cfg.Registrar.MaxContacts,
			Now: s.now, Log: log,
		},
		&locate.Step{
			Users: s.users, Locations: s.loc, Domains: s.domains, Dialogs: s.dialogs, Routes: routes,
			StoreTimeout: cfg.Proxy.StoreTimeout.Duration, Now: s.now, Allow: sanity.Allow,
		},
		&media.Step{Codecs: cfg.Media.Codecs, Global: cfg.Media.Global},
		&forward.Step{
			Client:      s.client,
			Self:        forward.Self{Host: s.self.advertise, Ports: s.self.ports},
			IsSelf:      func(u sip.Uri) bool { return s.self.isSelfURI(u, s.domains) },
			RecordRoute: cfg.Proxy.RecordRouteOn(), Sequential: cfg.Proxy.Forking == "sequential", NoAnswer: cfg.Proxy.NoAnswerTimeout.Duration,
			Dialogs: s.dialogs, Now: s.now, Guard: s.guard, Log: log,
		},
	), nil
}
