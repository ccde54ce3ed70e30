// Package tracetest builds call records by hand, message by message, as siplens would
// record them: requests it receives from a caller, the copies it forwards to branches,
// the answers, the decisions. Tests of the diagnosis and of the sinks use it; the SIP it
// writes is consistent (Vias, tags, CSeq, Content-Length) so that readers of the record
// cannot tell it from a real one.
package tracetest

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/siplens/siplens/trace"
)

// Msg is a SIP message under construction.
type Msg struct {
	StartLine string
	Headers   []trace.Field
	Body      string
	// NoContentLength leaves Content-Length out (for malformed-message tests).
	NoContentLength bool

	// Where it was recorded, once it was.
	Dir    trace.Direction
	Remote string
}

// Get returns the first value of a header.
func (m *Msg) Get(name string) string {
	for _, h := range m.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// Set replaces the first header of that name, or appends it.
func (m *Msg) Set(name, value string) *Msg {
	for i, h := range m.Headers {
		if strings.EqualFold(h.Name, name) {
			m.Headers[i].Value = value
			return m
		}
	}
	return m.Add(name, value)
}

// Add appends a header.
func (m *Msg) Add(name, value string) *Msg {
	m.Headers = append(m.Headers, trace.Field{Name: name, Value: value})
	return m
}

// Prepend puts a header before the others.
func (m *Msg) Prepend(name, value string) *Msg {
	m.Headers = append([]trace.Field{{Name: name, Value: value}}, m.Headers...)
	return m
}

// Del removes the first header of that name.
func (m *Msg) Del(name string) *Msg {
	for i, h := range m.Headers {
		if strings.EqualFold(h.Name, name) {
			m.Headers = append(m.Headers[:i:i], m.Headers[i+1:]...)
			return m
		}
	}
	return m
}

// Clone copies the message (not where it was recorded).
func (m *Msg) Clone() *Msg {
	c := *m
	c.Headers = append([]trace.Field(nil), m.Headers...)
	c.Dir, c.Remote = 0, ""
	return &c
}

// Bytes is the message as on the wire.
func (m *Msg) Bytes() []byte {
	var b strings.Builder
	b.WriteString(m.StartLine + "\r\n")
	for _, h := range m.Headers {
		if strings.EqualFold(h.Name, "Content-Length") {
			continue
		}
		b.WriteString(h.Name + ": " + h.Value + "\r\n")
	}
	if !m.NoContentLength {
		b.WriteString("Content-Length: " + strconv.Itoa(len(m.Body)) + "\r\n")
	}
	b.WriteString("\r\n" + m.Body)
	return []byte(b.String())
}

// Method is the request method, or the CSeq method of a response.
func (m *Msg) Method() string {
	if !strings.HasPrefix(m.StartLine, "SIP/") {
		method, _, _ := strings.Cut(m.StartLine, " ")
		return method
	}
	_, method, _ := strings.Cut(m.Get("CSeq"), " ")
	return method
}

// Option changes a message before it is recorded.
type Option func(*Msg)

// Header sets a header.
func Header(name, value string) Option { return func(m *Msg) { m.Set(name, value) } }

// Without removes a header.
func Without(name string) Option { return func(m *Msg) { m.Del(name) } }

// Body sets an SDP body.
func SDP(body string) Option {
	return func(m *Msg) {
		m.Body = body
		m.Set("Content-Type", "application/sdp")
	}
}

// Phrase replaces the reason phrase of a response.
func Phrase(phrase string) Option {
	return func(m *Msg) {
		code, _, _ := strings.Cut(strings.TrimPrefix(m.StartLine, "SIP/2.0 "), " ")
		m.StartLine = "SIP/2.0 " + code + " " + phrase
	}
}

// Offer is an SDP offer from addr (ip) for PCMU, PCMA and telephone-event.
func Offer(ip string, port int) string {
	return AudioSDP(ip, port, "sendrecv", "0 8 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", "a=rtpmap:101 telephone-event/8000")
}

// AudioSDP writes an SDP body with one audio stream: formats as on the m= line, then
// rtpmap lines, and the direction attribute ("" for none).
func AudioSDP(ip string, port int, direction, formats string, rtpmaps ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n", ip, ip)
	fmt.Fprintf(&b, "m=audio %d RTP/AVP %s\r\n", port, formats)
	for _, r := range rtpmaps {
		b.WriteString(r + "\r\n")
	}
	if direction != "" {
		b.WriteString("a=" + direction + "\r\n")
	}
	return b.String()
}

// Flow records one call as siplens sees it.
type Flow struct {
	CallID string
	// Self is siplens' address, the local side of every message.
	Self      string
	Transport string

	start   time.Time
	now     time.Time
	call    trace.Call
	seq     uint64
	counter int
}

// New starts a flow at start. siplens is 127.0.0.1:5060 over UDP unless changed.
func New(callID string, start time.Time) *Flow {
	return &Flow{CallID: callID, Self: "127.0.0.1:5060", Transport: "UDP", start: start, now: start,
		call: trace.Call{CallID: callID}}
}

// At sets the clock to start + d; later entries are recorded then.
func (f *Flow) At(d time.Duration) *Flow {
	f.now = f.start.Add(d)
	return f
}

// After moves the clock on by d.
func (f *Flow) After(d time.Duration) *Flow {
	f.now = f.now.Add(d)
	return f
}

// Now is the flow's clock.
func (f *Flow) Now() time.Time { return f.now }

func (f *Flow) next(prefix string) string {
	f.counter++
	return fmt.Sprintf("%s%d", prefix, f.counter)
}

// Record adds a message as received from (In) or sent to (Out) remote.
func (f *Flow) Record(dir trace.Direction, remote string, m *Msg) *Msg {
	m.Dir, m.Remote = dir, remote
	f.seq++
	f.call.Messages = append(f.call.Messages, trace.Message{
		CallID: f.CallID, Seq: f.seq, Time: f.now, Direction: dir, Transport: f.Transport,
		Local: f.Self, Remote: remote, Raw: m.Bytes(),
	})
	return m
}

// Decision adds an event at the current time.
func (f *Flow) Decision(ev trace.Event) {
	f.seq++
	ev.CallID, ev.Seq, ev.Time = f.CallID, f.seq, f.now
	f.call.Events = append(f.call.Events, ev)
}

// Call returns the record.
func (f *Flow) Call() *trace.Call {
	c := f.call.Clone()
	c.Sort()
	return c
}

// NewRequest builds a request from caller (ip:port) with a fresh Via branch and From tag.
func (f *Flow) NewRequest(method, uri, caller, from, to string, cseq uint32, opts ...Option) *Msg {
	m := &Msg{StartLine: method + " " + uri + " SIP/2.0"}
	m.Add("Via", "SIP/2.0/"+f.Transport+" "+caller+";branch=z9hG4bK"+f.next("c")+";rport")
	m.Add("Max-Forwards", "70")
	m.Add("From", "<"+from+">;tag="+f.next("ft"))
	m.Add("To", "<"+to+">")
	m.Add("Call-ID", f.CallID)
	m.Add("CSeq", fmt.Sprintf("%d %s", cseq, method))
	m.Add("Contact", "<sip:"+userOf(from)+"@"+caller+">")
	for _, o := range opts {
		o(m)
	}
	return m
}

// Invite receives an INVITE with an SDP offer from caller for sip:user@localhost.
func (f *Flow) Invite(caller, fromUser, toUser string, opts ...Option) *Msg {
	ip, port := splitHostPort(caller)
	opts = append([]Option{SDP(Offer(ip, port+10000))}, opts...)
	m := f.NewRequest("INVITE", "sip:"+toUser+"@localhost", caller, "sip:"+fromUser+"@localhost", "sip:"+toUser+"@localhost", 1, opts...)
	return f.Record(trace.In, caller, m)
}

// Retry receives the same request again as a new transaction (a new branch, CSeq + 1),
// as a phone does after a 401/407 challenge; opts add the credentials.
func (f *Flow) Retry(req *Msg, opts ...Option) *Msg {
	m := req.Clone()
	num, method, _ := strings.Cut(m.Get("CSeq"), " ")
	n, _ := strconv.Atoi(num)
	m.Set("CSeq", fmt.Sprintf("%d %s", n+1, method))
	via := m.Get("Via")
	sentBy, _, _ := strings.Cut(via, ";")
	m.Set("Via", sentBy+";branch=z9hG4bK"+f.next("c")+";rport")
	for _, o := range opts {
		o(m)
	}
	return f.Record(req.Dir, req.Remote, m)
}

// Again records the very same message again: a retransmission.
func (f *Flow) Again(m *Msg) *Msg {
	return f.Record(m.Dir, m.Remote, m.Clone())
}

// Reply answers req: a request siplens received is answered Out to where it came from,
// a request siplens sent is answered In from where it went. Every final or provisional
// answer to one request carries the same To tag.
func (f *Flow) Reply(req *Msg, code int, opts ...Option) *Msg {
	m := &Msg{StartLine: fmt.Sprintf("SIP/2.0 %d %s", code, phrase(code))}
	for _, h := range req.Headers {
		switch strings.ToLower(h.Name) {
		case "via", "from", "call-id", "cseq", "record-route":
			m.Add(h.Name, h.Value)
		case "to":
			v := h.Value
			if code > 100 && !strings.Contains(v, "tag=") {
				v += ";tag=" + toTag(req)
			}
			m.Add(h.Name, v)
		}
	}
	if code >= 200 && code < 300 && req.Method() == "INVITE" {
		m.Add("Contact", "<"+strings.TrimSuffix(strings.TrimPrefix(strings.Fields(req.StartLine)[1], "<"), ">")+">")
	}
	for _, o := range opts {
		o(m)
	}
	dir := trace.Out
	if req.Dir == trace.Out {
		dir = trace.In
	}
	return f.Record(dir, req.Remote, m)
}

// toTag derives a stable tag from the request's branch, so that every answer to one
// request carries the same one.
func toTag(req *Msg) string {
	via := req.Get("Via")
	_, branch, _ := strings.Cut(via, "branch=")
	branch, _, _ = strings.Cut(branch, ";")
	return "tt" + strings.TrimPrefix(branch, "z9hG4bK")
}

// Forward sends siplens' copy of req to a branch: Request-URI target, siplens' Via on
// top, Max-Forwards one less, Record-Route.
func (f *Flow) Forward(req *Msg, target, destination string, opts ...Option) *Msg {
	m := req.Clone()
	method, _, _ := strings.Cut(m.StartLine, " ")
	m.StartLine = method + " " + target + " SIP/2.0"
	m.Prepend("Via", "SIP/2.0/"+f.Transport+" "+f.Self+";branch=z9hG4bK.sl"+f.next("b")+";rport")
	if mf, err := strconv.Atoi(m.Get("Max-Forwards")); err == nil {
		m.Set("Max-Forwards", strconv.Itoa(mf-1))
	}
	if method == "INVITE" {
		m.Prepend("Record-Route", "<sip:"+f.Self+";transport=udp;lr>")
	}
	for _, o := range opts {
		o(m)
	}
	return f.Record(trace.Out, destination, m)
}

// Relay passes a branch's response to the caller of req: siplens' Via comes off.
func (f *Flow) Relay(res *Msg, req *Msg, opts ...Option) *Msg {
	m := res.Clone()
	m.Del("Via")
	for _, o := range opts {
		o(m)
	}
	return f.Record(trace.Out, req.Remote, m)
}

// Cancel receives the caller's CANCEL of req (same branch and CSeq number).
func (f *Flow) Cancel(req *Msg) *Msg {
	return f.Record(req.Dir, req.Remote, cancelOf(req))
}

// CancelBranch sends siplens' CANCEL for a branch request.
func (f *Flow) CancelBranch(branchReq *Msg) *Msg {
	return f.Record(trace.Out, branchReq.Remote, cancelOf(branchReq))
}

func cancelOf(req *Msg) *Msg {
	uri := strings.Fields(req.StartLine)[1]
	m := &Msg{StartLine: "CANCEL " + uri + " SIP/2.0"}
	num, _, _ := strings.Cut(req.Get("CSeq"), " ")
	for _, h := range req.Headers {
		switch strings.ToLower(h.Name) {
		case "via", "from", "to", "call-id", "route", "max-forwards":
			m.Add(h.Name, h.Value)
		}
	}
	m.Set("CSeq", num+" CANCEL")
	return m
}

// AckFailure records the ACK for a non-2xx final answer: same branch as the INVITE, To
// tag from the answer. Sent by whoever sent the INVITE.
func (f *Flow) AckFailure(inv, res *Msg) *Msg {
	uri := strings.Fields(inv.StartLine)[1]
	m := &Msg{StartLine: "ACK " + uri + " SIP/2.0"}
	num, _, _ := strings.Cut(inv.Get("CSeq"), " ")
	for _, h := range inv.Headers {
		switch strings.ToLower(h.Name) {
		case "via", "from", "call-id", "route", "max-forwards":
			m.Add(h.Name, h.Value)
		}
	}
	m.Add("To", res.Get("To"))
	m.Add("CSeq", num+" ACK")
	return f.Record(inv.Dir, inv.Remote, m)
}

// InDialog records a request within the dialog that res (a 2xx to inv) set up: an ACK or
// BYE from the caller (dir In, remote the caller) or from siplens to a callee.
func (f *Flow) InDialog(dir trace.Direction, remote, method string, from string, inv, res *Msg, cseq uint32) *Msg {
	contact := trace.URIOf(res.Get("Contact"))
	if contact == "" {
		contact = strings.Fields(inv.StartLine)[1]
	}
	m := &Msg{StartLine: method + " " + contact + " SIP/2.0"}
	m.Add("Via", "SIP/2.0/"+f.Transport+" "+from+";branch=z9hG4bK"+f.next("d")+";rport")
	m.Add("Max-Forwards", "70")
	m.Add("From", inv.Get("From"))
	m.Add("To", res.Get("To"))
	m.Add("Call-ID", f.CallID)
	m.Add("CSeq", fmt.Sprintf("%d %s", cseq, method))
	return f.Record(dir, remote, m)
}

func userOf(uri string) string {
	u, _ := trace.UserHost(uri)
	return u
}

func splitHostPort(hp string) (string, int) {
	i := strings.LastIndexByte(hp, ':')
	if i < 0 {
		return hp, 5060
	}
	p, _ := strconv.Atoi(hp[i+1:])
	return hp[:i], p
}

func phrase(code int) string {
	if p, ok := phrases[code]; ok {
		return p
	}
	return "Unknown"
}

var phrases = map[int]string{
	100: "Trying", 180: "Ringing", 183: "Session Progress", 200: "OK", 302: "Moved Temporarily",
	400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 407: "Proxy Authentication Required",
	408: "Request Timeout", 480: "Temporarily Unavailable", 482: "Loop Detected", 483: "Too Many Hops",
	486: "Busy Here", 487: "Request Terminated", 488: "Not Acceptable Here", 500: "Server Internal Error",
	503: "Service Unavailable", 600: "Busy Everywhere", 603: "Decline",
}
