package capture

import (
	"bytes"
	"maps"
	"slices"
	"time"

	"github.com/siplens/siplens/trace"
)

// Record is one SIP message read from a capture or a log, or (from siplens' own trace
// export only) one decision siplens recorded.
type Record struct {
	Time time.Time
	// Transport is "UDP" or "TCP" for packets; a log says what it knows.
	Transport string
	// Src and Dst are "ip:port".
	Src, Dst string
	// Raw is the SIP message, owned by the record.
	Raw []byte
	// CallID is the message's Call-ID, or the call an Event belongs to.
	CallID string
	// Local is set when the source knows which end was the recording host (siplens'
	// trace export): the analysis then takes that host's view instead of guessing one.
	Local string
	// Event, when set, is a decision of siplens rather than a message; Raw is empty.
	Event *trace.Event
	// Origin says how the message was carried when that is worth telling: "HEP" for a
	// copy a capture agent sent.
	Origin string
}

// Problems counts input that could not be read, by kind ("truncated packet", "not
// SIP", "TCP gap", ...). Reading goes on past all of them.
type Problems map[string]int

// Add counts one problem.
func (p Problems) Add(kind string) { p[kind]++ }

// Total is the number of problems of every kind.
func (p Problems) Total() int {
	n := 0
	for _, v := range p {
		n += v
	}
	return n
}

// Kinds lists the kinds, most frequent first.
func (p Problems) Kinds() []string {
	ks := slices.Collect(maps.Keys(p))
	slices.SortFunc(ks, func(a, b string) int {
		if p[a] != p[b] {
			return p[b] - p[a]
		}
		if a < b {
			return -1
		}
		return 1
	})
	return ks
}

// Problem kinds that are not damage: a capture normally holds packets that are not SIP.
const (
	NotSIP    = "not SIP (ignored)"
	KeepAlive = "keep-alive (ignored)"
)

// Damaged says whether a kind is real damage rather than traffic we do not read.
func Damaged(kind string) bool { return kind != NotSIP && kind != KeepAlive }

// looksLikeSIP recognises SIP by content, on any port: a status line "SIP/2.0 ", or a
// request line "METHOD uri SIP/2.0" (RFC 3261 7.1).
func looksLikeSIP(b []byte) bool {
	b = trimCRLF(b)
	if bytes.HasPrefix(b, []byte("SIP/2.0 ")) {
		return true
	}
	end := bytes.IndexByte(b, '\n')
	if end < 0 {
		if len(b) > 512 {
			return false
		}
		end = len(b)
	}
	line := bytes.TrimRight(b[:end], "\r")
	if !bytes.HasSuffix(line, []byte(" SIP/2.0")) {
		return false
	}
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 {
		return false
	}
	for _, c := range line[:sp] {
		if (c < 'A' || c > 'Z') && c != '-' && c != '_' && c != '.' && c != '!' && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func trimCRLF(b []byte) []byte {
	for len(b) > 0 && (b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	return b
}

// onlyCRLF says whether b is a keep-alive: line breaks and nothing else (RFC 5626 3.5.1).
func onlyCRLF(b []byte) bool { return len(b) > 0 && len(trimCRLF(b)) == 0 }
