// Package auth verifies who is asking (RFC 3261 22, RFC 7616, RFC 8760). A REGISTER for a
// served domain must carry valid digest credentials, or gets a 401 challenge; an
// out-of-dialog request from a user of a served domain (a call, a MESSAGE) must carry
// proxy credentials, or gets a 407. A wrong password, an unknown user, a forged or
// replayed nonce all get a fresh challenge, the same one, so a scanner cannot tell which
// users exist; an expired nonce gets stale=true. Too many failures from one source or for
// one user lock it out for a while (403). See README.md.
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/chain"
	"github.com/siplens/siplens/digest"
	"github.com/siplens/siplens/store"
	"github.com/siplens/siplens/trace"
)

// Step is the auth step.
type Step struct {
	Verifier *digest.Verifier
	Users    store.Users
	Domains  *chain.Domains
	// Realm gives the digest realm for a canonical domain.
	Realm func(domain string) string
	// Register switches authentication of REGISTER on.
	Register bool
	// Calls switches authentication of out-of-dialog requests from local users on.
	Calls bool
	// Trusted sources skip authentication.
	Trusted []netip.Prefix
	// Lockout, when set, locks sources and users out after repeated failures.
	Lockout *Lockout
	Now     func() time.Time
	// Metrics, when set, counts the verdicts and lockouts.
	Metrics Counter
}

// kind is the flavour of challenge: a registrar's (401) or a proxy's (407).
type kind struct {
	code         int
	credentials  string // header the phone answers in
	challengeHdr string // header we challenge in
}

var (
	registrarAuth = kind{401, "Authorization", "WWW-Authenticate"}
	proxyAuth     = kind{407, "Proxy-Authorization", "Proxy-Authenticate"}
)

func (s *Step) Name() string { return "auth" }

func (s *Step) Handle(ctx context.Context, w chain.ResponseWriter, r *chain.Request) error {
	req := r.SIP
	if s.trusted(r.Source) {
		if req.Method == sip.REGISTER || req.Method == sip.INVITE {
			trace.Decision(ctx, trace.Event{Kind: trace.KindAuth, Verdict: trace.Trusted, Producer: "auth", Reason: "source " + r.Source + " is trusted: no authentication asked"})
		}
		return nil
	}
	var (
		k    kind
		host string
	)
	switch {
	case req.Method == sip.REGISTER:
		if !s.Register {
			return nil
		}
		k, host = registrarAuth, req.To().Address.Host // the address-of-record being changed
	case s.Calls && !r.InDialog() && !r.ToServer && req.Method != sip.ACK && req.Method != sip.CANCEL:
		// (Requests to siplens itself, such as OPTIONS keep-alives, are answered without a
		// challenge: they reach no user and reveal nothing.)
		// A request that claims to come from one of our users must prove it; requests
		// from other domains (calls coming in from elsewhere) are not ours to check.
		k, host = proxyAuth, req.From().Address.Host
	default:
		return nil
	}
	domain, ok := s.Domains.Canonical(host)
	if !ok {
		return nil // not ours: the registrar or locate refuses it
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	source := sourceIP(r.Source)
	note := func(v trace.Verdict, user string, err error) error {
		ev := trace.Event{Kind: trace.KindAuth, Verdict: v, Producer: "auth", User: user}
		if rej, ok := err.(*chain.Error); ok {
			ev.Code, ev.Reason = rej.Code, rej.Reason
		}
		trace.Decision(ctx, ev)
		s.countVerdict(v)
		return err
	}
	if locked, until := s.Lockout.Locked("source "+source, now); locked {
		return note(trace.LockedOut, "", lockedOut("the source "+source, until, now))
	}
	realm := s.Realm(domain)
	cred, found, err := credentialsFor(req, k.credentials, realm)
	if err != nil {
		return chain.RejectPhrase(400, "Bad "+k.credentials+" header", err.Error())
	}
	if !found {
		return note(trace.Challenged, "", s.challenge(k, realm, false, "no credentials yet: challenge sent"))
	}
	aor := cred.Username + "@" + domain
	if locked, until := s.Lockout.Locked("user "+aor, now); locked {
		return note(trace.LockedOut, aor, lockedOut(aor, until, now))
	}
	user, err := s.Users.GetUser(ctx, cred.Username, domain)
	ha1 := ""
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Verified against no HA1: the outcome is WrongPassword, exactly as for a known user
		// with a wrong password.
	case err != nil:
		return fmt.Errorf("look up %s: %w", aor, err)
	case user.Realm == realm:
		ha1 = user.HA1MD5
		if cred.Algorithm.Base() == digest.SHA256 {
			ha1 = user.HA1SHA256
		}
	}
	res := s.Verifier.Verify(string(req.Method), cred, ha1, realm)
	switch res.Outcome {
	case digest.OK:
		s.Lockout.Succeed("user " + aor)
		s.Lockout.Succeed("source " + source)
		if k == proxyAuth && cred.Username != req.From().Address.User {
			// Authenticated, but calling as somebody else.
			return note(trace.Impersonation, aor, chain.Reject(403, fmt.Sprintf("authenticated as %s but the From header claims %s@%s", aor, req.From().Address.User, domain)))
		}
		r.AuthUser = aor
		note(trace.Authenticated, aor, nil)
		return nil
	case digest.Stale:
		return note(trace.Stale, aor, s.challenge(k, realm, true, "the nonce expired: challenged again with stale=true"))
	case digest.BadRequest:
		return chain.RejectPhrase(400, "Bad "+k.credentials+" header", res.Reason)
	}
	// A failure: count it against the user and the source.
	reason := fmt.Sprintf("credentials refused (%s): challenged again", res)
	verdict := trace.Replayed
	if res.Outcome == digest.WrongPassword {
		reason = fmt.Sprintf("wrong password for %s, or no such user", aor)
		verdict = trace.WrongPassword
	}
	userLocked := s.Lockout.Fail("user "+aor, now)
	sourceLocked := s.Lockout.Fail("source "+source, now)
	s.countLockouts(userLocked, sourceLocked)
	switch {
	case userLocked:
		return note(trace.LockedOut, aor, lockedOut(aor, now.Add(s.Lockout.Cooldown), now))
	case sourceLocked:
		return note(trace.LockedOut, aor, lockedOut("the source "+source, now.Add(s.Lockout.Cooldown), now))
	}
	return note(verdict, aor, s.challenge(k, realm, false, reason))
}

