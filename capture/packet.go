package capture

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/siplens/siplens/trace"
)

// The link layers a capture may use (pcap LINKTYPE_ values). DLT_RAW has had other
// numbers on some systems (12, 14); they mean raw IP too.
const (
	linkNull     = layers.LinkTypeNull
	linkEthernet = layers.LinkTypeEthernet
	linkRaw      = layers.LinkTypeRaw
	linkRaw12    = layers.LinkType(12)
	linkRaw14    = layers.LinkType(14)
	linkLoop     = layers.LinkTypeLoop
	linkSLL      = layers.LinkTypeLinuxSLL
	linkSLL2     = layers.LinkType(276)
	linkIPv4     = layers.LinkTypeIPv4
	linkIPv6     = layers.LinkTypeIPv6
)

const (
	protoTCP = 6
	protoUDP = 17
)

// decoder turns captured frames into SIP records: link layer, IP (with fragment
// reassembly), UDP or TCP (with stream reassembly), and HEP carried in UDP. It decodes
// the headers by hand: a capture of a busy server holds millions of packets and only
// the few fields read here matter.
type decoder struct {
	problems Problems
	frags    *defragmenter
	streams  *streams
	emit     func(Record)
}

func newDecoder(problems Problems, emit func(Record)) *decoder {
	d := &decoder{problems: problems, emit: emit, frags: newDefragmenter(problems)}
	d.streams = newStreams(problems, d.sip)
	return d
}

// frame reads one captured frame of the given link type. truncated says the capture
// kept less than the frame's length (a snap length).
func (d *decoder) frame(link layers.LinkType, data []byte, at time.Time, truncated bool) {
	var ethType uint16
	switch link {
	case linkEthernet:
		if len(data) < 14 {
			d.problems.Add("truncated packet")
			return
		}
		ethType, data = binary.BigEndian.Uint16(data[12:14]), data[14:]
		// 802.1Q and 802.1ad tags, possibly stacked.
		for (ethType == 0x8100 || ethType == 0x88a8 || ethType == 0x9100) && len(data) >= 4 {
			ethType, data = binary.BigEndian.Uint16(data[2:4]), data[4:]
		}
	case linkSLL:
		if len(data) < 16 {
			d.problems.Add("truncated packet")
			return
		}
		ethType, data = binary.BigEndian.Uint16(data[14:16]), data[16:]
	case linkSLL2:
		if len(data) < 20 {
			d.problems.Add("truncated packet")
			return
		}
		ethType, data = binary.BigEndian.Uint16(data[0:2]), data[20:]
	case linkNull, linkLoop:
		if len(data) < 4 {
			d.problems.Add("truncated packet")
			return
		}
		// The address family, in the writer's byte order for DLT_NULL, network order for
		// DLT_LOOP: try both. AF_INET is 2 everywhere; AF_INET6 is 10, 24, 28 or 30.
		fam := binary.LittleEndian.Uint32(data[:4])
		if fam > 0xffff {
			fam = binary.BigEndian.Uint32(data[:4])
		}
		data = data[4:]
		switch fam {
		case 2:
			ethType = 0x0800
		case 10, 24, 28, 30:
			ethType = 0x86dd
		default:
			d.problems.Add(NotSIP)
			return
		}
	case linkRaw, linkRaw12, linkRaw14, linkIPv4, linkIPv6:
		if len(data) == 0 {
			d.problems.Add("truncated packet")
			return
		}
		switch data[0] >> 4 {
		case 4:
			ethType = 0x0800
		case 6:
			ethType = 0x86dd
		}
	default:
		d.problems.Add("unsupported link type " + link.String())
		return
	}
	switch ethType {
	case 0x0800:
		d.ipv4(data, at, truncated)
	case 0x86dd:
		d.ipv6(data, at, truncated)
	default:
		d.problems.Add(NotSIP)
	}
}

func (d *decoder) ipv4(b []byte, at time.Time, truncated bool) {
	if len(b) < 20 || b[0]>>4 != 4 {
		d.problems.Add("malformed IP header")
		return
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:4]))
	if ihl < 20 || total < ihl {
		d.problems.Add("malformed IP header")
		return
	}
	if len(b) < total {
		if truncated {
			d.problems.Add("truncated packet (snap length)")
		} else {
			d.problems.Add("truncated packet")
		}
		return
	}
	b = b[:total] // Ethernet pads short frames
	src := netip.AddrFrom4([4]byte(b[12:16]))
	dst := netip.AddrFrom4([4]byte(b[16:20]))
	proto := b[9]
	flags := binary.BigEndian.Uint16(b[6:8])
	more, offset := flags&0x2000 != 0, int(flags&0x1fff)*8
	payload := b[ihl:]
	if more || offset > 0 {
		key := fragKey{src: src, dst: dst, id: uint32(binary.BigEndian.Uint16(b[4:6])), proto: proto}
		var ok bool
		if payload, ok = d.frags.add(key, offset, more, payload, at); !ok {
			return
		}
	}
	d.transport(proto, src, dst, payload, at)
}

