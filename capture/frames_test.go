package capture_test

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Builders of captured frames for the reader tests: IP packets put together with
// gopacket, wrapped in the link layers captures use, written as pcap or pcapng.

// sipMsg is a small SIP request or response with the given Call-ID and body.
func sipMsg(first, callID, body string) []byte {
	method := "INVITE"
	if f := bytes.Fields([]byte(first)); len(f) > 0 && string(f[0]) != "SIP/2.0" {
		method = string(f[0])
	}
	return []byte(first + "\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\nFrom: <sip:alice@example.com>;tag=1\r\n" +
		"To: <sip:bob@example.com>\r\nCall-ID: " + callID + "\r\nCSeq: 1 " + method + "\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body)
}

type l4 struct {
	tcp            bool
	seq            uint32
	syn, fin       bool
	payload        []byte
	src, dst       netip.AddrPort
	id             uint16 // IPv4 identification
	fragOff        int    // IPv4 fragment offset in bytes (then payload is the raw fragment)
	more           bool
	rawTransport   bool // payload already holds the transport header and data (a fragment)
	proto          layers.IPProtocol
	ipv6FragHeader *layers.IPv6Fragment
}

// ipPacket builds one IP packet.
func ipPacket(t *testing.T, p l4) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	v4 := p.src.Addr().Is4()
	var nl gopacket.NetworkLayer
	var ls []gopacket.SerializableLayer
	proto := layers.IPProtocolUDP
	if p.tcp {
		proto = layers.IPProtocolTCP
	}
	if v4 {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, Id: p.id, SrcIP: net.IP(p.src.Addr().AsSlice()), DstIP: net.IP(p.dst.Addr().AsSlice()),
			FragOffset: uint16(p.fragOff / 8)}
		if p.more {
			ip.Flags = layers.IPv4MoreFragments
		}
		nl, ls = ip, append(ls, ip)
	} else {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: net.IP(p.src.Addr().AsSlice()), DstIP: net.IP(p.dst.Addr().AsSlice())}
		nl, ls = ip, append(ls, ip)
		if p.ipv6FragHeader != nil {
			ip.NextHeader = layers.IPProtocolIPv6Fragment
			ls = append(ls, p.ipv6FragHeader)
		}
	}
	switch {
	case p.rawTransport:
		ls = append(ls, gopacket.Payload(p.payload))
	case p.tcp:
		tcp := &layers.TCP{SrcPort: layers.TCPPort(p.src.Port()), DstPort: layers.TCPPort(p.dst.Port()), Seq: p.seq, ACK: !p.syn, SYN: p.syn, FIN: p.fin, Window: 65535, PSH: len(p.payload) > 0}
		_ = tcp.SetNetworkLayerForChecksum(nl)
		ls = append(ls, tcp, gopacket.Payload(p.payload))
	default:
		udp := &layers.UDP{SrcPort: layers.UDPPort(p.src.Port()), DstPort: layers.UDPPort(p.dst.Port())}
		_ = udp.SetNetworkLayerForChecksum(nl)
		ls = append(ls, udp, gopacket.Payload(p.payload))
	}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// udpBytes is a UDP header and payload, for cutting into IP fragments by hand.
func udpBytes(src, dst netip.AddrPort, payload []byte) []byte {
	b := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(b[0:], src.Port())
	binary.BigEndian.PutUint16(b[2:], dst.Port())
	binary.BigEndian.PutUint16(b[4:], uint16(8+len(payload)))
	return append(b, payload...) // checksum 0: none, allowed for UDP over IPv4
}

// link wraps an IP packet in a link-layer header.
func link(lt layers.LinkType, ip []byte) []byte {
	ethType := []byte{0x08, 0x00}
	if ip[0]>>4 == 6 {
		ethType = []byte{0x86, 0xdd}
	}
	var h []byte
	switch lt {
	case layers.LinkTypeEthernet:
		h = append([]byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2}, ethType...)
	case layers.LinkType(1000): // our marker: Ethernet with an 802.1Q tag
		h = append([]byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x81, 0x00, 0x00, 0x64}, ethType...)
	case layers.LinkTypeLinuxSLL:
		h = append([]byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0}, ethType...)
	case layers.LinkType(276): // SLL2
		h = append(append([]byte{}, ethType...), 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0)
	case layers.LinkTypeNull: // host order: little endian here
		fam := uint32(2)
		if ip[0]>>4 == 6 {
			fam = 30
		}
		h = binary.LittleEndian.AppendUint32(nil, fam)
	case layers.LinkTypeLoop: // network order
		fam := uint32(2)
		if ip[0]>>4 == 6 {
			fam = 24
		}
		h = binary.BigEndian.AppendUint32(nil, fam)
	}
	return append(h, ip...)
}

type frame struct {
	at   time.Time
	data []byte
}

// pcapFile writes frames as classic pcap.
func pcapFile(t *testing.T, lt layers.LinkType, frames []frame) []byte {
	t.Helper()
	if lt == layers.LinkType(1000) {
		lt = layers.LinkTypeEthernet
	}
	var b bytes.Buffer
	w := pcapgo.NewWriter(&b)
	if err := w.WriteFileHeader(65535, lt); err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: f.at, CaptureLength: len(f.data), Length: len(f.data)}, f.data); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// pcapngFile writes frames as pcapng.
func pcapngFile(t *testing.T, lt layers.LinkType, frames []frame) []byte {
	t.Helper()
	if lt == layers.LinkType(1000) {
		lt = layers.LinkTypeEthernet
	}
	var b bytes.Buffer
	w, err := pcapgo.NewNgWriter(&b, lt)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: f.at, CaptureLength: len(f.data), Length: len(f.data)}, f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
