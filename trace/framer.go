package trace

import (
	"bytes"
	"strconv"
)

// MaxFrame bounds the bytes a StreamFramer holds for one unfinished message; past it the
// stream is taken to be garbage and the buffer is dropped, so a peer sending endless
// headers cannot grow the tracer's memory.
const MaxFrame = 64 << 10

// StreamFramer cuts a byte stream (TCP, TLS) into SIP messages. Reads on a stream arrive
// in chunks that may hold part of a message or several messages; the Content-Length of
// each message says where it ends (RFC 3261 18.3). Keep-alive line breaks between
// messages (RFC 5626 3.5.1) are skipped. The pcap importer needs the same for TCP
// captures.
type StreamFramer struct {
	buf []byte
}

// Write adds a chunk and returns the messages it completed. The returned slices are
// owned by the caller.
func (f *StreamFramer) Write(chunk []byte) [][]byte {
	f.buf = append(f.buf, chunk...)
	var out [][]byte
	for {
		f.buf = trimLeadingCRLF(f.buf)
		if len(f.buf) == 0 {
			f.buf = nil
			return out
		}
		n, complete := frameLength(f.buf)
		if !complete {
			if len(f.buf) > MaxFrame {
				f.buf = nil
			}
			return out
		}
		msg := make([]byte, n)
		copy(msg, f.buf[:n])
		out = append(out, msg)
		f.buf = f.buf[n:]
	}
}

// Pending reports whether part of a message is waiting for more bytes.
func (f *StreamFramer) Pending() bool { return len(f.buf) > 0 }

// frameLength returns the length of the first message in b, and whether b holds all of
// it. A message without Content-Length on a stream has an empty body.
func frameLength(b []byte) (int, bool) {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		return 0, false
	}
	headerLen := end + 4
	bodyLen := contentLength(b[:end])
	if bodyLen < 0 {
		bodyLen = 0
	}
	if len(b) < headerLen+bodyLen {
		return 0, false
	}
	return headerLen + bodyLen, true
}

// contentLength reads Content-Length (or "l") from a header block; -1 when absent.
func contentLength(head []byte) int {
	for len(head) > 0 {
		var line []byte
		if i := bytes.Index(head, []byte("\r\n")); i >= 0 {
			line, head = head[:i], head[i+2:]
		} else {
			line, head = head, nil
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			continue
		}
		name := bytes.TrimSpace(line[:colon])
		if (len(name) == 1 && (name[0] == 'l' || name[0] == 'L')) || bytes.EqualFold(name, []byte("content-length")) {
			n, err := strconv.Atoi(string(bytes.TrimSpace(line[colon+1:])))
			if err != nil || n < 0 {
				return -1
			}
			return n
		}
	}
	return -1
}
