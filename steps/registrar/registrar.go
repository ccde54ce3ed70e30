// Package registrar answers REGISTER (RFC 3261 10.3): it adds, refreshes and removes the
// bindings of an address-of-record and lists the current ones in its 200. See README.md.
package registrar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/chain"
	"github.com/siplens/siplens/store"
)

// Step is the registrar.
type Step struct {
	Domains        *chain.Domains
	Users          store.Users
	Locations      store.Locations
	MinExpires     int
	MaxExpires     int
	DefaultExpires int
	MaxContacts    int
	Now            func() time.Time
	Log            *slog.Logger
}

func (s *Step) Name() string { return "registrar" }

func (s *Step) Handle(ctx context.Context, w chain.ResponseWriter, r *chain.Request) error {
	if r.Method() != sip.REGISTER {
		return nil
	}
	req := r.SIP
	// 10.3 step 1: the Request-URI names the domain of the registrar.
	if r.Domain == "" {
		return chain.Reject(403, fmt.Sprintf("siplens does not serve the domain %q named in the Request-URI", req.Recipient.Host))
	}
	// 10.3 step 3: the To header is the address-of-record; it must be one of ours.
	to := req.To().Address
	domain, ok := s.Domains.Canonical(to.Host)
	if !ok {
		return chain.Reject(403, fmt.Sprintf("the To header names %q, a domain siplens does not serve", to.Host))
	}
	if to.User == "" {
		return chain.RejectPhrase(400, "Missing user in To", "the To header of a REGISTER must name a user (the address-of-record)")
	}
	aor := to.User + "@" + domain
	if r.AuthUser != "" && r.AuthUser != aor {
		// 10.3 step 4: the authenticated user must be allowed to change this AOR; siplens
		// allows only one's own.
		return chain.Reject(403, fmt.Sprintf("authenticated as %s but trying to register %s", r.AuthUser, aor))
	}
	if r.AuthUser == "" {
		if _, err := s.Users.GetUser(ctx, to.User, domain); errors.Is(err, store.ErrNotFound) {
			return chain.Reject(404, fmt.Sprintf("%s is not a user of this server", aor))
		} else if err != nil {
			return fmt.Errorf("look up %s: %w", aor, err)
		}
	}

	changes, err := s.parseContacts(req)
	if err != nil {
		return err
	}
	now := s.Now()
	callID := req.CallID().Value()
	cseq := req.CSeq().SeqNo
	ua := ""
	if h := req.GetHeader("User-Agent"); h != nil {
		ua = h.Value()
	}
	bindings, err := s.Locations.Update(ctx, aor, now, func(current []store.Binding) ([]store.Binding, error) {
		return applyChanges(current, changes, aor, callID, cseq, r, ua, now, s.MaxContacts)
	})
	var rej *chain.Error
	if errors.As(err, &rej) {
		return rej
	}
	if err != nil {
		return fmt.Errorf("update bindings of %s: %w", aor, err)
	}
	if s.Log != nil && s.Log.Enabled(ctx, slog.LevelDebug) { // its arguments allocate even when off
		s.Log.Debug("registered", "aor", aor, "bindings", len(bindings), "source", r.Source)
	}
	return w.ReplyWith(okResponse(req, bindings, now))
}

// change is one Contact of a REGISTER.
type change struct {
	contact string
	uri     sip.Uri
	expires int // seconds; 0 removes
	q       float64
	all     bool // Contact: *
}

// parseContacts applies 10.3 steps 6 and 7: the wildcard rules, the expiry of each contact
// and the 423 for intervals below the minimum.
func (s *Step) parseContacts(req *sip.Request) ([]change, error) {
	headerExpires := -1
	if h := req.GetHeader("Expires"); h != nil {
		v, err := strconv.Atoi(strings.TrimSpace(h.Value()))
		if err != nil || v < 0 {
			return nil, chain.RejectPhrase(400, "Bad Expires header", fmt.Sprintf("Expires %q is not a number of seconds", h.Value()))
		}
		headerExpires = v
	}
	var out []change
	for h := range chain.Named(req, "Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			return nil, chain.RejectPhrase(400, "Bad Contact header", "a Contact header could not be parsed")
		}
		if c.Address.Wildcard {
			// Contact: * only with Expires: 0 and alone (10.3 step 6).
			if headerExpires != 0 || chain.CountNamed(req, "Contact") != 1 {
				return nil, chain.RejectPhrase(400, "Bad wildcard Contact", "Contact: * needs Expires: 0 and no other Contact")
			}
			return []change{{all: true}}, nil
		}
		expires := headerExpires
		if v, ok := c.Params.Get("expires"); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, chain.RejectPhrase(400, "Bad Contact expires", fmt.Sprintf("expires=%q is not a number of seconds", v))
			}
			expires = n
		}
		if expires < 0 {
			expires = s.DefaultExpires
		}
		if expires > 0 && expires < s.MinExpires {
			return nil, chain.Reject(423, fmt.Sprintf("asked for %d s, below the minimum of %d s", expires, s.MinExpires),
				sip.NewHeader("Min-Expires", strconv.Itoa(s.MinExpires)))
		}
		if expires > s.MaxExpires {
			expires = s.MaxExpires
		}
		q := 1.0
		if v, ok := c.Params.Get("q"); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				return nil, chain.RejectPhrase(400, "Bad Contact q-value", fmt.Sprintf("q=%q is not between 0 and 1", v))
			}
			q = f
		}
		uri := c.Address
		uri.Headers = nil
		out = append(out, change{contact: uri.String(), uri: uri, expires: expires, q: q})
	}
	return out, nil
}