// lockedOut is the 403 for a locked-out user or source. The phrase says so, because a
// phone that shows "403" alone sends its user hunting for a policy problem.
func lockedOut(who string, until, now time.Time) error {
	left := until.Sub(now).Round(time.Second)
	return chain.RejectPhrase(403, "Forbidden (locked out)",
		fmt.Sprintf("%s is locked out for %s after too many failed authentications", who, left),
		sip.NewHeader("Retry-After", strconv.Itoa(int(left/time.Second))))
}

func sourceIP(source string) string {
	if ap, err := netip.ParseAddrPort(source); err == nil {
		return ap.Addr().Unmap().String()
	}
	return source
}

// challenge is the 401 (WWW-Authenticate) or 407 (Proxy-Authenticate) with one header per
// algorithm, in the configured order.
func (s *Step) challenge(k kind, realm string, stale bool, reason string) error {
	var headers []sip.Header
	for _, c := range s.Verifier.Challenges(realm, stale) {
		headers = append(headers, sip.NewHeader(k.challengeHdr, c.String()))
	}
	return chain.Reject(k.code, reason, headers...)
}

// credentialsFor finds the Digest credentials for realm among the request's headers; a
// phone may send credentials for several realms when it went through several proxies.
func credentialsFor(req *sip.Request, header, realm string) (digest.Credentials, bool, error) {
	var firstErr error
	for h := range chain.Named(req, header) {
		cred, err := digest.ParseCredentials(h.Value())
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("%s: %w", header, err)
			}
			continue
		}
		if strings.EqualFold(cred.Realm, realm) {
			return cred, true, nil
		}
	}
	return digest.Credentials{}, false, firstErr
}

func (s *Step) trusted(source string) bool {
	if len(s.Trusted) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(source)
	if err != nil {
		return false
	}
	for _, p := range s.Trusted {
		if p.Contains(ap.Addr().Unmap()) {
			return true
		}
	}
	return false
}