func (d *decoder) ipv6(b []byte, at time.Time, truncated bool) {
	if len(b) < 40 || b[0]>>4 != 6 {
		d.problems.Add("malformed IP header")
		return
	}
	plen := int(binary.BigEndian.Uint16(b[4:6]))
	if len(b) < 40+plen {
		if truncated {
			d.problems.Add("truncated packet (snap length)")
		} else {
			d.problems.Add("truncated packet")
		}
		return
	}
	src := netip.AddrFrom16([16]byte(b[8:24]))
	dst := netip.AddrFrom16([16]byte(b[24:40]))
	next := b[6]
	payload := b[40 : 40+plen]
	// Walk the extension headers to the transport, reassembling fragments on the way.
	for {
		switch next {
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if len(payload) < 8 {
				d.problems.Add("malformed IP header")
				return
			}
			n := (int(payload[1]) + 1) * 8
			if len(payload) < n {
				d.problems.Add("malformed IP header")
				return
			}
			next, payload = payload[0], payload[n:]
			continue
		case 44: // fragment
			if len(payload) < 8 {
				d.problems.Add("malformed IP header")
				return
			}
			fo := binary.BigEndian.Uint16(payload[2:4])
			key := fragKey{src: src, dst: dst, id: binary.BigEndian.Uint32(payload[4:8]), proto: payload[0]}
			next = payload[0]
			var ok bool
			if payload, ok = d.frags.add(key, int(fo&^7), fo&1 != 0, payload[8:], at); !ok {
				return
			}
			continue
		}
		break
	}
	d.transport(next, src, dst, payload, at)
}

func (d *decoder) transport(proto uint8, src, dst netip.Addr, b []byte, at time.Time) {
	switch proto {
	case protoUDP:
		if len(b) < 8 {
			d.problems.Add("malformed UDP header")
			return
		}
		sp, dp := binary.BigEndian.Uint16(b[0:2]), binary.BigEndian.Uint16(b[2:4])
		n := int(binary.BigEndian.Uint16(b[4:6]))
		payload := b[8:]
		if n >= 8 && n-8 <= len(payload) {
			payload = payload[:n-8]
		}
		d.datagram(netip.AddrPortFrom(src, sp), netip.AddrPortFrom(dst, dp), payload, at)
	case protoTCP:
		if len(b) < 20 {
			d.problems.Add("malformed TCP header")
			return
		}
		off := int(b[12]>>4) * 4
		if off < 20 || off > len(b) {
			d.problems.Add("malformed TCP header")
			return
		}
		seg := segment{
			src:   netip.AddrPortFrom(src, binary.BigEndian.Uint16(b[0:2])),
			dst:   netip.AddrPortFrom(dst, binary.BigEndian.Uint16(b[2:4])),
			seq:   binary.BigEndian.Uint32(b[4:8]),
			flags: b[13],
			data:  b[off:],
			at:    at,
		}
		d.streams.segment(seg)
	default:
		d.problems.Add(NotSIP)
	}
}

// datagram reads a UDP payload: SIP, HEP, a keep-alive, or something else.
func (d *decoder) datagram(src, dst netip.AddrPort, b []byte, at time.Time) {
	switch {
	case looksLikeSIP(b):
		d.sip("UDP", src, dst, b, at, "")
	case isHEP(b):
		d.hep(b, at)
	case onlyCRLF(b) || len(b) == 4 && b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0:
		d.problems.Add(KeepAlive)
	default:
		d.problems.Add(NotSIP)
	}
}

// hep reads a HEP packet found in a datagram.
func (d *decoder) hep(b []byte, at time.Time) {
	rec, _, err := decodeHEP(b)
	if err != nil {
		d.problems.Add("bad HEP packet")
		return
	}
	if rec.Raw == nil {
		d.problems.Add("HEP packet without SIP")
		return
	}
	if rec.Time.IsZero() {
		rec.Time = at
	}
	if !looksLikeSIP(rec.Raw) {
		d.problems.Add("HEP payload not SIP")
		return
	}
	d.record(rec)
}

// sip emits a SIP message; the bytes are copied, since frames are reused.
func (d *decoder) sip(transport string, src, dst netip.AddrPort, b []byte, at time.Time, origin string) {
	raw := make([]byte, len(b))
	copy(raw, b)
	d.record(Record{Time: at, Transport: transport, Src: src.String(), Dst: dst.String(), Raw: raw, Origin: origin})
}

func (d *decoder) record(r Record) {
	r.Raw = trimCRLF(r.Raw)
	r.CallID = trace.CallIDOf(r.Raw)
	d.emit(r)
}

// finish reports what is left half-read at the end of the input.
func (d *decoder) finish() {
	d.frags.flush()
	d.streams.flush()
}
