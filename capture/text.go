package capture

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/siplens/siplens/trace"
)

// A sngrep text export (Save as .txt) writes each message as a header line, the
// message, and an empty line:
//
//	2026/03/01 12:00:00.123456 10.0.0.1:5060 -> 10.0.0.2:5060
//	INVITE sip:bob@example.com SIP/2.0
//	...
//
// The date and time are the capture's, in the local time of the machine that wrote the
// file; we read them as UTC, since the file does not say which zone it was.
var textLogHeader = regexp.MustCompile(`^(\d{4}/\d{2}/\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?) (\S+) -> (\S+)$`)

const maxTextMessage = 1 << 20

func (r *Reader) textStep(br *bufio.Reader) func() error {
	var (
		header []string // the current message's header line, split
		body   bytes.Buffer
		eof    bool
	)
	flush := func() {
		if header == nil {
			return
		}
		r.Packets++
		rec, err := textRecord(header, body.Bytes())
		header = nil
		body.Reset()
		if err != nil {
			r.problems.Add("unreadable log entry")
			return
		}
		if !looksLikeSIP(rec.Raw) {
			r.problems.Add("log entry not SIP")
			return
		}
		r.emit(withCallID(rec))
	}
	return func() error {
		for len(r.queue) == 0 {
			if eof {
				return io.EOF
			}
			line, err := br.ReadBytes('\n')
			if len(line) > 0 {
				if m := textLogHeader.FindSubmatch(bytes.TrimRight(line, "\r\n")); m != nil {
					flush()
					header = []string{string(m[1]), string(m[2]), string(m[3]), string(m[4])}
				} else if header != nil {
					if body.Len()+len(line) > maxTextMessage {
						r.problems.Add("log entry too long")
						header = nil
						body.Reset()
					} else {
						body.Write(line)
					}
				} else if len(bytes.TrimSpace(line)) > 0 {
					r.problems.Add("unreadable log line")
				}
			}
			if err != nil {
				eof = true
				flush()
				if !errors.Is(err, io.EOF) {
					return fmt.Errorf("capture: read log: %w", err)
				}
			}
		}
		return nil
	}
}

// textRecord rebuilds one message from a log entry: line breaks become CRLF again
// (editors and copies lose the CRs), and the body is cut at Content-Length, which also
// drops the blank line the export puts after each message.
func textRecord(h []string, text []byte) (Record, error) {
	at, err := time.Parse("2006/01/02 15:04:05.999999999", h[0]+" "+h[1])
	if err != nil {
		return Record{}, err
	}
	src, err := netip.ParseAddrPort(h[2])
	if err != nil {
		return Record{}, err
	}
	dst, err := netip.ParseAddrPort(h[3])
	if err != nil {
		return Record{}, err
	}
	text = bytes.ReplaceAll(text, []byte("\r\n"), []byte("\n"))
	head, body, found := bytes.Cut(text, []byte("\n\n"))
	var raw bytes.Buffer
	for _, line := range bytes.Split(bytes.TrimRight(head, "\n"), []byte("\n")) {
		raw.Write(line)
		raw.WriteString("\r\n")
	}
	raw.WriteString("\r\n")
	if found {
		n := contentLengthOf(head)
		body = bytes.ReplaceAll(body, []byte("\n"), []byte("\r\n"))
		switch {
		case n >= 0 && n <= len(body):
			body = body[:n]
		case n < 0:
			body = bytes.TrimRight(body, "\r\n")
		}
		raw.Write(body)
	}
	return Record{Time: at.UTC(), Transport: "UDP", Src: src.String(), Dst: dst.String(), Raw: raw.Bytes()}, nil
}

func contentLengthOf(head []byte) int {
	for _, line := range bytes.Split(head, []byte("\n")) {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		name = bytes.TrimSpace(name)
		if bytes.EqualFold(name, []byte("Content-Length")) || bytes.EqualFold(name, []byte("l")) {
			n, err := strconv.Atoi(string(bytes.TrimSpace(value)))
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// traceStep reads siplens' trace export: trace.Call JSON values (`siplens show CALL-ID
// --format trace`), one after another, or arrays of them. The recorded Local address
// and siplens' decisions come along, so the analysis sees what the live server saw.
func (r *Reader) traceStep(br *bufio.Reader) func() error {
	dec := json.NewDecoder(br)
	return func() error {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return io.EOF
			}
			r.problems.Add("trace export corrupt, read stopped")
			return io.EOF
		}
		var calls []trace.Call
		if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
			if err := json.Unmarshal(raw, &calls); err != nil {
				r.problems.Add("unreadable trace record")
				return nil
			}
		} else {
			var c trace.Call
			if err := json.Unmarshal(raw, &c); err != nil || c.CallID == "" && len(c.Messages) == 0 {
				r.problems.Add("unreadable trace record")
				return nil
			}
			calls = append(calls, c)
		}
		for i := range calls {
			r.emitCall(&calls[i])
		}
		return nil
	}
}

func (r *Reader) emitCall(c *trace.Call) {
	c.Sort()
	for i := range c.Messages {
		m := &c.Messages[i]
		r.Packets++
		transport := strings.ToUpper(m.Transport)
		r.emit(Record{Time: m.Time, Transport: transport, Src: m.From(), Dst: m.To(), Raw: m.Raw,
			CallID: cmpString(m.CallID, c.CallID), Local: m.Local})
	}
	for i := range c.Events {
		ev := c.Events[i]
		ev.CallID = cmpString(ev.CallID, c.CallID)
		r.emit(Record{Time: ev.Time, CallID: ev.CallID, Event: &ev})
	}
}

func cmpString(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func withCallID(r Record) Record {
	r.CallID = trace.CallIDOf(r.Raw)
	return r
}
