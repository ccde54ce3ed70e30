package server

import (
	"bytes"
	"fmt"
	"net"
	"strconv"

	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/trace"
)

// prefilter sees every UDP datagram before sipgo parses it. sipgo answers a request without
// Via or CSeq with a bare "400 Bad Request" and silently drops one whose body is shorter
// than its Content-Length; siplens wants the 400 to say what was wrong (RFC 3261 8.2,
// 18.3), and a request without Via cannot be answered at all (responses are routed by Via),
// so it is dropped and counted. Everything else passes untouched. It scans header names
// only, so the common case costs one pass over the header block and no allocation.
func (s *Server) prefilter(props sip.TransportReadProps, data []byte) ([]byte, error) {
	if props.Transport != "UDP" || len(data) < 8 || bytes.HasPrefix(data, []byte("SIP/")) {
		return data, nil // TCP arrives in chunks, and responses are not ours to judge
	}
	end := bytes.Index(data, []byte("\r\n\r\n"))
	if end < 0 {
		return data, nil // sipgo will refuse it and we count the parse failure
	}
	// A bare CR or LF inside the header block would be echoed into our answer and read as a
	// line break by the next parser: such a message is dropped, never answered.
	if bareLineBreak(data[:end]) {
		s.Dropped.Add(1)
		s.log.Debug("dropped a request with a bare CR or LF in its headers", "source", props.RemoteAddr.String())
		return nil, nil
	}
	var via, cseq, from, to, callID []byte
	contentLength := -1
	lines := data[:end]
	first := true
	for len(lines) > 0 {
		var line []byte
		if i := bytes.Index(lines, []byte("\r\n")); i >= 0 {
			line, lines = lines[:i], lines[i+2:]
		} else {
			line, lines = lines, nil
		}
		if first {
			first = false
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			continue
		}
		name := bytes.TrimSpace(line[:colon])
		switch {
		case equalFoldAny(name, "via", "v"):
			if via == nil {
				via = line
			}
		case equalFoldAny(name, "cseq"):
			cseq = line
		case equalFoldAny(name, "from", "f"):
			from = line
		case equalFoldAny(name, "to", "t"):
			to = line
		case equalFoldAny(name, "call-id", "i"):
			callID = line
		case equalFoldAny(name, "content-length", "l"):
			if n, err := strconv.Atoi(string(bytes.TrimSpace(line[colon+1:]))); err == nil {
				contentLength = n
			}
		}
	}
	bodyLen := len(data) - end - 4
	switch {
	case via == nil:
		s.Dropped.Add(1)
		s.log.Debug("dropped a request without Via: no way to route an answer", "source", props.RemoteAddr.String())
		return nil, nil
	case cseq == nil:
		s.answerRaw(props, 400, "Missing CSeq header", "the request has no CSeq header", via, from, to, callID, nil)
		return nil, nil
	case contentLength > bodyLen:
		// RFC 3261 18.3: a datagram shorter than its Content-Length is answered with 400.
		s.answerRaw(props, 400, "Bad Content-Length",
			fmt.Sprintf("Content-Length says %d bytes but the datagram carries %d", contentLength, bodyLen),
			via, from, to, callID, cseq)
		return nil, nil
	case len(data) > s.cfg.Proxy.MaxMessageSize:
		// The sanity step skips its own size check for UDP (see sanity.Step.Prefiltered):
		// the datagram's length is the request's size, known here for free.
		s.answerRaw(props, 513, "Message Too Large",
			fmt.Sprintf("the request is %d bytes, above the limit of %d", len(data), s.cfg.Proxy.MaxMessageSize),
			via, from, to, callID, cseq)
		return nil, nil
	}
	return data, nil
}

// answerRaw sends a response built from the request's own header lines, to the address
// the datagram came from.
func (s *Server) answerRaw(props sip.TransportReadProps, code int, phrase, detail string, lines ...[]byte) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", code, phrase)
	for _, l := range lines {
		if l != nil {
			b.Write(l)
			b.WriteString("\r\n")
		}
	}
	fmt.Fprintf(&b, "Warning: 399 siplens %q\r\nContent-Length: 0\r\n\r\n", detail)
	addr, ok := props.RemoteAddr.(*net.UDPAddr)
	if !ok || s.udp == nil {
		return
	}
	if _, err := s.udp.WriteToUDP(b.Bytes(), addr); err != nil {
		s.log.Debug("sending a 400 failed", "to", addr.String(), "error", err)
	} else if s.tracer != nil {
		// Written past sipgo, so past its wire tap: record it here.
		s.tracer.Message(trace.Message{Direction: trace.Out, Transport: "UDP", Local: s.udp.LocalAddr().String(), Remote: addr.String(), Raw: b.Bytes()})
	}
	s.log.Info("transaction", "source", addr.String(), "transport", "UDP", "code", code, "by", "sanity", "reason", detail)
}

func equalFoldAny(b []byte, names ...string) bool {
	for _, n := range names {
		if len(b) == len(n) && bytes.EqualFold(b, []byte(n)) {
			return true
		}
	}
	return false
}

// bareLineBreak reports a CR not followed by LF or an LF not preceded by CR.
func bareLineBreak(b []byte) bool {
	for i, c := range b {
		switch c {
		case '\r':
			if i+1 >= len(b) || b[i+1] != '\n' {
				return true
			}
		case '\n':
			if i == 0 || b[i-1] != '\r' {
				return true
			}
		}
	}
	return false
}
