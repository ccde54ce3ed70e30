package capture_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/siplens/siplens/capture"
)

// readAll reads every record of a capture.
func readAll(t *testing.T, b []byte) ([]capture.Record, *capture.Reader) {
	t.Helper()
	rd, err := capture.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out []capture.Record
	for {
		r, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out, rd
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
}

func TestReadBackWhatWasWritten(t *testing.T) {
	for _, transport := range []string{"UDP", "TCP"} {
		t.Run(transport, func(t *testing.T) {
			c := proxied("rb-"+transport, transport, "127.0.0.1:5062", "127.0.0.1:5080", "127.0.0.1:5070")
			var buf bytes.Buffer
			if err := capture.WritePCAP(&buf, c); err != nil {
				t.Fatal(err)
			}
			if os.Getenv("KEEP") != "" {
				os.WriteFile("/tmp/cap/rb-"+transport+".pcap", buf.Bytes(), 0o644)
			}
			recs, rd := readAll(t, buf.Bytes())
			if len(recs) != len(c.Messages) {
				t.Fatalf("read %d records, wrote %d messages; problems %v", len(recs), len(c.Messages), rd.Problems())
			}
			for i, r := range recs {
				m := c.Messages[i]
				if !bytes.Equal(r.Raw, m.Raw) || r.Src != m.From() || r.Dst != m.To() || !r.Time.Equal(m.Time) || r.Transport != transport || r.CallID != c.CallID {
					t.Errorf("record %d: %s %s->%s %s, want %s->%s %s", i, r.Transport, r.Src, r.Dst, r.Time, m.From(), m.To(), m.Time)
				}
			}
		})
	}
}

var (
	t1    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	alice = netip.MustParseAddrPort("10.0.0.1:5060")
	pbx   = netip.MustParseAddrPort("10.0.0.2:5080")
	a6    = netip.MustParseAddrPort("[2001:db8::1]:5060")
	b6    = netip.MustParseAddrPort("[2001:db8::2]:5062")
)

// want is a record as the tests expect it.
type want struct {
	transport, src, dst, first string
}

func check(t *testing.T, recs []capture.Record, wants ...want) {
	t.Helper()
	if len(recs) != len(wants) {
		for _, r := range recs {
			t.Logf("read %s %s -> %s %q", r.Transport, r.Src, r.Dst, firstLine(r.Raw))
		}
		t.Fatalf("read %d records, want %d", len(recs), len(wants))
	}
	for i, w := range wants {
		r := recs[i]
		if r.Transport != w.transport || r.Src != w.src || r.Dst != w.dst || firstLine(r.Raw) != w.first {
			t.Errorf("record %d: %s %s -> %s %q, want %s %s -> %s %q", i, r.Transport, r.Src, r.Dst, firstLine(r.Raw), w.transport, w.src, w.dst, w.first)
		}
		if r.CallID == "" {
			t.Errorf("record %d has no Call-ID", i)
		}
	}
}

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\r\n"))
	return string(line)
}

// TestLinkTypes: the same two datagrams (IPv4 and IPv6) under every link layer, in pcap
// and pcapng, and SIP on ports that are not 5060.
func TestLinkTypes(t *testing.T) {
	inv := sipMsg("INVITE sip:bob@example.com SIP/2.0", "lt-1", "")
	ok := sipMsg("SIP/2.0 200 OK", "lt-1", "")
	ip4 := ipPacket(t, l4{src: alice, dst: pbx, payload: inv})
	ip6 := ipPacket(t, l4{src: b6, dst: a6, payload: ok})
	wants := []want{{"UDP", alice.String(), pbx.String(), "INVITE sip:bob@example.com SIP/2.0"}, {"UDP", b6.String(), a6.String(), "SIP/2.0 200 OK"}}
	for _, lt := range []layers.LinkType{layers.LinkTypeEthernet, 1000, layers.LinkTypeLinuxSLL, 276, layers.LinkTypeNull, layers.LinkTypeLoop,
		layers.LinkTypeRaw, layers.LinkTypeIPv4} {
		frames := []frame{{t1, link(lt, ip4)}, {t1.Add(time.Millisecond), link(lt, ip6)}}
		if lt == layers.LinkTypeIPv4 {
			frames = frames[:1]
		}
		for name, file := range map[string][]byte{"pcap": pcapFile(t, lt, frames), "pcapng": pcapngFile(t, lt, frames)} {
			t.Run(lt.String()+"/"+name, func(t *testing.T) {
				recs, rd := readAll(t, file)
				if rd.Format != name {
					t.Errorf("format %q, want %q", rd.Format, name)
				}
				check(t, recs, wants[:len(frames)]...)
				if !recs[0].Time.Equal(t1) {
					t.Errorf("time %s, want %s", recs[0].Time, t1)
				}
				if n := rd.Problems().Total(); n != 0 {
					t.Errorf("problems: %v", rd.Problems())
				}
			})
		}
	}
}

