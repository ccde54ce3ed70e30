package ua

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// What the caller does with a final response (RFC 3261 8.1.3 and 13.2.2).
type action int

const (
	actAnswered   action = iota // 2xx: ACK, hold, BYE
	actAuth                     // 401/407: retry once with credentials
	actRedirect                 // 300-302: try the Contacts in q order
	actRetryAfter               // 503 + Retry-After within the limit: wait, retry once
	actNextTarget               // failed, but redirect targets remain: try the next
	actGiveUp                   // the final answer of the call
)

func (a action) String() string {
	return [...]string{"answered", "auth", "redirect", "retry-after", "next-target", "give-up"}[a]
}

// attempt is what the caller remembers while it works on one call.
type attempt struct {
	retriedAfter  bool          // a 503 was already retried for this target
	redirects     int           // redirects followed so far
	maxRedirects  int           // limit on redirects
	maxRetryAfter time.Duration // longest Retry-After the caller waits for
	tried         map[string]bool
	pending       int // redirect targets still queued
}

// decision is the outcome of decide.
type decision struct {
	act     action
	why     string        // one line for the user
	wait    time.Duration // actRetryAfter
	targets []sip.Uri     // actRedirect: new targets in q order
}

// decide picks the caller's action for a final response. Credentials are handled by the
// caller (authState) once decide says actAuth.
func decide(res *sip.Response, st *attempt) decision {
	code := res.StatusCode
	switch {
	case code >= 200 && code < 300:
		return decision{act: actAnswered, why: "answered"}
	case code == 401 || code == 407:
		return decision{act: actAuth, why: "challenged: retry with credentials"}
	case code == 300 || code == 301 || code == 302:
		if st.redirects >= st.maxRedirects {
			return decision{act: actGiveUp, why: fmt.Sprintf("redirected again, but the limit of %d redirects is reached", st.maxRedirects)}
		}
		all := redirectContacts(res)
		if len(all) == 0 {
			return decision{act: actGiveUp, why: "redirected, but the response has no Contact to try"}
		}
		var fresh []sip.Uri
		for _, u := range all {
			if !st.tried[uriKey(u)] {
				fresh = append(fresh, u)
			}
		}
		if len(fresh) == 0 {
			return decision{act: actGiveUp, why: "redirect loop: every Contact of the " + strconv.Itoa(code) + " was already tried"}
		}
		var names []string
		for _, u := range fresh {
			names = append(names, u.String())
		}
		return decision{act: actRedirect, targets: fresh, why: "redirected: trying " + strings.Join(names, ", ")}
	case code == 503:
		ra, ok := retryAfter(res)
		switch {
		case !ok:
			// RFC 3261 21.5.4: without Retry-After the client acts as for a 500.
		case st.retriedAfter:
			return decision{act: actGiveUp, why: "503 again after the retry: giving up"}
		case ra > st.maxRetryAfter:
			return decision{act: actGiveUp, why: fmt.Sprintf("Retry-After %v is longer than the limit of %v: not waiting", ra, st.maxRetryAfter)}
		default:
			return decision{act: actRetryAfter, wait: ra, why: fmt.Sprintf("service unavailable: waiting %v (Retry-After) and trying once more", ra)}
		}
	}
	if code >= 600 {
		return decision{act: actGiveUp, why: "global failure: no other destination will accept the call"}
	}
	if st.pending > 0 {
		return decision{act: actNextTarget, why: "this target failed: trying the next redirect target"}
	}
	return decision{act: actGiveUp, why: "final answer"}
}

// retryAfter reads Retry-After (RFC 3261 20.33): delta-seconds, then an optional comment
// and parameters.
func retryAfter(res *sip.Response) (time.Duration, bool) {
	h := res.GetHeader("Retry-After")
	if h == nil {
		return 0, false
	}
	v := strings.TrimSpace(h.Value())
	end := 0
	for end < len(v) && v[end] >= '0' && v[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(v[:end])
	if err != nil {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// redirectContacts lists the Contacts of a 3xx in decreasing q order (RFC 3261 8.1.3.4);
// equal q values keep their order. Contacts that are not SIP URIs are skipped.
func redirectContacts(res *sip.Response) []sip.Uri {
	type qc struct {
		q float64
		u sip.Uri
	}
	var list []qc
	for _, h := range res.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			var parsed sip.ContactHeader
			if _, err := sip.ParseAddressValue(h.Value(), &parsed.Address, &parsed.Params); err != nil {
				continue
			}
			c = &parsed
		}
		if c.Address.Wildcard || (c.Address.Scheme != "sip" && c.Address.Scheme != "sips") || c.Address.Host == "" {
			continue
		}
		q := 1.0
		if v, ok := c.Params.Get("q"); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		list = append(list, qc{q, *c.Address.Clone()})
	}
	slices.SortStableFunc(list, func(a, b qc) int { return cmp.Compare(b.q, a.q) })
	out := make([]sip.Uri, 0, len(list))
	for _, x := range list {
		out = append(out, x.u)
	}
	return out
}

// Outcome classes of a call, a registration or a probe, and the exit status of each.
const (
	OutcomeAnswered   = "answered"   // 2xx
	OutcomeRedirected = "redirected" // a 3xx was the final answer
	OutcomeClient     = "client-error"
	OutcomeServer     = "server-error"
	OutcomeGlobal     = "global-failure"
	OutcomeTimeout    = "timeout" // no final answer in time (transaction timeout or ring timeout)
	OutcomeCancelled  = "cancelled"
	OutcomeError      = "error" // network or local error
)

// Exit statuses of the phone commands (documented in --help and docs/phone.md).
const (
	ExitOK        = 0
	ExitError     = 1
	ExitUsage     = 2
	Exit3xx       = 3
	Exit4xx       = 4
	Exit5xx       = 5
	Exit6xx       = 6
	ExitTimeout   = 7
	ExitCancelled = 8
)

// OutcomeOf maps a final status code to its outcome class.
func OutcomeOf(code int) string {
	switch code / 100 {
	case 2:
		return OutcomeAnswered
	case 3:
		return OutcomeRedirected
	case 4:
		return OutcomeClient
	case 5:
		return OutcomeServer
	case 6:
		return OutcomeGlobal
	}
	return OutcomeError
}

// ExitCode is the exit status for an outcome.
func ExitCode(outcome string) int {
	switch outcome {
	case OutcomeAnswered:
		return ExitOK
	case OutcomeRedirected:
		return Exit3xx
	case OutcomeClient:
		return Exit4xx
	case OutcomeServer:
		return Exit5xx
	case OutcomeGlobal:
		return Exit6xx
	case OutcomeTimeout:
		return ExitTimeout
	case OutcomeCancelled:
		return ExitCancelled
	}
	return ExitError
}
