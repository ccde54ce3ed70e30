package ua

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Binding is one contact a registrar lists for the AOR in its 200 (RFC 3261 10.2.4).
type Binding struct {
	URI     string `json:"uri"`
	Expires int    `json:"expires"`
	Q       string `json:"q,omitempty"`
	Mine    bool   `json:"mine"`
}

// RegisterResult is the outcome of one registration (or unregistration).
type RegisterResult struct {
	Outcome  string
	Exit     int
	Code     int
	Reason   string
	Text     string
	Expires  int // seconds granted to this phone's binding (0 after an unregistration)
	Bindings []Binding
	Events   []Event
}

// OK reports whether the registrar accepted the request.
func (r *RegisterResult) OK() bool { return r.Outcome == OutcomeAnswered }

// regState keeps the Call-ID and CSeq of a registration across refreshes (RFC 3261
// 10.2.4: the same Call-ID, an increasing CSeq).
type regState struct {
	callID  string
	fromTag string
	cseq    uint32
}

// Register registers the phone's Contact for its AOR for expires seconds. A 401/407 is
// answered once per realm (a second challenge means the password or user is wrong), a 423
// is retried once with the registrar's Min-Expires (RFC 3261 10.2.8).
func (p *Phone) Register(ctx context.Context, expires int) *RegisterResult {
	return p.register(ctx, expires)
}

// Unregister removes the phone's binding (Expires: 0).
func (p *Phone) Unregister(ctx context.Context) *RegisterResult {
	return p.register(ctx, 0)
}

func (p *Phone) register(ctx context.Context, expires int) *RegisterResult {
	p.mu.Lock()
	if p.reg.callID == "" {
		p.reg.callID = newCallID(p.contactIP)
		p.reg.fromTag = sip.GenerateTagN(10)
	}
	callID, fromTag := p.reg.callID, p.reg.fromTag
	p.mu.Unlock()
	rec := newRecorder(p.cfg.OnEvent, callID, 0)
	r := p.doRegister(ctx, expires, rec, callID, fromTag)
	r.Exit = ExitCode(r.Outcome)
	exit := r.Exit
	rec.add(Event{Type: EventResult, Outcome: r.Outcome, Code: r.Code, Reason: r.Reason, Exit: &exit, Text: r.Text})
	r.Events = rec.snapshot()
	return r
}

func (p *Phone) nextRegCSeq() uint32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reg.cseq++
	return p.reg.cseq
}

