package capture

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/siplens/siplens/trace"
)

// snaplen is large enough for any SIP message we write in one frame.
const snaplen = 262144

// maxSegment bounds the payload of one TCP segment we write. A message longer than this
// (rare: SIP over TCP tops out around 64 KiB in practice) is cut into several segments,
// which Wireshark and our reader both reassemble.
const maxSegment = 60000

// placeholder stands in for an address that is not "ip:port" (a record from an older
// version, a hostname): TEST-NET-1 with a stable port, so the packet still reads as SIP.
var placeholder = netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, 1}), 5060)

// WritePCAP writes the call's messages as a classic pcap file (Ethernet frames carrying
// IPv4 or IPv6), one packet per message in time order, timestamped with Message.Time.
// UDP messages become datagrams; TCP, TLS, WS and WSS messages become segments of one
// TCP connection per address pair with consistent sequence numbers, opened with a
// handshake, because Wireshark reassembles streams only when the numbers add up. The
// payload is always the plain SIP text siplens recorded, so TLS and WebSocket traffic is
// written as if it were plain TCP.
func WritePCAP(w io.Writer, c *trace.Call) error {
	bw := bufio.NewWriter(w)
	pw, err := NewWriter(bw)
	if err != nil {
		return err
	}
	msgs := c.Clone()
	msgs.Sort()
	for i := range msgs.Messages {
		if err := pw.WriteMessage(&msgs.Messages[i]); err != nil {
			return fmt.Errorf("capture: call %s message %d: %w", c.CallID, i, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("capture: write pcap: %w", err)
	}
	return nil
}

// Writer writes SIP messages to a pcap stream. It remembers the TCP connections it has
// opened so that sequence numbers continue across messages; messages must come in time
// order. The bench generator writes hundreds of thousands of calls through one Writer.
type Writer struct {
	pw    *pcapgo.Writer
	buf   gopacket.SerializeBuffer
	conns map[connKey]*tcpConn
	ipID  uint16
}

type connKey struct{ a, b netip.AddrPort }

// tcpConn is the state of one written TCP connection: the next sequence number of each
// side, indexed 0 for the side that opened it.
type tcpConn struct {
	opener netip.AddrPort
	next   [2]uint32
}

// NewWriter writes the pcap file header to w and returns a Writer for the packets.
func NewWriter(w io.Writer) (*Writer, error) {
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(snaplen, layers.LinkTypeEthernet); err != nil {
		return nil, fmt.Errorf("capture: write pcap header: %w", err)
	}
	return &Writer{pw: pw, buf: gopacket.NewSerializeBuffer(), conns: map[connKey]*tcpConn{}}, nil
}

// WriteMessage writes one message as it crossed the wire: from Message.From() to
// Message.To().
func (w *Writer) WriteMessage(m *trace.Message) error {
	src, dst := endpoint(m.From()), endpoint(m.To())
	// Both ends must share an IP version; a v4 address beside a v6 one is mapped.
	if src.Addr().Is4() != dst.Addr().Is4() {
		src = netip.AddrPortFrom(netip.AddrFrom16(src.Addr().As16()), src.Port())
		dst = netip.AddrPortFrom(netip.AddrFrom16(dst.Addr().As16()), dst.Port())
	}
	if strings.EqualFold(m.Transport, "UDP") || m.Transport == "" {
		udp := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
		return w.packet(m.Time, src, dst, udp, m.Raw)
	}
	return w.tcp(m.Time, src, dst, m.Raw)
}

func (w *Writer) tcp(at time.Time, src, dst netip.AddrPort, payload []byte) error {
	key := connKey{src, dst}
	if dst.Compare(src) < 0 {
		key = connKey{dst, src}
	}
	c := w.conns[key]
	if c == nil {
		// Open the connection with a three-way handshake from the first sender, with
		// initial sequence numbers derived from the addresses (stable output for goldens).
		c = &tcpConn{opener: src}
		c.next[0], c.next[1] = isn(src, dst), isn(dst, src)
		w.conns[key] = c
		syn := w.segment(c, src, dst)
		syn.SYN, syn.ACK, syn.Ack = true, false, 0
		if err := w.packet(at, src, dst, syn, nil); err != nil {
			return err
		}
		c.next[0]++
		synack := w.segment(c, dst, src)
		synack.SYN = true
		if err := w.packet(at, dst, src, synack, nil); err != nil {
			return err
		}
		c.next[1]++
		if err := w.packet(at, src, dst, w.segment(c, src, dst), nil); err != nil {
			return err
		}
	}
	for len(payload) > 0 {
		n := min(len(payload), maxSegment)
		seg := w.segment(c, src, dst)
		seg.PSH = true
		if err := w.packet(at, src, dst, seg, payload[:n]); err != nil {
			return err
		}
		c.next[c.side(src)] += uint32(n)
		payload = payload[n:]
	}
	return nil
}

func (c *tcpConn) side(src netip.AddrPort) int {
	if src == c.opener {
		return 0
	}
	return 1
}

// segment is an ACK segment from src to dst at the connection's current numbers.
func (w *Writer) segment(c *tcpConn, src, dst netip.AddrPort) *layers.TCP {
	s := c.side(src)
	return &layers.TCP{
		SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()),
		Seq: c.next[s], Ack: c.next[1-s], ACK: true, Window: 65535,
	}
}

func isn(a, b netip.AddrPort) uint32 {
	ab, _ := a.MarshalBinary()
	bb, _ := b.MarshalBinary()
	sum := sha256.Sum256(append(ab, bb...))
	return binary.BigEndian.Uint32(sum[:4])
}

// transport is a UDP or TCP header that can be told its network layer for checksums.
type transport interface {
	gopacket.SerializableLayer
	SetNetworkLayerForChecksum(gopacket.NetworkLayer) error
}

func (w *Writer) packet(at time.Time, src, dst netip.AddrPort, tl transport, payload []byte) error {
	eth := &layers.Ethernet{SrcMAC: mac(src.Addr()), DstMAC: mac(dst.Addr())}
	var nl gopacket.SerializableLayer
	proto := layers.IPProtocolUDP
	if _, ok := tl.(*layers.TCP); ok {
		proto = layers.IPProtocolTCP
	}
	if src.Addr().Is4() {
		eth.EthernetType = layers.EthernetTypeIPv4
		w.ipID++
		ip := &layers.IPv4{Version: 4, TTL: 64, Id: w.ipID, Flags: layers.IPv4DontFragment, Protocol: proto,
			SrcIP: net.IP(src.Addr().AsSlice()), DstIP: net.IP(dst.Addr().AsSlice())}
		if err := tl.SetNetworkLayerForChecksum(ip); err != nil {
			return err
		}
		nl = ip
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto,
			SrcIP: net.IP(src.Addr().AsSlice()), DstIP: net.IP(dst.Addr().AsSlice())}
		if err := tl.SetNetworkLayerForChecksum(ip); err != nil {
			return err
		}
		nl = ip
	}
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(w.buf, opts, eth, nl, tl, gopacket.Payload(payload)); err != nil {
		return fmt.Errorf("build packet %s -> %s: %w", src, dst, err)
	}
	data := w.buf.Bytes()
	ci := gopacket.CaptureInfo{Timestamp: at, CaptureLength: len(data), Length: len(data)}
	if err := w.pw.WritePacket(ci, data); err != nil {
		return fmt.Errorf("write packet: %w", err)
	}
	return nil
}

// endpoint reads "ip:port"; anything else becomes the placeholder.
func endpoint(s string) netip.AddrPort {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return placeholder
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// mac is a locally administered MAC address derived from the IP address, so that each
// host keeps one MAC throughout the file.
func mac(a netip.Addr) net.HardwareAddr {
	b := a.As16()
	return net.HardwareAddr{0x02, 0x00, b[12], b[13], b[14], b[15]}
}
