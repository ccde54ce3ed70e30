package trace

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
)

// Parsed is a tolerant, read-only view of one SIP message. It exists next to sipgo's
// parser because a record must be readable even when the message is not valid SIP: the
// request that siplens refused with "400 Missing CSeq header" is exactly the one whose
// headers the diagnosis needs to show.
type Parsed struct {
	// Request is true for a request, false for a response.
	Request bool
	Method  string // request
	URI     string // request: the Request-URI as written
	Version string
	Code    int    // response
	Phrase  string // response
	// Headers in order, with compact names expanded ("v" becomes "Via").
	Headers []Field
	Body    []byte
}

// Field is one header line.
type Field struct {
	Name  string
	Value string
}

// ErrNotSIP is returned for bytes that do not start with a SIP request or status line.
var ErrNotSIP = errors.New("not a SIP message")

// Parse reads raw bytes as a SIP message. Only a missing or unreadable start line is an
// error; malformed headers are kept as they are. The header block is converted to a
// string once and every name and value is a piece of it, so parsing a message costs a
// few allocations whatever its size (the tracer's writer parses every message).
func Parse(raw []byte) (Parsed, error) {
	var p Parsed
	raw = trimLeadingCRLF(raw)
	end, sep := bytes.Index(raw, []byte("\r\n\r\n")), 4
	if end < 0 {
		// A message written with bare LF line ends (seen in hand-made test tools), or one
		// without a body separator at all.
		if end, sep = bytes.Index(raw, []byte("\n\n")), 2; end < 0 {
			end, sep = len(raw), 0
		}
	}
	head := string(raw[:end])
	if end+sep < len(raw) {
		p.Body = raw[end+sep:]
	}
	first, rest, _ := strings.Cut(head, "\n")
	if err := p.startLine(strings.TrimSuffix(first, "\r")); err != nil {
		return p, err
	}
	p.Headers = make([]Field, 0, 16)
	for rest != "" {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(p.Headers) > 0 {
			// A folded continuation line (RFC 3261 7.3.1).
			last := &p.Headers[len(p.Headers)-1]
			last.Value += " " + strings.TrimSpace(line)
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		p.Headers = append(p.Headers, Field{Name: CanonicalName(strings.TrimSpace(name)), Value: strings.TrimSpace(value)})
	}
	return p, nil
}

func trimLeadingCRLF(b []byte) []byte {
	for len(b) > 0 && (b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	return b
}

func (p *Parsed) startLine(line string) error {
	if strings.HasPrefix(line, "SIP/") {
		version, rest, _ := strings.Cut(line, " ")
		codeText, phrase, _ := strings.Cut(rest, " ")
		code, err := strconv.Atoi(codeText)
		if err != nil || code < 100 || code > 699 {
			return ErrNotSIP
		}
		p.Version, p.Code, p.Phrase = version, code, phrase
		return nil
	}
	parts := strings.Fields(line)
	if len(parts) != 3 || !strings.HasPrefix(parts[2], "SIP/") {
		return ErrNotSIP
	}
	p.Request = true
	p.Method, p.URI, p.Version = parts[0], parts[1], parts[2]
	return nil
}

// compactNames maps the compact header forms of RFC 3261 7.3.3 (and later RFCs).
var compactNames = map[byte]string{
	'i': "Call-ID", 'm': "Contact", 'e': "Content-Encoding", 'l': "Content-Length",
	'c': "Content-Type", 'f': "From", 's': "Subject", 'k': "Supported", 't': "To", 'v': "Via",
	'o': "Event", 'r': "Refer-To", 'b': "Referred-By", 'u': "Allow-Events", 'x': "Session-Expires",
}

// knownNames are spelled as the RFCs do; the common ones first, since CanonicalName
// tries them in order.
var knownNames = []string{
	"Via", "From", "To", "Call-ID", "CSeq", "Contact", "Max-Forwards", "Content-Length",
	"Content-Type", "Record-Route", "Route", "User-Agent", "Server", "Allow", "Supported",
	"Require", "Expires", "Authorization", "WWW-Authenticate", "Proxy-Authorization",
	"Proxy-Authenticate", "Retry-After", "Warning", "Min-Expires", "Proxy-Require",
	"Unsupported", "Accept", "Subject", "RSeq", "RAck", "Date", "Reason", "Event",
}

// CanonicalName returns the usual spelling of a header name: compact forms expanded,
// well-known names spelled as in the RFCs, others with each word capitalised.
func CanonicalName(name string) string {
	if len(name) == 1 {
		if full, ok := compactNames[name[0]|0x20]; ok { // |0x20: lower case
			return full
		}
	}
	for _, k := range knownNames {
		if len(k) == len(name) && strings.EqualFold(k, name) {
			return k
		}
	}
	b := []byte(strings.ToLower(name))
	upper := true
	for i, c := range b {
		if upper && c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
		upper = c == '-'
	}
	if string(b) == name {
		return name // already canonical: keep the piece of the header block
	}
	return string(b)
}

// Get returns the value of the first header of that name, or "".
func (p *Parsed) Get(name string) string {
	name = CanonicalName(name)
	for _, h := range p.Headers {
		if h.Name == name {
			return h.Value
		}
	}
	return ""
}

// Has reports whether a header of that name is present.
func (p *Parsed) Has(name string) bool {
	name = CanonicalName(name)
	for _, h := range p.Headers {
		if h.Name == name {
			return true
		}
	}
	return false
}

// Values returns every value of a header, with comma-separated lists split (outside
// quotes and angle brackets), in order: Values("Via")[0] is the top Via.
func (p *Parsed) Values(name string) []string {
	name = CanonicalName(name)
	var out []string
	for _, h := range p.Headers {
		if h.Name != name {
			continue
		}
		if splittable(name) {
			out = append(out, SplitList(h.Value)...)
		} else {
			out = append(out, h.Value)
		}
	}
	return out
}

// splittable: header values that may carry comma-separated lists of entries. Auth
// headers use commas between parameters and must stay whole.
func splittable(name string) bool {
	switch name {
	case "Via", "Route", "Record-Route", "Contact", "Allow", "Supported", "Require",
		"Proxy-Require", "Unsupported", "Warning":
		return true
	}
	return false
}

// SplitList splits a comma-separated header value, ignoring commas inside quotes and
// angle brackets.
func SplitList(v string) []string {
	var out []string
	quoted, angle := false, false
	start := 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == '<' && !quoted:
			angle = true
		case c == '>' && !quoted:
			angle = false
		case c == ',' && !quoted && !angle:
			if s := strings.TrimSpace(v[start:i]); s != "" {
				out = append(out, s)
			}
			start = i + 1
		}
	}
	if s := strings.TrimSpace(v[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

// CallID is the Call-ID header value.
func (p *Parsed) CallID() string { return p.Get("Call-ID") }

// CSeq returns the CSeq number and method; 0 and "" when absent or unreadable.
func (p *Parsed) CSeq() (uint32, string) {
	num, method, ok := strings.Cut(strings.TrimSpace(p.Get("CSeq")), " ")
	if !ok {
		return 0, ""
	}
	n, err := strconv.ParseUint(num, 10, 32)
	if err != nil {
		return 0, ""
	}
	return uint32(n), strings.TrimSpace(method)
}

// TopVia is the first Via entry, or "".
func (p *Parsed) TopVia() string {
	if v := p.Values("Via"); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Branch is the branch parameter of the top Via, which names the transaction.
func (p *Parsed) Branch() string { return Param(p.TopVia(), "branch") }

// FromTag and ToTag are the dialog tags.
func (p *Parsed) FromTag() string { return Param(p.Get("From"), "tag") }
func (p *Parsed) ToTag() string   { return Param(p.Get("To"), "tag") }

// IsFinal reports a final response (2xx-6xx).
func (p *Parsed) IsFinal() bool { return !p.Request && p.Code >= 200 }

// HasSDP reports a body described as SDP.
func (p *Parsed) HasSDP() bool {
	ct, _, _ := strings.Cut(p.Get("Content-Type"), ";")
	return len(bytes.TrimSpace(p.Body)) > 0 && strings.EqualFold(strings.TrimSpace(ct), "application/sdp")
}

// Label is how a message is named on an arrow: the method of a request, or the code and
// phrase of a response.
func (p *Parsed) Label() string {
	if p.Request {
		return p.Method
	}
	if p.Phrase == "" {
		return strconv.Itoa(p.Code)
	}
	return strconv.Itoa(p.Code) + " " + p.Phrase
}

// Param returns a parameter of a header value: the part after the address (outside
// angle brackets and quotes), e.g. Param(`"Bob" <sip:b@h;lr>;tag=9`, "tag") is "9". A
// parameter without value gives "" (use HasParam to tell it from an absent one).
func Param(value, name string) string {
	v, _ := param(value, name)
	return v
}

// HasParam reports whether the header value carries the parameter.
func HasParam(value, name string) bool {
	_, ok := param(value, name)
	return ok
}

func param(value, name string) (string, bool) {
	params := paramsPart(value)
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.Trim(strings.TrimSpace(v), `"`), true
		}
	}
	return "", false
}

// paramsPart is what follows the first ';' outside quotes and angle brackets.
func paramsPart(value string) string {
	quoted, angle := false, false
	for i := 0; i < len(value); i++ {
		switch c := value[i]; {
		case c == '"':
			quoted = !quoted
		case c == '<' && !quoted:
			angle = true
		case c == '>' && !quoted:
			angle = false
		case c == ';' && !quoted && !angle:
			return value[i+1:]
		}
	}
	return ""
}

// URIOf returns the URI inside an address header value (From, To, Contact, Route):
// what is inside <...>, or else the value up to its parameters.
func URIOf(value string) string {
	if i := strings.IndexByte(value, '<'); i >= 0 {
		if j := strings.IndexByte(value[i:], '>'); j > 0 {
			return value[i+1 : i+j]
		}
	}
	v, _, _ := strings.Cut(value, ";")
	return strings.TrimSpace(v)
}

// UserHost returns the user and host (with port) of a SIP URI or address value:
// "sip:bob@10.0.0.7:5060;transport=udp" gives "bob" and "10.0.0.7:5060".
func UserHost(value string) (user, host string) {
	u := URIOf(value)
	if i := strings.IndexByte(u, ':'); i >= 0 && !strings.Contains(u[:i], "@") {
		u = u[i+1:] // scheme
	}
	u, _, _ = strings.Cut(u, ";")
	u, _, _ = strings.Cut(u, "?")
	if at := strings.LastIndexByte(u, '@'); at >= 0 {
		user, u = u[:at], u[at+1:]
		user, _, _ = strings.Cut(user, ":") // drop a password
	}
	return user, u
}

// AOR is "user@host" of an address value, without port; the host alone when there is
// no user.
func AOR(value string) string {
	user, host := UserHost(value)
	if h, _, ok := cutPort(host); ok {
		host = h
	}
	if user == "" {
		return host
	}
	return user + "@" + host
}

func cutPort(hostport string) (host, port string, ok bool) {
	if strings.HasPrefix(hostport, "[") {
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return hostport, "", false
		}
		if rest := hostport[end+1:]; strings.HasPrefix(rest, ":") {
			return hostport[:end+1], rest[1:], true
		}
		return hostport, "", false
	}
	if strings.Count(hostport, ":") != 1 {
		return hostport, "", false
	}
	h, p, _ := strings.Cut(hostport, ":")
	return h, p, true
}

// ViaSentBy returns the sent-by host:port of a Via entry ("SIP/2.0/UDP 10.0.0.1:5060;..."),
// and the received and rport parameters when present.
func ViaSentBy(via string) (sentBy, received, rport string) {
	_, rest, _ := strings.Cut(strings.TrimSpace(via), " ")
	sentBy, _, _ = strings.Cut(strings.TrimSpace(rest), ";")
	return strings.TrimSpace(sentBy), Param(via, "received"), Param(via, "rport")
}

// CallIDOf finds the Call-ID of raw message bytes without parsing the rest: the wire tap's
// writer calls it for every message. It returns "" when there is none.
func CallIDOf(raw []byte) string {
	return string(callIDBytes(raw))
}

// callIDBytes is CallIDOf without the copy: the writer looks the call up with it first.
func callIDBytes(raw []byte) []byte {
	raw = trimLeadingCRLF(raw)
	// Skip the start line.
	nl := bytes.IndexByte(raw, '\n')
	if nl < 0 {
		return nil
	}
	rest := raw[nl+1:]
	for len(rest) > 0 {
		var line []byte
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			line, rest = rest, nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			return nil // end of headers
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			continue
		}
		name := bytes.TrimSpace(line[:colon])
		if (len(name) == 1 && (name[0] == 'i' || name[0] == 'I')) || bytes.EqualFold(name, []byte("call-id")) {
			return bytes.TrimSpace(line[colon+1:])
		}
	}
	return nil
}
