package trace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/klauspost/compress/s2"
)

// The SQLite sink stores the entries a batch adds to a call as one chunk: a compact
// binary encoding of the messages and events, one after the other. Writing one row per
// call per batch instead of one per entry is what makes recording cheap (SQLite's cost
// is per row and per index entry far more than per byte), and the binary form costs
// nothing like JSON's reflection.
//
//	chunk   = version(1 byte) *entry
//	entry   = kind(1 byte: 1 message, 2 event) seq(uvarint) time_us(varint) fields
//	message = direction(1 byte) transport local remote raw
//	event   = method cseq(uvarint) kind verdict producer reason code(varint) rule user
//	          branch(varint) target destination count(varint) retry_after(varint)
//	          duration(varint, ns)
//
// Strings and raw bytes are a uvarint length and the bytes. A new field of Event needs
// a new version (decodeChunk keeps reading the old ones).
//
// The SQLite sink stores a chunk packed: the byte chunkPacked, then the version-1 chunk
// after its version byte, compressed as one S2 block. A proxy records each message twice
// (in, and out with one more Via) and every message of a call repeats its Call-ID, From
// and To, so a call's chunk shrinks about fourfold; the bytes SQLite then copies into
// its log and back into the file at each checkpoint were most of the cost of recording.
const (
	chunkVersion = 1
	chunkPacked  = 2
)

var errBadChunk = errors.New("trace: corrupt entry chunk")

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendMessage(b []byte, m *Message) []byte {
	b = append(b, entryMessage)
	b = binary.AppendUvarint(b, m.Seq)
	b = binary.AppendVarint(b, m.Time.UnixMicro())
	b = append(b, byte(m.Direction))
	b = appendString(b, m.Transport)
	b = appendString(b, m.Local)
	b = appendString(b, m.Remote)
	b = binary.AppendUvarint(b, uint64(len(m.Raw)))
	return append(b, m.Raw...)
}

func appendEvent(b []byte, ev *Event) []byte {
	b = append(b, entryEvent)
	b = binary.AppendUvarint(b, ev.Seq)
	b = binary.AppendVarint(b, ev.Time.UnixMicro())
	b = appendString(b, ev.Method)
	b = binary.AppendUvarint(b, uint64(ev.CSeq))
	b = appendString(b, string(ev.Kind))
	b = appendString(b, string(ev.Verdict))
	b = appendString(b, ev.Producer)
	b = appendString(b, ev.Reason)
	b = binary.AppendVarint(b, int64(ev.Code))
	b = appendString(b, ev.Rule)
	b = appendString(b, ev.User)
	b = binary.AppendVarint(b, int64(ev.Branch))
	b = appendString(b, ev.Target)
	b = appendString(b, ev.Destination)
	b = binary.AppendVarint(b, int64(ev.Count))
	b = binary.AppendVarint(b, int64(ev.RetryAfter))
	return binary.AppendVarint(b, int64(ev.Duration))
}

// chunkReader decodes a chunk; the first error sticks.
type chunkReader struct {
	b   []byte
	err error
	// The last strings read, reused when they repeat (addresses, transports): a call's
	// messages mostly share them.
	last [4]string
}

func (r *chunkReader) fail() {
	if r.err == nil {
		r.err = errBadChunk
	}
	r.b = nil
}

func (r *chunkReader) byte() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *chunkReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *chunkReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *chunkReader) bytes() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *chunkReader) string() string { return string(r.bytes()) }

// shared reads a string that often repeats the one in slot i.
func (r *chunkReader) shared(i int) string {
	v := r.bytes()
	if string(v) != r.last[i] {
		r.last[i] = string(v)
	}
	return r.last[i]
}

// decodeChunk appends the chunk's entries to c. Raw slices share the chunk's memory,
// which the caller hands over.
func decodeChunk(c *Call, data []byte) error {
	if len(data) > 0 && data[0] == chunkPacked {
		plain, err := s2.Decode(nil, data[1:])
		if err != nil {
			return fmt.Errorf("%w: %v", errBadChunk, err)
		}
		data = append([]byte{chunkVersion}, plain...)
	}
	if len(data) == 0 || data[0] != chunkVersion {
		return fmt.Errorf("trace: entry chunk of unknown version")
	}
	r := chunkReader{b: data[1:]}
	for len(r.b) > 0 && r.err == nil {
		kind := r.byte()
		seq := r.uvarint()
		at := time.UnixMicro(r.varint()).UTC()
		switch kind {
		case entryMessage:
			m := Message{CallID: c.CallID, Seq: seq, Time: at}
			m.Direction = Direction(r.byte())
			m.Transport = r.shared(0)
			m.Local = r.shared(1)
			m.Remote = r.shared(2)
			if raw := r.bytes(); len(raw) > 0 {
				m.Raw = raw
			}
			c.Messages = append(c.Messages, m)
		case entryEvent:
			ev := Event{CallID: c.CallID, Seq: seq, Time: at}
			ev.Method = r.shared(3)
			ev.CSeq = uint32(r.uvarint())
			ev.Kind = Kind(r.string())
			ev.Verdict = Verdict(r.string())
			ev.Producer = r.string()
			ev.Reason = r.string()
			ev.Code = int(r.varint())
			ev.Rule = r.string()
			ev.User = r.string()
			ev.Branch = int(r.varint())
			ev.Target = r.string()
			ev.Destination = r.string()
			ev.Count = int(r.varint())
			ev.RetryAfter = int(r.varint())
			ev.Duration = time.Duration(r.varint())
			c.Events = append(c.Events, ev)
		default:
			r.fail()
		}
	}
	return r.err
}

// packChunks packs each chunk (see chunkPacked) into one buffer, reused from buf, and
// returns it with the packed chunks pointing into it.
func packChunks(buf []byte, chunks [][]byte) ([]byte, [][]byte) {
	need := 0
	for _, c := range chunks {
		need += 1 + s2.MaxEncodedLen(len(c)-1)
	}
	if cap(buf) < need {
		buf = make([]byte, 0, need)
	}
	buf = buf[:0]
	for i, c := range chunks {
		start := len(buf)
		buf = append(buf, chunkPacked)
		n := len(s2.Encode(buf[len(buf):cap(buf)], c[1:]))
		buf = buf[:len(buf)+n]
		chunks[i] = buf[start:len(buf):len(buf)]
	}
	return buf, chunks
}