// applyChanges is 10.3 step 7 and 8 for one AOR, under its lock.
func applyChanges(current []store.Binding, changes []change, aor, callID string, cseq uint32, r *chain.Request, ua string, now time.Time, maxContacts int) ([]store.Binding, error) {
	if len(changes) == 1 && changes[0].all {
		for _, b := range current {
			if b.CallID == callID && cseq <= b.CSeq {
				return nil, chain.Reject(500, "out-of-order REGISTER: CSeq not above the one that created a binding", sip.NewHeader("Retry-After", "1"))
			}
		}
		return nil, nil
	}
	// The CSeq check compares with the bindings as they were before this request, so a
	// REGISTER listing one contact twice is not refused as out of order by itself.
	for _, ch := range changes {
		if i := indexOf(current, ch.contact); i >= 0 && current[i].CallID == callID && cseq <= current[i].CSeq {
			return nil, chain.Reject(500, "out-of-order REGISTER: CSeq not above the one that created this binding", sip.NewHeader("Retry-After", "1"))
		}
	}
	next := append([]store.Binding(nil), current...)
	for _, ch := range changes {
		i := indexOf(next, ch.contact)
		if ch.expires == 0 {
			if i >= 0 {
				next = append(next[:i], next[i+1:]...)
			}
			continue
		}
		b := store.Binding{
			AOR: aor, Contact: ch.contact, Q: ch.q, Expires: now.Add(time.Duration(ch.expires) * time.Second),
			CallID: callID, CSeq: cseq, Source: r.Source, NAT: behindNAT(r, ch.uri), Transport: r.Transport, UserAgent: ua, Updated: now,
		}
		if i >= 0 {
			next[i] = b
		} else {
			next = append(next, b)
		}
	}
	if len(next) > maxContacts {
		return nil, chain.Reject(403, fmt.Sprintf("%s would have %d contacts, above the limit of %d", aor, len(next), maxContacts))
	}
	return next, nil
}

func indexOf(bs []store.Binding, contact string) int {
	for i, b := range bs {
		if b.Contact == contact {
			return i
		}
	}
	return -1
}

// okResponse lists every current binding with its remaining time (10.3 step 8).
func okResponse(req *sip.Request, bindings []store.Binding, now time.Time) *sip.Response {
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	sort.Slice(bindings, func(i, j int) bool { return bindings[i].Q > bindings[j].Q })
	for _, b := range bindings {
		left := int(b.Expires.Sub(now).Round(time.Second) / time.Second)
		value := fmt.Sprintf("<%s>;expires=%d", b.Contact, left)
		if b.Q != 1 {
			value += ";q=" + strconv.FormatFloat(b.Q, 'f', -1, 64)
		}
		res.AppendHeader(sip.NewHeader("Contact", value))
	}
	res.AppendHeader(sip.NewHeader("Date", now.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT")))
	return res
}

// behindNAT decides whether requests to this contact must go to where the REGISTER came
// from instead of to the Contact: the Contact names a private address other than the
// source, or (over UDP) the top Via's sent-by is not the address the packet came from.
// The same tests as the usual NAT detection of SIP proxies (Contact in RFC 1918 space,
// Via differing from the source).
func behindNAT(r *chain.Request, contact sip.Uri) bool {
	src, err := netip.ParseAddrPort(r.Source)
	if err != nil {
		return false
	}
	srcIP := src.Addr().Unmap()
	if ip, err := netip.ParseAddr(strings.Trim(contact.Host, "[]")); err == nil && ip.Unmap() != srcIP && (ip.IsPrivate() || isCGNAT(ip)) {
		return true
	}
	if r.Transport != "UDP" {
		return false // a TCP source port is always ephemeral; it says nothing about NAT
	}
	via := r.SIP.Via()
	viaIP, err := netip.ParseAddr(strings.Trim(via.Host, "[]"))
	if err != nil {
		return true // a host name in Via: we cannot tell, the source is the safe choice
	}
	port := via.Port
	if port == 0 {
		port = 5060
	}
	return viaIP.Unmap() != srcIP || port != int(src.Port())
}

// isCGNAT: 100.64.0.0/10, the carrier-grade NAT range (RFC 6598).
func isCGNAT(ip netip.Addr) bool {
	return netip.MustParsePrefix("100.64.0.0/10").Contains(ip.Unmap())
}
