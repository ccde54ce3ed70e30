package analyze

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/siplens/siplens/diag"
	"github.com/siplens/siplens/trace"
)

// ByHost is the producer of a final answer when the capture shows only that the
// vantage host sent it: a capture records no decisions, so which part of that host
// decided is unknown. (diag names this case "a step of siplens": only siplens' own
// record can tell the step.)
const ByHost diag.ProducerKind = "host"

// build turns a finished flight into a call seen from one host.
//
// A capture has no "siplens": diag reads a record as one host's messages in and out, so
// we choose that host. It is the host the initial request was sent to: the proxy when
// the capture shows one relaying the call (it then forwards requests of the same
// Call-ID, which diag reads as branches), else the callee's side. Messages between two
// other hosts (the far side of a second proxy) are kept for the ladder and recorded as
// received by their destination; diag's reading of branches and answers ignores them.
func build(f *flight, names map[string]string) *Call {
	tc := &trace.Call{CallID: f.id, Messages: f.msgs, Events: f.events}
	tc.Sort()
	vantage := f.local
	if vantage == "" {
		for _, m := range tc.Messages {
			if p, ok := startLine(m.Raw); ok && p != "ACK" && p != "" {
				vantage = m.Local // the destination, as Add stored it
				break
			}
		}
		if vantage == "" {
			vantage = tc.Messages[0].Local
		}
	}
	recorded := f.local != ""
	self := map[string]bool{}
	if !recorded {
		self = aliases(tc, vantage)
	}
	for i := range tc.Messages {
		if recorded {
			break // the recording host's own view, from the trace export
		}
		m := &tc.Messages[i]
		src, dst := m.Remote, m.Local // as Add stored them: In from Src to Dst
		switch {
		case self[src]:
			m.Direction, m.Local, m.Remote = trace.Out, src, dst
		default:
			m.Direction, m.Local, m.Remote = trace.In, dst, src
		}
	}
	c := &Call{ID: f.id, Trace: tc, Vantage: vantage, VantageLabel: hostLabel(vantage, names),
		Start: tc.Messages[0].Time, End: tc.Messages[len(tc.Messages)-1].Time}
	c.Diagnosis = diag.Diagnose(tc)
	if len(tc.Events) == 0 {
		localize(&c.Diagnosis, vantage, c.VantageLabel)
	}
	return c
}

// startLine returns the method of a request ("" for a response) and whether the message
// reads as SIP at all.
func startLine(raw []byte) (string, bool) {
	f := readFacts(raw)
	if f.method == "" && f.code == 0 {
		return "", false
	}
	return f.method, true
}

// aliases are the addresses the vantage host sends from: its own, and the ephemeral
// ports of the TCP connections it opens, recognised by its Via on the requests it sends
// (RFC 3261 18.1.1: the sent-by of the top Via is the sender's address).
func aliases(c *trace.Call, vantage string) map[string]bool {
	self := map[string]bool{vantage: true}
	want := normalize(vantage)
	for _, m := range c.Messages {
		src := m.Remote // as stored by Add: the sender
		if self[src] {
			continue
		}
		p, err := trace.Parse(m.Raw)
		if err != nil || !p.Request {
			continue
		}
		sentBy, _, _ := trace.ViaSentBy(p.TopVia())
		if normalize(sentBy) == want {
			self[src] = true
		}
	}
	return self
}

func normalize(hostport string) string {
	if ap, err := netip.ParseAddrPort(hostport); err == nil {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String()
	}
	return strings.ToLower(hostport)
}

// hostLabel names an address as the ladder does: by "ip:port", then by "ip".
func hostLabel(addr string, names map[string]string) string {
	if n, ok := names[addr]; ok {
		return n
	}
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		if n, ok := names[ap.Addr().String()]; ok {
			return n
		}
	}
	return addr
}

// Self is the vantage host's addresses, for diag.LadderOptions.
func (c *Call) Self() []string {
	out := []string{c.Vantage}
	for _, m := range c.Trace.Messages {
		if m.Direction == trace.Out && !slices.Contains(out, m.Local) {
			out = append(out, m.Local)
		}
	}
	return out
}

// LadderOptions are the options to draw this call: the vantage host is the self column,
// named by its address (or --name) rather than "siplens".
func (c *Call) LadderOptions(names map[string]string, verbose bool) diag.LadderOptions {
	opts := diag.LadderOptions{Names: names, Verbose: verbose}
	if len(c.Trace.Events) > 0 {
		return opts // siplens' own record: its column is siplens
	}
	opts.Self = c.Self()
	opts.SelfLabel = c.VantageLabel
	return opts
}

// Ladder draws the call.
func (c *Call) Ladder(names map[string]string, verbose bool) *diag.Ladder {
	return diag.BuildLadder(c.Trace, c.LadderOptions(names, verbose))
}

// localize rewrites a diagnosis made from a capture: diag speaks of "siplens" for the
// host whose record it reads, which here is the vantage host, and suggests siplens
// commands that do not apply to another server.
func localize(d *diag.Diagnosis, vantage, label string) {
	switch d.Producer.Kind {
	case diag.ByStep:
		d.Producer = diag.Producer{Kind: ByHost, Address: vantage, Detail: d.Producer.Step}
	case diag.ByStack:
		d.Producer = diag.Producer{Kind: ByHost, Address: vantage, Detail: d.Producer.Detail}
	}
	if label == "siplens" {
		return // the user named the vantage host siplens: the words fit as they are
	}
	r := strings.NewReplacer("the SIP stack of siplens (sipgo)", label, "siplens'", label+"'s", "siplens", label, "Siplens", label)
	d.Cause = r.Replace(d.Cause)
	for i := range d.Evidence {
		d.Evidence[i].Text = r.Replace(d.Evidence[i].Text)
	}
	checks := d.Checks[:0]
	for _, c := range d.Checks {
		if strings.Contains(c, "`siplens ") {
			continue
		}
		checks = append(checks, r.Replace(c))
	}
	d.Checks = checks
}

// ProducerText says who produced the final answer, in the words of the ladder.
func (c *Call) ProducerText() string {
	p := c.Diagnosis.Producer
	if p.Kind == ByHost {
		s := c.VantageLabel
		if s != p.Address {
			s += " (" + p.Address + ")"
		}
		if p.Detail != "" {
			s += ", " + p.Detail
		}
		return s
	}
	if len(c.Trace.Events) > 0 {
		return p.String()
	}
	return strings.ReplaceAll(p.String(), "siplens", c.VantageLabel)
}
