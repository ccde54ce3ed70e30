package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"
)

// HEP version 3 (the Homer Encapsulation Protocol that Kamailio's siptrace, OpenSIPS'
// proto_hep and heplify send): "HEP3", a 16-bit total length, then chunks of vendor
// (16 bits), type (16 bits), length (16 bits, header included) and data. Only the
// generic chunks (vendor 0) matter here.
const (
	hepFamily     = 1
	hepProto      = 2
	hepSrc4       = 3
	hepDst4       = 4
	hepSrc6       = 5
	hepDst6       = 6
	hepSrcPort    = 7
	hepDstPort    = 8
	hepSeconds    = 9
	hepMicros     = 10
	hepType       = 11
	hepPayload    = 15
	hepCompressed = 16
	hepCorrelate  = 17

	hepTypeSIP = 1
)

var errNotHEP = errors.New("not a HEP3 packet")

func isHEP(b []byte) bool { return len(b) >= 6 && bytes.HasPrefix(b, []byte("HEP3")) }

// decodeHEP reads one HEP3 packet from the start of b. It returns the SIP it carries
// (Raw nil when the payload is not SIP, an RTCP report say) and the packet's length.
func decodeHEP(b []byte) (Record, int, error) {
	if !isHEP(b) {
		return Record{}, 0, errNotHEP
	}
	total := int(binary.BigEndian.Uint16(b[4:6]))
	if total < 6 || total > len(b) {
		return Record{}, 0, fmt.Errorf("HEP3 length %d, %d bytes available", total, len(b))
	}
	var (
		src, dst         netip.Addr
		sport, dport     uint16
		secs, usecs      uint32
		haveTime         bool
		proto            uint8
		payloadType      uint8 = hepTypeSIP
		payload          []byte
		compressed       bool
		seenSrc, seenDst bool
	)
	for c := b[6:total]; len(c) > 0; {
		if len(c) < 6 {
			return Record{}, 0, errors.New("HEP3 chunk header cut short")
		}
		vendor, typ := binary.BigEndian.Uint16(c[0:2]), binary.BigEndian.Uint16(c[2:4])
		n := int(binary.BigEndian.Uint16(c[4:6]))
		if n < 6 || n > len(c) {
			return Record{}, 0, fmt.Errorf("HEP3 chunk %d length %d", typ, n)
		}
		data := c[6:n]
		c = c[n:]
		if vendor != 0 {
			continue
		}
		switch typ {
		case hepProto:
			if len(data) >= 1 {
				proto = data[0]
			}
		case hepSrc4, hepDst4:
			if len(data) != 4 {
				return Record{}, 0, errors.New("HEP3 IPv4 address of the wrong size")
			}
			a := netip.AddrFrom4([4]byte(data))
			if typ == hepSrc4 {
				src, seenSrc = a, true
			} else {
				dst, seenDst = a, true
			}
		case hepSrc6, hepDst6:
			if len(data) != 16 {
				return Record{}, 0, errors.New("HEP3 IPv6 address of the wrong size")
			}
			a := netip.AddrFrom16([16]byte(data))
			if typ == hepSrc6 {
				src, seenSrc = a, true
			} else {
				dst, seenDst = a, true
			}
		case hepSrcPort, hepDstPort:
			if len(data) != 2 {
				return Record{}, 0, errors.New("HEP3 port of the wrong size")
			}
			if typ == hepSrcPort {
				sport = binary.BigEndian.Uint16(data)
			} else {
				dport = binary.BigEndian.Uint16(data)
			}
		case hepSeconds:
			if len(data) == 4 {
				secs, haveTime = binary.BigEndian.Uint32(data), true
			}
		case hepMicros:
			if len(data) == 4 {
				usecs = binary.BigEndian.Uint32(data)
			}
		case hepType:
			if len(data) >= 1 {
				payloadType = data[0]
			}
		case hepPayload:
			payload = data
		case hepCompressed:
			payload, compressed = data, true
		}
	}
	if !seenSrc || !seenDst {
		return Record{}, 0, errors.New("HEP3 packet without addresses")
	}
	rec := Record{Src: netip.AddrPortFrom(src, sport).String(), Dst: netip.AddrPortFrom(dst, dport).String(), Origin: "HEP"}
	switch proto {
	case protoTCP:
		rec.Transport = "TCP"
	default:
		rec.Transport = "UDP"
	}
	if haveTime {
		rec.Time = time.Unix(int64(secs), int64(usecs)*1000).UTC()
	}
	if payloadType != hepTypeSIP || payload == nil {
		return rec, total, nil
	}
	if compressed {
		zr, err := gzip.NewReader(bytes.NewReader(payload))
		if err != nil {
			return Record{}, 0, fmt.Errorf("HEP3 compressed payload: %w", err)
		}
		p, err := io.ReadAll(io.LimitReader(zr, 1<<20))
		if err != nil {
			return Record{}, 0, fmt.Errorf("HEP3 compressed payload: %w", err)
		}
		payload = p
	}
	rec.Raw = append([]byte(nil), payload...)
	return rec, total, nil
}

// EncodeHEP writes a record as a HEP3 packet, as a capture agent would send it. Tests
// and the bench use it to make HEP input.
func EncodeHEP(r Record) ([]byte, error) {
	src, err := netip.ParseAddrPort(r.Src)
	if err != nil {
		return nil, fmt.Errorf("hep: source %q: %w", r.Src, err)
	}
	dst, err := netip.ParseAddrPort(r.Dst)
	if err != nil {
		return nil, fmt.Errorf("hep: destination %q: %w", r.Dst, err)
	}
	var b bytes.Buffer
	b.WriteString("HEP3\x00\x00")
	chunk := func(typ uint16, data []byte) {
		var h [6]byte
		binary.BigEndian.PutUint16(h[2:4], typ)
		binary.BigEndian.PutUint16(h[4:6], uint16(6+len(data)))
		b.Write(h[:])
		b.Write(data)
	}
	u16 := func(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
	u32 := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	s, d := src.Addr().Unmap(), dst.Addr().Unmap()
	if s.Is4() && d.Is4() {
		chunk(hepFamily, []byte{2})
	} else {
		chunk(hepFamily, []byte{10})
		s, d = netip.AddrFrom16(s.As16()), netip.AddrFrom16(d.As16())
	}
	proto := byte(protoUDP)
	if r.Transport == "TCP" {
		proto = protoTCP
	}
	chunk(hepProto, []byte{proto})
	if s.Is4() {
		chunk(hepSrc4, s.AsSlice())
		chunk(hepDst4, d.AsSlice())
	} else {
		chunk(hepSrc6, s.AsSlice())
		chunk(hepDst6, d.AsSlice())
	}
	chunk(hepSrcPort, u16(src.Port()))
	chunk(hepDstPort, u16(dst.Port()))
	chunk(hepSeconds, u32(uint32(r.Time.Unix())))
	chunk(hepMicros, u32(uint32(r.Time.Nanosecond()/1000)))
	chunk(hepType, []byte{hepTypeSIP})
	chunk(12, u32(2001)) // capture agent id
	chunk(hepPayload, r.Raw)
	if b.Len() > 0xffff {
		return nil, fmt.Errorf("hep: message of %d bytes does not fit a HEP3 packet", len(r.Raw))
	}
	out := b.Bytes()
	binary.BigEndian.PutUint16(out[4:6], uint16(len(out)))
	return out, nil
}
