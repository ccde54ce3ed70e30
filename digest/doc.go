// Package digest implements the server side of SIP Digest access
// authentication: RFC 3261 §22 as updated by RFC 8760, with the algorithm and
// parameter rules of RFC 7616.
//
// The package is a leaf: it knows nothing about sipgo messages. A registrar
// or proxy uses it like this:
//
//	v, err := digest.NewVerifier(digest.Options{})
//	...
//	// No Authorization header: challenge (401 for a registrar/UAS,
//	// 407 + Proxy-Authenticate for a proxy). RFC 8760 §2.3: one header
//	// per algorithm, most preferred first.
//	for _, c := range v.Challenges(realm, false) {
//		res.AppendHeader(sip.NewHeader("WWW-Authenticate", c.String()))
//	}
//
//	// With an Authorization header:
//	cred, err := digest.ParseCredentials(h.Value())
//	if err != nil { /* 400 Bad Request, err names the problem */ }
//	ha1, ok := store.HA1(cred.Username, realm, cred.Algorithm.Base())
//	if !ok { ha1 = "" } // unknown user: Verify reports WrongPassword
//	switch r := v.Verify(req.Method.String(), cred, ha1, realm); r.Outcome {
//	case digest.OK:            // proceed
//	case digest.Stale:         // re-challenge with Challenges(realm, true)
//	case digest.BadNonce,
//		digest.Replay:        // re-challenge with Challenges(realm, false)
//	case digest.WrongPassword: // 403 Forbidden (or re-challenge)
//	case digest.BadRequest:    // 400 Bad Request; r.Reason says why
//	}
//
// Passwords are never needed by the server: the user store keeps HA1 values
// (see [HA1]), one per hash function, because the MD5 and SHA-256 HA1 of the
// same password differ.
//
// Nonces are stateless (an HMAC over a timestamp, random bytes and the
// realm), so issuing a challenge costs no memory. State is kept only for
// nonces that have been used successfully: the highest nonce-count seen, to
// refuse replays, until the nonce expires.
package digest
