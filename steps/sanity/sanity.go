// Package sanity is the first step: it refuses requests that are malformed, looping, out of
// hops, too large, or that ask for extensions siplens does not support, before any costly
// work is done (RFC 3261 8.2 and 16.3). See README.md for every code it sends.
package sanity

import (
	"context"
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/chain"
)

// Allow is the list of methods siplens serves, sent in Allow headers.
const Allow = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, MESSAGE, INFO, UPDATE, PRACK, REFER, NOTIFY, SUBSCRIBE"

// Step is the sanity step.
type Step struct {
	// MaxMessageSize bounds a request's size (513 above it).
	MaxMessageSize int
	// IsOwnVia reports whether a Via sent-by ("host", port) is siplens itself.
	IsOwnVia func(host string, port int) bool
	// Prefiltered reports whether the request's raw bytes were already checked for size
	// (513) and bare line breaks before parsing, as the server does for UDP datagrams. The
	// header scan below is then skipped: it re-serialises every header, and sipgo's URI
	// writer parses each host as an IP address, which made this step ~10% of the proxy's
	// CPU under load. Nil means never.
	Prefiltered func(req *sip.Request) bool
}

func (s *Step) Name() string { return "sanity" }

// Handle runs the checks in the order of RFC 3261 16.3, cheapest first.
func (s *Step) Handle(_ context.Context, w chain.ResponseWriter, r *chain.Request) error {
	req := r.SIP
	// 16.3 step 1: reasonable syntax. sipgo parses lazily, so required headers are ours to
	// check. Without a usable Via there is nowhere to send an answer: that comes first.
	if req.Via() == nil {
		return chain.Drop("the request has no Via header: no way to route an answer")
	}
	if err := checkVia(req.Via()); err != nil {
		return err
	}
	if err := requiredHeaders(req); err != nil {
		return err
	}
	// One pass over the headers as they would be written: their size (513 below) and any
	// line break inside one (TCP input is not prefiltered; a break in a header echoed in
	// every answer would split it). Writing into a scanner builds no strings.
	var scan headerScan
	prefiltered := s.Prefiltered != nil && s.Prefiltered(req)
	if !prefiltered {
		for _, h := range req.Headers() {
			scan.breakIn = false
			h.StringWrite(&scan)
			scan.n += 4 // ": " and CRLF
			if scan.breakIn {
				return chain.Drop("a line break inside the " + h.Name() + " header")
			}
		}
	}
	if !isToken(string(req.Method)) {
		return badRequest("Bad request method", fmt.Sprintf("the method %q is not a SIP token", string(req.Method)))
	}
	if req.SipVersion != "SIP/2.0" {
		return chain.Reject(505, fmt.Sprintf("the request uses %q; only SIP/2.0 is supported", req.SipVersion))
	}
	cseq := req.CSeq()
	if trimmed := strings.TrimSpace(string(cseq.MethodName)); trimmed != string(cseq.MethodName) {
		// "CSeq: 3    OPTIONS" is valid (LWS); sipgo keeps the spaces in the method.
		cseq.MethodName = sip.RequestMethod(trimmed)
	}
	if cseq.MethodName != req.Method {
		return badRequest("CSeq method does not match request method",
			fmt.Sprintf("the CSeq header names %s but the request line says %s", cseq.MethodName, req.Method))
	}
	if size := scan.n + len(req.Body()); !prefiltered && size > s.MaxMessageSize {
		return chain.Reject(513, fmt.Sprintf("the request is about %d bytes, above the limit of %d", size, s.MaxMessageSize))
	}
	// 16.3 step 2: URI scheme.
	if scheme := strings.ToLower(req.Recipient.Scheme); scheme != "sip" && scheme != "sips" {
		return chain.Reject(416, fmt.Sprintf("the Request-URI scheme %q is not sip or sips", req.Recipient.Scheme))
	}
	// 16.3 step 3: Max-Forwards. 0 means this hop may not forward it; an OPTIONS to us is
	// answered by us anyway (the proxy MAY respond to it).
	if mf := req.MaxForwards(); mf != nil && mf.Val() == 0 && !(r.ToServer && req.Method == sip.OPTIONS) {
		return chain.Reject(483, "Max-Forwards reached 0 before the request got here; the path has a loop or too many hops")
	}
	// 16.3 step 4: loop detection.
	if err := s.checkLoop(req); err != nil {
		return err
	}
	// 16.3 step 5: Proxy-Require, and Require when we are the UAS (8.2.2.3). CANCEL and ACK
	// never get a 420.
	if req.Method != sip.ACK && req.Method != sip.CANCEL {
		names := []string{"Proxy-Require"}
		if r.ToServer {
			names = append(names, "Require")
		}
		var unsupported []string
		for _, name := range names {
			for h := range chain.Named(req, name) {
				for _, opt := range strings.Split(h.Value(), ",") {
					if opt = strings.TrimSpace(opt); opt != "" {
						unsupported = append(unsupported, opt)
					}
				}
			}
		}
		if len(unsupported) > 0 {
			list := strings.Join(unsupported, ", ")
			return chain.Reject(420, "the request requires extensions siplens does not support: "+list,
				sip.NewHeader("Unsupported", sanitize(list)))
		}
	}
	// Methods: PUBLISH needs a presence agent and siplens has none; anything but OPTIONS
	// and REGISTER addressed to siplens itself has nobody to serve it.
	if req.Method == sip.PUBLISH || (r.ToServer && !r.InDialog() && !servedAtServer(req.Method)) {
		return chain.Reject(405, fmt.Sprintf("siplens does not serve %s requests addressed to it", req.Method),
			sip.NewHeader("Allow", Allow))
	}
	return nil
}

