package analyze

import (
	"bytes"
	"strconv"
	"strings"
)

// facts are what the streaming pass reads from every message: enough to count it, to
// know when its call is over, and to tie the legs of a B2BUA call together. Reading
// them is a scan of the header block, not a full parse: a capture can hold millions of
// messages, and the full parse happens once per call, in the diagnosis.
type facts struct {
	ok         bool
	request    bool
	method     string // request method
	code       int    // response code
	phrase     string
	cseqMethod string
	sessionID  string // Session-ID (RFC 7989), the local UUID
	remoteID   string // its remote parameter
	xcid       string // X-CID: the Call-ID of the other leg, as some B2BUAs write it
}

// methods interns the usual method names so that counting does not keep a copy of each.
var methods = map[string]string{}

func init() {
	for _, m := range []string{"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PRACK", "SUBSCRIBE",
		"NOTIFY", "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE"} {
		methods[m] = m
	}
}

func intern(b []byte) string {
	if s, ok := methods[string(b)]; ok {
		return s
	}
	return string(b)
}

func readFacts(raw []byte) facts {
	var f facts
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 {
		end = len(raw)
	}
	head := raw[:end]
	line, rest, _ := bytes.Cut(head, []byte("\n"))
	line = bytes.TrimRight(line, "\r")
	if r, ok := bytes.CutPrefix(line, []byte("SIP/2.0 ")); ok {
		code, phrase, _ := bytes.Cut(r, []byte(" "))
		n, err := strconv.Atoi(string(code))
		if err != nil || n < 100 || n > 699 {
			return f
		}
		f.code, f.phrase = n, string(phrase)
	} else {
		method, _, ok := bytes.Cut(line, []byte(" "))
		if !ok || !bytes.HasSuffix(line, []byte(" SIP/2.0")) {
			return f
		}
		f.request, f.method = true, intern(method)
	}
	for len(rest) > 0 {
		var l []byte
		l, rest, _ = bytes.Cut(rest, []byte("\n"))
		name, value, ok := bytes.Cut(l, []byte(":"))
		if !ok || len(name) == 0 {
			continue
		}
		name = bytes.TrimSpace(name)
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "CSeq"):
			_, m, _ := bytes.Cut(value, []byte(" "))
			f.cseqMethod = intern(bytes.TrimSpace(m))
		case asciiEqualFold(name, "Session-ID"):
			id, params, _ := bytes.Cut(value, []byte(";"))
			f.sessionID = strings.ToLower(string(bytes.TrimSpace(id)))
			for _, p := range bytes.Split(params, []byte(";")) {
				k, v, _ := bytes.Cut(bytes.TrimSpace(p), []byte("="))
				if asciiEqualFold(k, "remote") {
					f.remoteID = strings.ToLower(string(v))
				}
			}
		case asciiEqualFold(name, "X-CID"):
			f.xcid = string(value)
		}
	}
	f.ok = f.cseqMethod != ""
	if f.request && f.cseqMethod == "" {
		f.cseqMethod = f.method
		f.ok = true
	}
	return f
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c, d := b[i], s[i]
		if c|0x20 != d|0x20 {
			return false
		}
	}
	return true
}

// nullSession is the Session-ID of a UA that does not know its peer's yet (RFC 7989 7).
const nullSession = "00000000000000000000000000000000"
