// Package auth verifies who is asking: REGISTER for a served domain must carry valid digest
// credentials (RFC 3261 22, RFC 7616, RFC 8760); without them the answer is a 401 challenge.
// A wrong password, an unknown user, a forged or replayed nonce all get a fresh challenge,
// the same one, so a scanner cannot tell which users exist; an expired nonce gets
// stale=true. See README.md.
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/chain"
	"github.com/siplens/siplens/digest"
	"github.com/siplens/siplens/store"
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
	// Trusted sources skip authentication.
	Trusted []netip.Prefix
}

func (s *Step) Name() string { return "auth" }

func (s *Step) Handle(ctx context.Context, w chain.ResponseWriter, r *chain.Request) error {
	req := r.SIP
	if req.Method != sip.REGISTER || !s.Register || s.trusted(r.Source) {
		return nil
	}
	domain, ok := s.Domains.Canonical(req.To().Address.Host)
	if !ok {
		return nil // not ours: the registrar refuses it
	}
	realm := s.Realm(domain)
	cred, found, err := credentialsFor(req, "Authorization", realm)
	if err != nil {
		return chain.RejectPhrase(400, "Bad Authorization header", err.Error())
	}
	if !found {
		return s.challenge(realm, false, "no credentials yet: challenge sent")
	}
	user, err := s.Users.GetUser(ctx, cred.Username, domain)
	ha1 := ""
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Verified against no HA1: the outcome is WrongPassword, exactly as for a known user
		// with a wrong password.
	case err != nil:
		return fmt.Errorf("look up %s@%s: %w", cred.Username, domain, err)
	case user.Realm == realm:
		ha1 = user.HA1MD5
		if cred.Algorithm.Base() == digest.SHA256 {
			ha1 = user.HA1SHA256
		}
	}
	res := s.Verifier.Verify(string(req.Method), cred, ha1, realm)
	switch res.Outcome {
	case digest.OK:
		r.AuthUser = cred.Username + "@" + domain
		return nil
	case digest.Stale:
		return s.challenge(realm, true, "the nonce expired: challenged again with stale=true")
	case digest.BadRequest:
		return chain.RejectPhrase(400, "Bad Authorization header", res.Reason)
	case digest.WrongPassword:
		reason := fmt.Sprintf("wrong password for %s@%s, or no such user", cred.Username, domain)
		return s.challenge(realm, false, reason)
	}
	return s.challenge(realm, false, fmt.Sprintf("credentials refused (%s): challenged again", res))
}

// challenge is the 401 with one WWW-Authenticate per algorithm, strongest first.
func (s *Step) challenge(realm string, stale bool, reason string) error {
	var headers []sip.Header
	for _, c := range s.Verifier.Challenges(realm, stale) {
		headers = append(headers, sip.NewHeader("WWW-Authenticate", c.String()))
	}
	return chain.Reject(401, reason, headers...)
}

// credentialsFor finds the Digest credentials for realm among the request's headers; a
// phone may send credentials for several realms when it went through several proxies.
func credentialsFor(req *sip.Request, header, realm string) (digest.Credentials, bool, error) {
	var firstErr error
	for _, h := range req.GetHeaders(header) {
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