// TestFragments: a datagram larger than the MTU arrives as IP fragments, in any order;
// an incomplete one is reported, not read.
func TestFragments(t *testing.T) {
	body := strings.Repeat("a=x-padding:0123456789abcdef0123456789abcdef0123456789\r\n", 60)
	big := sipMsg("INVITE sip:bob@example.com SIP/2.0", "frag-1", body)
	udp := udpBytes(alice, pbx, big)
	var frags [][]byte
	for off := 0; off < len(udp); off += 1480 {
		end := min(off+1480, len(udp))
		frags = append(frags, ipPacket(t, l4{src: alice, dst: pbx, rawTransport: true, payload: udp[off:end], id: 77, fragOff: off, more: end < len(udp)}))
	}
	if len(frags) < 3 {
		t.Fatalf("only %d fragments", len(frags))
	}
	// Last first, then the rest: reassembly does not depend on order.
	order := append([][]byte{frags[len(frags)-1]}, frags[:len(frags)-1]...)
	var frames []frame
	for _, f := range order {
		frames = append(frames, frame{t1, link(layers.LinkTypeEthernet, f)})
	}
	// A second datagram of which one fragment never came.
	udp2 := udpBytes(alice, pbx, sipMsg("INVITE sip:carol@example.com SIP/2.0", "frag-2", body))
	frames = append(frames, frame{t1, link(layers.LinkTypeEthernet, ipPacket(t, l4{src: alice, dst: pbx, rawTransport: true, payload: udp2[:1480], id: 78, more: true}))})

	recs, rd := readAll(t, pcapFile(t, layers.LinkTypeEthernet, frames))
	check(t, recs, want{"UDP", alice.String(), pbx.String(), "INVITE sip:bob@example.com SIP/2.0"})
	if !bytes.Equal(recs[0].Raw, big) {
		t.Errorf("reassembled %d bytes, want the %d sent", len(recs[0].Raw), len(big))
	}
	if rd.Problems()["IP fragments incomplete"] != 1 {
		t.Errorf("problems %v, want one incomplete datagram", rd.Problems())
	}

	// IPv6: the fragment extension header.
	udp6 := udpBytes(a6, b6, big)
	var frames6 []frame
	for off := 0; off < len(udp6); off += 1448 {
		end := min(off+1448, len(udp6))
		fh := &layers.IPv6Fragment{NextHeader: layers.IPProtocolUDP, FragmentOffset: uint16(off / 8), MoreFragments: end < len(udp6), Identification: 9}
		frames6 = append(frames6, frame{t1, link(layers.LinkTypeEthernet, ipPacket(t, l4{src: a6, dst: b6, rawTransport: true, payload: udp6[off:end], ipv6FragHeader: fh}))})
	}
	recs, rd = readAll(t, pcapFile(t, layers.LinkTypeEthernet, frames6))
	check(t, recs, want{"UDP", a6.String(), b6.String(), "INVITE sip:bob@example.com SIP/2.0"})
	if !bytes.Equal(recs[0].Raw, big) || rd.Problems().Total() != 0 {
		t.Errorf("IPv6 reassembly: %d bytes, problems %v", len(recs[0].Raw), rd.Problems())
	}
}

