package siptest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// expand replaces the placeholders documented on SendUDP.
func expand(msg []byte, local *net.UDPAddr, localTCP *net.TCPAddr, transport string) []byte {
	if !bytes.Contains(msg, []byte("{{")) {
		return msg
	}
	var ip string
	var port int
	if local != nil {
		ip, port = local.IP.String(), local.Port
	} else {
		ip, port = localTCP.IP.String(), localTCP.Port
	}
	// All occurrences of one placeholder get the same value.
	r := strings.NewReplacer(
		"{{local_ip}}", ip,
		"{{local_port}}", strconv.Itoa(port),
		"{{local}}", net.JoinHostPort(ip, strconv.Itoa(port)),
		"{{transport}}", transport,
		"{{branch}}", "z9hG4bK"+randHex(8),
		"{{call_id}}", randHex(12)+"@siptest",
		"{{tag}}", randHex(6),
	)
	return []byte(r.Replace(string(msg)))
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func checkLoopbackTarget(t testing.TB, target string) {
	t.Helper()
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		t.Fatalf("siptest: bad target %q: %v", target, err)
	}
	if host != loopback {
		t.Fatalf("siptest: target %q is not on %s (network hygiene: loopback only)", target, loopback)
	}
	if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 || reserved(p) {
		t.Fatalf("siptest: bad target port in %q (and never 5060/5061)", target)
	}
}

// SendUDP sends msg as one datagram from a fresh socket on 127.0.0.1 to
// target ("127.0.0.1:PORT") and returns every datagram received on that
// socket within wait (possibly none; retransmitted responses show up as
// several datagrams).
//
// Before sending, these placeholders are replaced in msg (a message with
// none of them is sent byte for byte, so torture messages stay intact):
//
//	{{local_ip}}    127.0.0.1
//	{{local_port}}  the port of the sending socket
//	{{local}}       127.0.0.1:port of the sending socket (for Via/Contact)
//	{{transport}}   UDP or TCP
//	{{branch}}      a fresh RFC 3261 branch (z9hG4bK...)
//	{{call_id}}     a fresh random Call-ID
//	{{tag}}         a fresh random tag
//
// All occurrences of one placeholder get the same value. The server sends
// UDP responses where it decides (normally the Via sent-by, or the source
// with ;rport), so put {{local}} in the Via to receive them.
func SendUDP(t testing.TB, target string, msg []byte, wait time.Duration) [][]byte {
	t.Helper()
	checkLoopbackTarget(t, target)
	raddr, err := net.ResolveUDPAddr("udp4", target)
	if err != nil {
		t.Fatalf("siptest.SendUDP: %v", err)
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(loopback)})
	if err != nil {
		t.Fatalf("siptest.SendUDP: %v", err)
	}
	defer conn.Close()
	out := expand(msg, conn.LocalAddr().(*net.UDPAddr), nil, "UDP")
	if _, err := conn.WriteToUDP(out, raddr); err != nil {
		t.Fatalf("siptest.SendUDP: write to %s: %v", target, err)
	}
	deadline := time.Now().Add(wait)
	if err := conn.SetReadDeadline(deadline); err != nil {
		t.Fatalf("siptest.SendUDP: %v", err)
	}
	var got [][]byte
	buf := make([]byte, 65536)
	for {
		n, _, err := conn.ReadFromUDP(buf)
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Logf("siptest.SendUDP: read: %v", err)
			}
			return got
		}
		got = append(got, append([]byte(nil), buf[:n]...))
	}
}

// SendTCP connects from 127.0.0.1 to target, writes msg, and returns all
// the bytes the server writes back until it closes the connection or wait
// elapses (whichever comes first). msg may contain the placeholders
// documented on SendUDP (with the connection's local address). Several
// messages may be concatenated in msg (and in the result); use
// SplitMessages to separate them.
func SendTCP(t testing.TB, target string, msg []byte, wait time.Duration) []byte {
	t.Helper()
	checkLoopbackTarget(t, target)
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(loopback)}, Timeout: wait}
	conn, err := d.Dial("tcp4", target)
	if err != nil {
		t.Fatalf("siptest.SendTCP: dial %s: %v", target, err)
	}
	defer conn.Close()
	deadline := time.Now().Add(wait)
	if err := conn.SetDeadline(deadline); err != nil {
		t.Fatalf("siptest.SendTCP: %v", err)
	}
	out := expand(msg, nil, conn.LocalAddr().(*net.TCPAddr), "TCP")
	if _, err := conn.Write(out); err != nil {
		t.Fatalf("siptest.SendTCP: write to %s: %v", target, err)
	}
	var got bytes.Buffer
	_, err = io.Copy(&got, conn)
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) && !isConnReset(err) {
		t.Logf("siptest.SendTCP: read from %s: %v", target, err)
	}
	return got.Bytes()
}

