package ua

import (
	"errors"
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// authState follows the digest challenges of one request as it is retried (RFC 3261
// 8.1.3.5 and 22.2): each challenge is answered once. A second challenge for a realm the
// phone has already answered means the credentials were refused, unless the server says
// the nonce was merely stale (stale=true, RFC 7616 3.3), which is answered once more.
type authState struct {
	user, password string
	answered       map[string]int // "WWW-Authenticate realm" -> times answered
	stale          map[string]bool
}

func newAuthState(user, password string) *authState {
	return &authState{user: user, password: password, answered: map[string]int{}, stale: map[string]bool{}}
}

// errWrongCredentials: the same realm challenged again after the phone answered it.
var errWrongCredentials = errors.New("wrong password or user")

// challengeHeader is the header that carries the challenges of a 401 or 407, and the
// one that answers them.
func challengeHeader(code int) (challenge, answer string) {
	if code == 407 {
		return "Proxy-Authenticate", "Proxy-Authorization"
	}
	return "WWW-Authenticate", "Authorization"
}

// pickChallenge returns the first challenge of res the phone can answer (Digest with an
// algorithm and qop it supports; RFC 8760 lists the server's preference first).
func pickChallenge(res *sip.Response) (*digest.Challenge, error) {
	name, _ := challengeHeader(res.StatusCode)
	hs := res.GetHeaders(name)
	if len(hs) == 0 {
		return nil, fmt.Errorf("the %d has no %s header: nothing to answer", res.StatusCode, name)
	}
	var seen []string
	for _, h := range hs {
		ch, err := digest.ParseChallenge(h.Value())
		if err != nil {
			seen = append(seen, strings.SplitN(strings.TrimSpace(h.Value()), " ", 2)[0])
			continue
		}
		ch.Algorithm = strings.ToUpper(ch.Algorithm)
		if digest.CanDigest(ch) {
			return ch, nil
		}
		alg := ch.Algorithm
		if alg == "" {
			alg = "MD5"
		}
		seen = append(seen, "Digest algorithm="+alg+" qop="+strings.Join(ch.QOP, ","))
	}
	return nil, fmt.Errorf("no challenge the phone can answer (offered: %s)", strings.Join(seen, "; "))
}

// apply answers the challenge in res (a 401 or 407) on req, replacing earlier credentials
// of the same kind. It returns a note for the user, or an error saying why the phone gives
// up: no password, a challenge it cannot answer, or errWrongCredentials.
func (a *authState) apply(req *sip.Request, res *sip.Response) (string, error) {
	ch, err := pickChallenge(res)
	if err != nil {
		return "", err
	}
	hdr, answer := challengeHeader(res.StatusCode)
	key := hdr + " " + ch.Realm
	if a.password == "" {
		return "", fmt.Errorf("challenged for realm %q but no password was given (--password)", ch.Realm)
	}
	if n := a.answered[key]; n > 0 {
		if !ch.Stale || a.stale[key] {
			return "", fmt.Errorf("%w: realm %q challenged again after the phone answered as %q", errWrongCredentials, ch.Realm, a.user)
		}
		a.stale[key] = true
	}
	a.answered[key]++
	cred, err := digest.Digest(ch, digest.Options{Method: string(req.Method), URI: req.Recipient.Addr(), Username: a.user, Password: a.password})
	if err != nil {
		return "", fmt.Errorf("cannot answer the challenge: %v", err)
	}
	for req.RemoveHeader(answer) {
	}
	req.AppendHeader(sip.NewHeader(answer, cred.String()))
	alg := ch.Algorithm
	if alg == "" {
		alg = "MD5"
	}
	if ch.Stale {
		return fmt.Sprintf("the nonce was stale (password right): answering the new %s challenge for realm %q again", alg, ch.Realm), nil
	}
	return fmt.Sprintf("answering the %s challenge for realm %q as %q", alg, ch.Realm, a.user), nil
}

// stripCredentials removes Authorization and Proxy-Authorization (a new target or a
// retry starts afresh).
func stripCredentials(req *sip.Request) {
	for req.RemoveHeader("Authorization") {
	}
	for req.RemoveHeader("Proxy-Authorization") {
	}
}
