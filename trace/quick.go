package trace

import (
	"bytes"
	"strconv"
	"strings"
	"unsafe"
)

// facts are what the summarizer reads from a message: the start line, the CSeq, From
// and To. quickFacts finds them with a scan of the header block that allocates nothing,
// where Parse builds the whole header list: the writer reads every message.
type facts struct {
	request    bool
	method     string // request
	code       int    // response
	cseq       uint32
	cseqMethod string
	from, to   string // the header values; they may point into the message's bytes
}

// factsOf reads a message's facts, as Parse would read them.
func factsOf(raw []byte) (facts, bool) {
	if f, ok, sure := quickFacts(raw); sure {
		return f, ok
	}
	p, err := Parse(raw)
	if err != nil {
		return facts{}, false
	}
	f := facts{request: p.Request, method: p.Method, code: p.Code, from: p.Get("From"), to: p.Get("To")}
	f.cseq, f.cseqMethod = p.CSeq()
	return f, true
}

// quickFacts is factsOf for the common case. sure is false when the message has
// something Parse treats with care (folded header lines, a start line that is not plain
// ASCII): factsOf then parses it. The strings point into raw, which a Message never
// changes; the summarizer copies the ones it keeps.
func quickFacts(raw []byte) (f facts, ok, sure bool) {
	raw = trimLeadingCRLF(raw)
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 {
		if end = bytes.Index(raw, []byte("\n\n")); end < 0 {
			end = len(raw)
		}
	}
	if end == 0 {
		return f, false, false
	}
	head := unsafe.String(&raw[0], end)
	first, rest, _ := strings.Cut(head, "\n")
	first = strings.TrimSuffix(first, "\r")
	for i := 0; i < len(first); i++ {
		if first[i] >= 0x80 {
			return f, false, false
		}
	}
	if strings.HasPrefix(first, "SIP/") {
		_, r, _ := strings.Cut(first, " ")
		codeText, _, _ := strings.Cut(r, " ")
		code, err := strconv.Atoi(codeText)
		if err != nil || code < 100 || code > 699 {
			return f, false, true
		}
		f.code = code
	} else {
		// strings.Fields, for ASCII: exactly three fields, the last SIP/...
		var fields [3]string
		n := 0
		for i := 0; i < len(first); {
			for i < len(first) && asciiSpace(first[i]) {
				i++
			}
			if i == len(first) {
				break
			}
			j := i
			for j < len(first) && !asciiSpace(first[j]) {
				j++
			}
			if n == 3 {
				return f, false, true
			}
			fields[n] = first[i:j]
			n++
			i = j
		}
		if n != 3 || !strings.HasPrefix(fields[2], "SIP/") {
			return f, false, true
		}
		f.request, f.method = true, fields[0]
	}
	var haveFrom, haveTo, haveCSeq bool
	var cseq string
	for rest != "" {
		if haveFrom && haveTo && haveCSeq {
			// Done, unless the next line folds into the last header found.
			if rest[0] == ' ' || rest[0] == '\t' {
				return f, false, false
			}
			break
		}
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			return f, false, false // a folded line: Parse joins it to the previous header
		}
		name, value, found := strings.Cut(line, ":")
		if !found {
			continue
		}
		name = strings.TrimSpace(name)
		switch {
		case !haveFrom && (strings.EqualFold(name, "From") || len(name) == 1 && name[0]|0x20 == 'f'):
			f.from, haveFrom = strings.TrimSpace(value), true
		case !haveTo && (strings.EqualFold(name, "To") || len(name) == 1 && name[0]|0x20 == 't'):
			f.to, haveTo = strings.TrimSpace(value), true
		case !haveCSeq && strings.EqualFold(name, "CSeq"):
			cseq, haveCSeq = strings.TrimSpace(value), true
		}
	}
	// As Parsed.CSeq.
	if num, method, found := strings.Cut(cseq, " "); found {
		if n, err := strconv.ParseUint(num, 10, 32); err == nil {
			f.cseq, f.cseqMethod = uint32(n), strings.TrimSpace(method)
		}
	}
	return f, true, true
}

func asciiSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// internMethod returns the method as a string of its own (not pointing into a
// message), without allocating for the usual ones.
func internMethod(m string) string {
	for _, k := range [...]string{"INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS", "MESSAGE",
		"SUBSCRIBE", "NOTIFY", "REFER", "INFO", "UPDATE", "PRACK", "PUBLISH"} {
		if m == k {
			return k
		}
	}
	return strings.Clone(m)
}