// TestTCPStreams: Content-Length framing over segments as they come: several messages in
// one segment, one message over several, a segment out of order, a retransmitted
// segment, and a capture that starts in the middle of a connection.
func TestTCPStreams(t *testing.T) {
	m1 := sipMsg("INVITE sip:bob@example.com SIP/2.0", "tcp-1", "v=0\r\n")
	m2 := sipMsg("SIP/2.0 100 Trying", "tcp-1", "")
	m3 := sipMsg("SIP/2.0 180 Ringing", "tcp-1", "")
	m4 := sipMsg("SIP/2.0 200 OK", "tcp-1", strings.Repeat("x", 3000))
	m5 := sipMsg("BYE sip:bob@example.com SIP/2.0", "tcp-2", "")
	seg := func(src, dst netip.AddrPort, seq uint32, payload []byte) frame {
		return frame{t1, link(layers.LinkTypeEthernet, ipPacket(t, l4{tcp: true, src: src, dst: dst, seq: seq, payload: payload}))}
	}
	const isnA, isnB = 1000, 5000000
	a := uint32(isnA + 1)
	b := uint32(isnB + 1)
	ok := m4
	frames := []frame{
		{t1, link(layers.LinkTypeEthernet, ipPacket(t, l4{tcp: true, syn: true, src: alice, dst: pbx, seq: isnA}))},
		{t1, link(layers.LinkTypeEthernet, ipPacket(t, l4{tcp: true, syn: true, src: pbx, dst: alice, seq: isnB}))},
		seg(alice, pbx, a, m1),
		seg(pbx, alice, b, append(append([]byte{}, m2...), m3...)),      // two in one
		seg(pbx, alice, b+uint32(len(m2)+len(m3))+1000, ok[1000:2000]),  // early
		seg(pbx, alice, b+uint32(len(m2)+len(m3)), ok[:1000]),           // fills the gap
		seg(pbx, alice, b+uint32(len(m2)+len(m3)), ok[:1000]),           // retransmitted
		seg(pbx, alice, b+uint32(len(m2)+len(m3))+2000, ok[2000:]),      // the rest
		seg(alice, pbx, a+uint32(len(m1)), []byte("\r\n\r\n")),          // keep-alive
		seg(netip.MustParseAddrPort("10.0.0.9:40000"), pbx, 777777, m5), // joined mid-stream
	}
	recs, rd := readAll(t, pcapFile(t, layers.LinkTypeEthernet, frames))
	check(t, recs,
		want{"TCP", alice.String(), pbx.String(), "INVITE sip:bob@example.com SIP/2.0"},
		want{"TCP", pbx.String(), alice.String(), "SIP/2.0 100 Trying"},
		want{"TCP", pbx.String(), alice.String(), "SIP/2.0 180 Ringing"},
		want{"TCP", pbx.String(), alice.String(), "SIP/2.0 200 OK"},
		want{"TCP", "10.0.0.9:40000", pbx.String(), "BYE sip:bob@example.com SIP/2.0"},
	)
	if !bytes.Equal(recs[3].Raw, m4) {
		t.Errorf("the 200 OK over three segments reads %d bytes, want %d", len(recs[3].Raw), len(m4))
	}
	if n := rd.Problems().Total(); n != 0 {
		t.Errorf("problems %v", rd.Problems())
	}
}

// TestDamagedInput: a corrupt packet, a non-SIP datagram and a file cut in the middle of
// a packet are counted; everything else is read.
func TestDamagedInput(t *testing.T) {
	good := func(id string) frame {
		return frame{t1, link(layers.LinkTypeEthernet, ipPacket(t, l4{src: alice, dst: pbx, payload: sipMsg("OPTIONS sip:pbx SIP/2.0", id, "")}))}
	}
	corrupt := frame{t1, link(layers.LinkTypeEthernet, []byte{0x45, 0, 0, 10, 1, 2})}
	rtp := frame{t1, link(layers.LinkTypeEthernet, ipPacket(t, l4{src: alice, dst: pbx, payload: []byte{0x80, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9}}))}
	file := pcapFile(t, layers.LinkTypeEthernet, []frame{good("d-1"), corrupt, rtp, good("d-2"), good("d-3")})
	file = file[:len(file)-20] // the last packet is cut short

	recs, rd := readAll(t, file)
	if len(recs) != 2 || recs[0].CallID != "d-1" || recs[1].CallID != "d-2" {
		t.Fatalf("read %d records; want d-1 and d-2", len(recs))
	}
	p := rd.Problems()
	if p["capture file truncated"] != 1 || p["malformed IP header"] != 1 || p[capture.NotSIP] != 1 {
		t.Errorf("problems %v", p)
	}

	if _, err := capture.NewReader(bytes.NewReader([]byte("hello, this is not a capture\n"))); err == nil {
		t.Error("a text file that is no log was taken for one")
	}
	if _, err := capture.NewReader(bytes.NewReader(nil)); err == nil {
		t.Error("an empty input was accepted")
	}
}

// TestGzip: a compressed capture reads as the plain one; a compressed one cut short
// gives what it holds and says so.
func TestGzip(t *testing.T) {
	var frames []frame
	const n = 3000 // enough for several deflate blocks
	for i := range n {
		frames = append(frames, frame{t1, link(layers.LinkTypeEthernet, ipPacket(t, l4{src: alice, dst: pbx, payload: sipMsg("OPTIONS sip:pbx SIP/2.0", "gz-"+strconv.Itoa(i*7919), "")}))})
	}
	plain := pcapngFile(t, layers.LinkTypeEthernet, frames)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(plain)
	zw.Close()
	recs, rd := readAll(t, z.Bytes())
	if len(recs) != n || !rd.Compressed || rd.Format != capture.FormatPCAPNG {
		t.Fatalf("gzip'd pcapng: %d records, compressed %v, format %s", len(recs), rd.Compressed, rd.Format)
	}
	recs, rd = readAll(t, z.Bytes()[:z.Len()/2])
	if len(recs) == 0 || len(recs) >= n || rd.Problems().Total() == 0 {
		t.Fatalf("half a gzip'd capture: %d records, problems %v", len(recs), rd.Problems())
	}
}