func isConnReset(err error) bool {
	return strings.Contains(err.Error(), "connection reset")
}

// SplitMessages splits a byte stream (e.g. SendTCP's result) into SIP
// messages using their Content-Length (0 when absent). A trailing
// incomplete message is returned as is.
func SplitMessages(stream []byte) [][]byte {
	var msgs [][]byte
	for len(stream) > 0 {
		// Skip keep-alive CRLFs between messages.
		trimmed := bytes.TrimLeft(stream, "\r\n")
		if len(trimmed) == 0 {
			break
		}
		stream = trimmed
		end, sepLen := headerEnd(stream)
		if end < 0 {
			msgs = append(msgs, stream)
			break
		}
		_, _, hdrs := ParseStatus(stream[:end])
		n := 0
		if v := hdrs["content-length"]; len(v) > 0 {
			n, _ = strconv.Atoi(strings.TrimSpace(v[0]))
		}
		total := end + sepLen + n
		if total > len(stream) {
			total = len(stream)
		}
		msgs = append(msgs, stream[:total])
		stream = stream[total:]
	}
	return msgs
}

// headerEnd returns the index of the blank line ending the header section
// and the length of that separator, or -1.
func headerEnd(b []byte) (int, int) {
	i := bytes.Index(b, []byte("\r\n\r\n"))
	j := bytes.Index(b, []byte("\n\n"))
	switch {
	case i >= 0 && (j < 0 || i < j):
		return i, 4
	case j >= 0:
		return j, 2
	}
	return -1, 0
}

// compactForms maps SIP compact header names (RFC 3261 7.3.3 and
// extensions) to their full lower-case names.
var compactForms = map[string]string{
	"a": "accept-contact",
	"b": "referred-by",
	"c": "content-type",
	"d": "request-disposition",
	"e": "content-encoding",
	"f": "from",
	"i": "call-id",
	"j": "reject-contact",
	"k": "supported",
	"l": "content-length",
	"m": "contact",
	"n": "identity-info",
	"o": "event",
	"r": "refer-to",
	"s": "subject",
	"t": "to",
	"u": "allow-events",
	"v": "via",
	"x": "session-expires",
	"y": "identity",
}

// ParseStatus is a minimal parser for assertions on a SIP response: it
// returns the status code and reason phrase of the status line ("SIP/2.0
// 200 OK"; code is 0 if the first line is not a status line, e.g. a
// request) and the header fields up to the first empty line, keyed by
// lower-case name (compact forms expanded: "v" -> "via"), one entry per
// header line in order, values trimmed, folded lines joined. Values are
// not split on commas.
func ParseStatus(resp []byte) (code int, reason string, headers map[string][]string) {
	headers = map[string][]string{}
	text := string(resp)
	if end, _ := headerEnd(resp); end >= 0 {
		text = text[:end]
	}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	if len(lines) == 0 {
		return 0, "", headers
	}
	first := strings.TrimSpace(lines[0])
	if strings.HasPrefix(first, "SIP/2.0 ") {
		rest := strings.TrimSpace(strings.TrimPrefix(first, "SIP/2.0 "))
		codeStr, r, _ := strings.Cut(rest, " ")
		if c, err := strconv.Atoi(codeStr); err == nil {
			code, reason = c, strings.TrimSpace(r)
		}
	}
	var last string
	for _, l := range lines[1:] {
		if l == "" {
			break
		}
		if (l[0] == ' ' || l[0] == '\t') && last != "" {
			vs := headers[last]
			vs[len(vs)-1] += " " + strings.TrimSpace(l)
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		name = strings.ToLower(strings.TrimSpace(name))
		if full, ok := compactForms[name]; ok {
			name = full
		}
		headers[name] = append(headers[name], strings.TrimSpace(value))
		last = name
	}
	return code, reason, headers
}