func servedAtServer(m sip.RequestMethod) bool {
	switch m {
	case sip.OPTIONS, sip.REGISTER, sip.ACK, sip.CANCEL:
		return true
	}
	return false
}

// requiredHeaders checks the headers RFC 3261 8.1.1 requires in every request.
func requiredHeaders(req *sip.Request) error {
	switch {
	case req.From() == nil:
		return badRequest("Missing From header", "the request has no From header")
	case req.To() == nil:
		return badRequest("Missing To header", "the request has no To header")
	case req.CallID() == nil || req.CallID().Value() == "":
		return badRequest("Missing Call-ID header", "the request has no Call-ID header")
	case req.CSeq() == nil:
		return badRequest("Missing CSeq header", "the request has no CSeq header")
	}
	if tag, _ := req.From().Params.Get("tag"); tag == "" {
		return badRequest("Missing From tag", "the From header has no tag parameter (RFC 3261 8.1.1.3)")
	}
	if cl := req.ContentLength(); cl != nil && int(*cl) != len(req.Body()) {
		return badRequest("Bad Content-Length",
			fmt.Sprintf("Content-Length says %d bytes but the body has %d", int(*cl), len(req.Body())))
	}
	return nil
}

// checkVia drops a request whose top Via gives no usable address: a response could not be
// routed back (RFC 3261 18.2.2), and echoing a mangled Via would only spread it.
func checkVia(v *sip.ViaHeader) error {
	if v.ProtocolName != "SIP" || v.ProtocolVersion != "2.0" || v.Host == "" || !isToken(v.Transport) || strings.ContainsAny(v.Host, " \t/\\\"<>") || v.Port < 0 || v.Port > 65535 {
		return chain.Drop(fmt.Sprintf("the top Via %q gives no address to answer", v.Value()))
	}
	return nil
}

// isToken reports whether s is a non-empty RFC 3261 token (25.1).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-.!%*_+`'~", c) >= 0) {
			return false
		}
	}
	return true
}

// checkLoop implements RFC 3261 16.3 step 4 with the loop hash in our branches: a Via of
// ours whose hash equals the request's current hash means the request came back unchanged.
func (s *Step) checkLoop(req *sip.Request) error {
	if s.IsOwnVia == nil {
		return nil
	}
	var current string
	for h := range chain.Named(req, "Via") {
		v, ok := h.(*sip.ViaHeader) // sipgo splits comma-separated Vias into headers
		if !ok {
			continue
		}
		branch, _ := v.Params.Get("branch")
		hash := chain.LoopHashOf(branch)
		if hash == "" || !s.IsOwnVia(v.Host, v.Port) {
			continue
		}
		if current == "" {
			current = chain.LoopHash(req)
		}
		if hash == current {
			return chain.Reject(482, "the request came back to siplens unchanged: it is going round in a loop (Via "+v.SentBy()+")")
		}
	}
	return nil
}

// badRequest is a 400 whose reason phrase names the problem, with the detail in a Warning
// header (RFC 3261 20.43, code 399: miscellaneous warning).
func badRequest(phrase, detail string) error {
	return chain.RejectPhrase(400, phrase, detail,
		sip.NewHeader("Warning", fmt.Sprintf("399 siplens %q", sanitize(detail))))
}

// sanitize keeps a value that came from a request safe to copy into a header: no line
// breaks, no quotes.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == '"' || r < 0x20 {
			return ' '
		}
		return r
	}, s)
}

// headerScan is an io.StringWriter that only measures what is written and notices CR or
// LF in it.
type headerScan struct {
	n       int
	breakIn bool
}

func (h *headerScan) WriteString(s string) (int, error) {
	h.n += len(s)
	if !h.breakIn && strings.ContainsAny(s, "\r\n") {
		h.breakIn = true
	}
	return len(s), nil
}