// TestHEP: HEP3 packets carried in UDP inside a capture, and a file of HEP3 packets.
func TestHEP(t *testing.T) {
	msg := sipMsg("INVITE sip:bob@example.com SIP/2.0", "hep-1", "")
	at := t1.Add(1500 * time.Microsecond)
	hep, err := capture.EncodeHEP(capture.Record{Time: at, Transport: "UDP", Src: alice.String(), Dst: pbx.String(), Raw: msg})
	if err != nil {
		t.Fatal(err)
	}
	hep6, err := capture.EncodeHEP(capture.Record{Time: at, Transport: "TCP", Src: a6.String(), Dst: b6.String(), Raw: sipMsg("SIP/2.0 200 OK", "hep-1", "")})
	if err != nil {
		t.Fatal(err)
	}
	agent, collector := netip.MustParseAddrPort("192.0.2.10:40000"), netip.MustParseAddrPort("192.0.2.20:9060")
	frames := []frame{
		{t1, link(layers.LinkTypeEthernet, ipPacket(t, l4{src: agent, dst: collector, payload: hep}))},
		{t1, link(layers.LinkTypeEthernet, ipPacket(t, l4{src: agent, dst: collector, payload: hep6}))},
		{t1, link(layers.LinkTypeEthernet, ipPacket(t, l4{src: agent, dst: collector, payload: []byte("HEP3\x00\x10garbage!!")}))},
	}
	hepPcap := pcapFile(t, layers.LinkTypeEthernet, frames)
	if dir := os.Getenv("KEEP"); dir != "" {
		os.WriteFile(dir+"/hep.pcap", hepPcap, 0o644)
	}
	recs, rd := readAll(t, hepPcap)
	wants := []want{{"UDP", alice.String(), pbx.String(), "INVITE sip:bob@example.com SIP/2.0"}, {"TCP", a6.String(), b6.String(), "SIP/2.0 200 OK"}}
	check(t, recs, wants...)
	if !recs[0].Time.Equal(at) || recs[0].Origin != "HEP" {
		t.Errorf("HEP record time %s origin %q, want the agent's time %s", recs[0].Time, recs[0].Origin, at)
	}
	if rd.Problems()["bad HEP packet"] != 1 {
		t.Errorf("problems %v", rd.Problems())
	}

	recs, rd = readAll(t, append(append([]byte{}, hep...), hep6...))
	if rd.Format != capture.FormatHEP {
		t.Errorf("format %q", rd.Format)
	}
	check(t, recs, wants...)
}

// TestTextLog: sngrep's text export, with its CRs lost on the way, still reads back to
// the messages with their bodies cut at Content-Length.
func TestTextLog(t *testing.T) {
	sdp := "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
	inv := sipMsg("INVITE sip:bob@example.com SIP/2.0", "txt-1", sdp)
	ok := sipMsg("SIP/2.0 486 Busy Here", "txt-1", "")
	log := "2026/03/01 12:00:00.250000 10.0.0.1:5060 -> 10.0.0.2:5080\n" + string(inv) + "\n\n" +
		"2026/03/01 12:00:00.260000 10.0.0.2:5080 -> 10.0.0.1:5060\n" + strings.ReplaceAll(string(ok), "\r\n", "\n") + "\n\n"
	recs, rd := readAll(t, []byte(log))
	if rd.Format != capture.FormatText {
		t.Fatalf("format %q", rd.Format)
	}
	check(t, recs, want{"UDP", alice.String(), pbx.String(), "INVITE sip:bob@example.com SIP/2.0"}, want{"UDP", pbx.String(), alice.String(), "SIP/2.0 486 Busy Here"})
	if !bytes.Equal(recs[0].Raw, inv) || !bytes.Equal(recs[1].Raw, ok) {
		t.Errorf("text log messages differ from the originals:\n%q\n%q", recs[0].Raw, recs[1].Raw)
	}
	if !recs[0].Time.Equal(time.Date(2026, 3, 1, 12, 0, 0, 250000000, time.UTC)) {
		t.Errorf("time %s", recs[0].Time)
	}
}
