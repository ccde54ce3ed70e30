package capture

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Formats the reader recognises by their first bytes.
const (
	FormatPCAP   = "pcap"
	FormatPCAPNG = "pcapng"
	FormatHEP    = "hep"
	FormatTrace  = "siplens trace"
	FormatText   = "text log"
)

// Reader reads SIP records from a capture or a log, whatever its format: pcap, pcapng,
// a file of HEP3 packets, siplens' trace export (JSON) or a text log as sngrep writes
// it; any of them gzip-compressed. Damage in the input is counted in Problems, never
// fatal: a truncated capture yields what it holds up to the cut.
type Reader struct {
	// Format is the format found, one of the Format constants; Compressed says it was
	// gzip'd.
	Format     string
	Compressed bool
	// Packets counts frames (pcap, pcapng, HEP) or entries (logs) read.
	Packets int

	problems Problems
	queue    []Record
	head     int
	step     func() error // reads one unit of input into the queue; io.EOF at the end
	done     bool
}

// NewReader finds the format of r and prepares to read it.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	rd := &Reader{problems: Problems{}}
	magic, _ := br.Peek(4)
	if len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("capture: gzip: %w", err)
		}
		rd.Compressed = true
		br = bufio.NewReaderSize(&gzipTail{r: zr, problems: rd.problems}, 1<<20)
		magic, _ = br.Peek(4)
	}
	if len(magic) == 0 {
		return nil, errors.New("capture: the input is empty")
	}
	switch {
	case len(magic) == 4 && isPCAPMagic(magic):
		return rd, rd.openPCAP(br)
	case len(magic) == 4 && binary.BigEndian.Uint32(magic) == 0x0a0d0d0a:
		return rd, rd.openPCAPNG(br)
	case bytes.HasPrefix(magic, []byte("HEP3")):
		rd.Format = FormatHEP
		rd.step = rd.hepStep(br)
		return rd, nil
	}
	head, _ := br.Peek(4096)
	switch t := bytes.TrimLeft(head, " \t\r\n"); {
	case len(t) > 0 && (t[0] == '{' || t[0] == '['):
		rd.Format = FormatTrace
		rd.step = rd.traceStep(br)
		return rd, nil
	case textLogHeader.Match(firstLine(t)):
		rd.Format = FormatText
		rd.step = rd.textStep(br)
		return rd, nil
	}
	return nil, errors.New("capture: unknown format: not pcap, pcapng, HEP3, a siplens trace export nor a sngrep text log")
}

func isPCAPMagic(m []byte) bool {
	switch binary.BigEndian.Uint32(m) {
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1:
		return true
	}
	return false
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return bytes.TrimRight(b[:i], "\r")
	}
	return b
}

// Problems counts what could not be read so far.
func (r *Reader) Problems() Problems { return r.problems }

// Next returns the next record, or io.EOF after the last one.
func (r *Reader) Next() (Record, error) {
	for r.head >= len(r.queue) {
		r.queue, r.head = r.queue[:0], 0
		if r.done {
			return Record{}, io.EOF
		}
		if err := r.step(); err != nil {
			r.done = true
			if !errors.Is(err, io.EOF) {
				return Record{}, err
			}
		}
	}
	rec := r.queue[r.head]
	r.queue[r.head] = Record{}
	r.head++
	return rec, nil
}

func (r *Reader) emit(rec Record) { r.queue = append(r.queue, rec) }

// packetSource is what pcapgo's two readers share.
type packetSource interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

func (r *Reader) openPCAP(br io.Reader) error {
	r.Format = FormatPCAP
	pr, err := pcapgo.NewReader(br)
	if err != nil {
		return fmt.Errorf("capture: pcap header: %w", err)
	}
	link := pr.LinkType()
	r.step = r.packetStep(pr, func(gopacket.CaptureInfo) layers.LinkType { return link })
	return nil
}

func (r *Reader) openPCAPNG(br io.Reader) error {
	r.Format = FormatPCAPNG
	nr, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true, SkipUnknownVersion: true})
	if err != nil {
		return fmt.Errorf("capture: pcapng header: %w", err)
	}
	r.step = r.packetStep(nr, func(ci gopacket.CaptureInfo) layers.LinkType {
		if len(ci.AncillaryData) > 0 {
			if lt, ok := ci.AncillaryData[0].(layers.LinkType); ok {
				return lt
			}
		}
		return nr.LinkType()
	})
	return nil
}

// packetStep reads frames until one yields records (or the input ends).
func (r *Reader) packetStep(src packetSource, linkOf func(gopacket.CaptureInfo) layers.LinkType) func() error {
	dec := newDecoder(r.problems, r.emit)
	return func() error {
		for len(r.queue) == 0 {
			data, ci, err := src.ZeroCopyReadPacketData()
			if err != nil {
				dec.finish()
				switch {
				case errors.Is(err, io.EOF):
				case errors.Is(err, io.ErrUnexpectedEOF):
					r.problems.Add("capture file truncated")
				default:
					r.problems.Add("capture file corrupt, read stopped (" + err.Error() + ")")
				}
				return io.EOF
			}
			r.Packets++
			dec.frame(linkOf(ci), data, ci.Timestamp.UTC(), ci.CaptureLength < ci.Length)
		}
		return nil
	}
}

// hepStep reads a file of HEP3 packets back to back (what a HEP collector dumps).
func (r *Reader) hepStep(br *bufio.Reader) func() error {
	return func() error {
		head, err := br.Peek(6)
		if len(head) == 0 && errors.Is(err, io.EOF) {
			return io.EOF
		}
		if len(head) < 6 || !isHEP(head) {
			r.problems.Add("HEP file corrupt, read stopped")
			return io.EOF
		}
		n := int(binary.BigEndian.Uint16(head[4:6]))
		if n < 6 {
			// A length that does not cover its own header: no way to find the next packet.
			r.problems.Add("HEP file corrupt, read stopped")
			return io.EOF
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(br, buf); err != nil {
			r.problems.Add("HEP file truncated")
			return io.EOF
		}
		r.Packets++
		rec, _, err := decodeHEP(buf)
		switch {
		case err != nil:
			r.problems.Add("bad HEP packet")
		case rec.Raw == nil:
			r.problems.Add(NotSIP)
		case !looksLikeSIP(rec.Raw):
			r.problems.Add("HEP payload not SIP")
		default:
			if rec.Time.IsZero() {
				rec.Time = time.Unix(0, 0).UTC()
			}
			rec.Raw = trimCRLF(rec.Raw)
			r.emit(withCallID(rec))
		}
		return nil
	}
}

// gzipTail turns a gzip stream cut short into a clean end plus a counted problem, so
// that a compressed truncated capture reads like an uncompressed one.
type gzipTail struct {
	r        io.Reader
	problems Problems
	failed   bool
}

func (g *gzipTail) Read(p []byte) (int, error) {
	if g.failed {
		return 0, io.EOF
	}
	n, err := g.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		g.failed = true
		g.problems.Add("gzip stream damaged or cut short")
		return n, io.EOF
	}
	return n, err
}