func (p *Phone) doRegister(ctx context.Context, expires int, rec *recorder, callID, fromTag string) *RegisterResult {
	aor := p.cfg.AOR
	registrar := sip.Uri{Scheme: aor.Scheme, Host: aor.Host, Port: aor.Port}
	auth := newAuthState(p.cfg.AuthUser, p.cfg.Password)
	retried423 := false
	what := "register"
	if expires == 0 {
		what = "unregister"
	}
	var creds []sip.Header
	for attempt := 0; attempt < 6; attempt++ {
		req := p.newRequest(sip.REGISTER, registrar, aor, callID, fromTag, p.nextRegCSeq())
		req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
		for _, h := range creds {
			req.AppendHeader(h)
		}
		res, err := p.do(ctx, req, rec)
		if err != nil {
			if errors.Is(err, errTimeout) {
				return &RegisterResult{Outcome: OutcomeTimeout, Text: fmt.Sprintf("no answer from %s to the REGISTER (transaction timeout)", req.Destination())}
			}
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return &RegisterResult{Outcome: OutcomeCancelled, Text: "cancelled before the registrar answered"}
			}
			return &RegisterResult{Outcome: OutcomeError, Text: fmt.Sprintf("sending the REGISTER to %s failed: %v", req.Destination(), err)}
		}
		switch {
		case res.IsSuccess():
			r := &RegisterResult{Outcome: OutcomeAnswered, Code: res.StatusCode, Reason: res.Reason}
			r.Bindings = p.bindings(res)
			r.Expires = -1
			for _, b := range r.Bindings {
				exp := b.Expires
				rec.add(Event{Type: EventBinding, URI: b.URI, Expires: &exp, Mine: b.Mine})
				if b.Mine {
					r.Expires = b.Expires
				}
			}
			switch {
			case expires == 0 && r.Expires <= 0:
				r.Expires = 0
				r.Text = fmt.Sprintf("unregistered %s (%d bindings left)", aor.String(), len(r.Bindings))
			case expires == 0:
				r.Text = fmt.Sprintf("the registrar still lists this phone's binding for %ds after the unregistration", r.Expires)
			case r.Expires < 0:
				// RFC 3261 10.2.4: the 200 lists every binding; ours missing is odd, but
				// some registrars echo nothing. Use Expires, or what we asked for.
				r.Expires = expires
				if h := res.GetHeader("Expires"); h != nil {
					if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil {
						r.Expires = n
					}
				}
				r.Text = fmt.Sprintf("registered %s at %s, but the 200 does not list this phone's binding (assuming %ds)", aor.String(), p.contactString(), r.Expires)
			default:
				r.Text = fmt.Sprintf("registered %s at %s for %ds", aor.String(), p.contactString(), r.Expires)
			}
			return r
		case res.StatusCode == 401 || res.StatusCode == 407:
			note, err := auth.apply(req, res)
			if err != nil {
				return &RegisterResult{Outcome: OutcomeClient, Code: res.StatusCode, Reason: res.Reason, Text: fmt.Sprintf("%d %s: %v", res.StatusCode, res.Reason, err)}
			}
			rec.note("%s", note)
			creds = nil
			for _, name := range []string{"Authorization", "Proxy-Authorization"} {
				for _, h := range req.GetHeaders(name) {
					creds = append(creds, sip.HeaderClone(h))
				}
			}
		case res.StatusCode == 423 && !retried423 && expires > 0:
			retried423 = true
			minExp := 0
			if h := res.GetHeader("Min-Expires"); h != nil {
				minExp, _ = strconv.Atoi(strings.TrimSpace(h.Value()))
			}
			if minExp <= expires {
				return &RegisterResult{Outcome: OutcomeClient, Code: 423, Reason: res.Reason, Text: "423 Interval Too Brief without a usable Min-Expires"}
			}
			rec.note("the registrar wants at least %ds (Min-Expires): asking again with that", minExp)
			expires = minExp
			// A new request, a new challenge: nonces may not be replayed.
			creds = nil
			auth = newAuthState(p.cfg.AuthUser, p.cfg.Password)
		default:
			text := fmt.Sprintf("%d %s: %s", res.StatusCode, res.Reason, Meaning(res.StatusCode))
			return &RegisterResult{Outcome: OutcomeOf(res.StatusCode), Code: res.StatusCode, Reason: res.Reason, Text: "could not " + what + ": " + text}
		}
	}
	return &RegisterResult{Outcome: OutcomeError, Text: "too many REGISTER attempts"}
}

// bindings reads the Contacts of a 200 to a REGISTER with their expiry (the expires
// parameter, else the Expires header).
func (p *Phone) bindings(res *sip.Response) []Binding {
	def := -1
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil {
			def = n
		}
	}
	mine := uriKey(p.ContactURI())
	var out []Binding
	for _, h := range res.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			var parsed sip.ContactHeader
			if _, err := sip.ParseAddressValue(h.Value(), &parsed.Address, &parsed.Params); err != nil {
				continue
			}
			c = &parsed
		}
		b := Binding{URI: c.Address.String(), Expires: def}
		if v, ok := c.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil {
				b.Expires = n
			}
		}
		if v, ok := c.Params.Get("q"); ok {
			b.Q = v
		}
		b.Mine = uriKey(c.Address) == mine
		out = append(out, b)
	}
	return out
}

// refreshIn is when to refresh a binding granted for expires seconds: halfway for short
// ones, 30 s before expiry for long ones.
func refreshIn(expires int) time.Duration {
	d := time.Duration(expires) * time.Second
	return max(d/2, d-30*time.Second)
}

// KeepRegistered registers, refreshes the binding before it expires and, when ctx ends,
// unregisters. first receives the result of the first registration; if it fails,
// KeepRegistered returns it at once. Failed refreshes are retried every 30 s (or sooner
// for short bindings) until ctx ends.
func (p *Phone) KeepRegistered(ctx context.Context, expires int, first func(*RegisterResult)) *RegisterResult {
	r := p.Register(ctx, expires)
	if first != nil {
		first(r)
	}
	if !r.OK() {
		return r
	}
	granted := r.Expires
	for {
		wait := refreshIn(granted)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			uctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return p.Unregister(uctx)
		case <-p.closed:
			timer.Stop()
			return r
		case <-timer.C:
		}
		r = p.Register(ctx, expires)
		if r.OK() {
			granted = r.Expires
			continue
		}
		if ctx.Err() != nil {
			continue
		}
		granted = min(granted, 60) // retry after 30 s at most
	}
}
