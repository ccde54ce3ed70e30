package siptest

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeTB captures Fatalf (ending the goroutine like the real one).
type fakeTB struct {
	testing.TB
	mu     sync.Mutex
	fatal  string
	logged []string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.fatal = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}
func (f *fakeTB) Logf(format string, args ...any) {
	f.mu.Lock()
	f.logged = append(f.logged, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

// runFake runs fn with a fakeTB in its own goroutine and returns the
// Fatalf message ("" if none).
func runFake(t *testing.T, fn func(tb testing.TB)) string {
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fatal
}

func TestRequireTool(t *testing.T) {
	if p := RequireTool(t, "sipp"); !strings.HasSuffix(p, "/sipp") {
		t.Errorf("RequireTool(sipp) = %q", p)
	}
	msg := runFake(t, func(tb testing.TB) {
		debianPackages["siptest-missing-tool"] = "siptest-pkg"
		defer delete(debianPackages, "siptest-missing-tool")
		RequireTool(tb, "siptest-missing-tool")
		t.Error("RequireTool returned for a missing tool")
	})
	if !strings.Contains(msg, "siptest-missing-tool") || !strings.Contains(msg, `"siptest-pkg"`) {
		t.Errorf("Fatalf message = %q, want the tool and its Debian package", msg)
	}
	msg = runFake(t, func(tb testing.TB) { RequireTool(tb, "siptest-unknown-tool") })
	if !strings.Contains(msg, "siptest-unknown-tool") {
		t.Errorf("Fatalf message = %q", msg)
	}
}

func TestFreePorts(t *testing.T) {
	ports := FreePorts(t, 20)
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] {
			t.Fatalf("port %d returned twice", p)
		}
		seen[p] = true
		if p == 5060 || p == 5061 || p <= 0 {
			t.Fatalf("bad port %d", p)
		}
		// Both UDP and TCP must be bindable on 127.0.0.1.
		ln, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			t.Fatalf("TCP %d not free: %v", p, err)
		}
		pc, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			t.Fatalf("UDP %d not free: %v", p, err)
		}
		ln.Close()
		pc.Close()
	}
	if p := FreePort(t); seen[p] {
		t.Fatalf("FreePort returned an already handed out port %d", p)
	}
	mp := freeMediaPort(t)
	for _, p := range []int{mp, mp + 2} {
		pc, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			t.Fatalf("media port %d not free: %v", p, err)
		}
		pc.Close()
	}
}

func TestParseStatus(t *testing.T) {
	resp := "SIP/2.0 423 Interval Too Brief\r\n" +
		"v: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK1\r\n" +
		"Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK2\r\n" +
		"From: <sip:a@x>;tag=1\r\n" +
		"To: <sip:a@x>;tag=2\r\n" +
		"Min-Expires: 60\r\n" +
		"Subject: folded\r\n  line\r\n" +
		"Content-Length: 4\r\n" +
		"\r\n" +
		"X: y"
	code, reason, h := ParseStatus([]byte(resp))
	if code != 423 || reason != "Interval Too Brief" {
		t.Errorf("status = %d %q", code, reason)
	}
	if got := h["via"]; len(got) != 2 || !strings.Contains(got[0], "5999") || !strings.Contains(got[1], "10.0.0.1") {
		t.Errorf("via = %q", got)
	}
	if got := h["min-expires"]; len(got) != 1 || got[0] != "60" {
		t.Errorf("min-expires = %q", got)
	}
	if got := h["subject"]; len(got) != 1 || got[0] != "folded line" {
		t.Errorf("subject = %q", got)
	}
	if _, ok := h["x"]; ok {
		t.Errorf("body parsed as a header")
	}
	code, _, h = ParseStatus([]byte("INVITE sip:a@b SIP/2.0\nCall-ID: abc\n\n"))
	if code != 0 || h["call-id"][0] != "abc" {
		t.Errorf("request: code %d headers %v", code, h)
	}
	if code, _, _ := ParseStatus([]byte("SIP/2.0 abc\r\n\r\n")); code != 0 {
		t.Errorf("garbage status parsed as %d", code)
	}
	if code, reason, _ := ParseStatus([]byte("SIP/2.0 200\r\n\r\n")); code != 200 || reason != "" {
		t.Errorf("no reason: %d %q", code, reason)
	}
}

func TestSplitMessages(t *testing.T) {
	stream := "SIP/2.0 100 Trying\r\nContent-Length: 0\r\n\r\n" +
		"\r\n\r\n" + // keep-alive
		"SIP/2.0 200 OK\r\nl: 5\r\n\r\nhello" +
		"SIP/2.0 180 Ringing\r\nContent-Length: 0\r\n"
	msgs := SplitMessages([]byte(stream))
	if len(msgs) != 3 {
		t.Fatalf("got %d messages: %q", len(msgs), msgs)
	}
	if !bytes.HasSuffix(msgs[1], []byte("\r\n\r\nhello")) {
		t.Errorf("second message = %q", msgs[1])
	}
	if c, _, _ := ParseStatus(msgs[2]); c != 180 {
		t.Errorf("third message = %q", msgs[2])
	}
}

func TestParseMessageLog(t *testing.T) {
	sent := "REGISTER sip:x SIP/2.0\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n"
	recv := "SIP/2.0 200 OK\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n"
	log := "Problem EAGAIN on socket  6 and poll_idx  is 1 \n" +
		"----------------------------------------------- 2026-11-22 01:17:49.015164\n" +
		fmt.Sprintf("UDP message sent (%d bytes):\n\n%s\n", len(sent), sent) +
		"----------------------------------------------- 2026-11-22 01:17:49.015508\n" +
		fmt.Sprintf("TCP message received [%d] bytes :\n\n%s\n", len(recv), recv) +
		"Exit problem event on socket 6 \n"
	msgs := ParseMessageLog(log)
	if len(msgs) != 2 {
		t.Fatalf("got %d messages: %+v", len(msgs), msgs)
	}
	if !msgs[0].Sent || msgs[0].Transport != "UDP" || msgs[0].Text != sent || msgs[0].Time != "2026-11-22 01:17:49.015164" {
		t.Errorf("first = %+v", msgs[0])
	}
	if msgs[1].Sent || msgs[1].Transport != "TCP" || msgs[1].Text != recv || msgs[1].FirstLine() != "SIP/2.0 200 OK" {
		t.Errorf("second = %+v", msgs[1])
	}
	r := Result{Messages: log}
	if got := strings.Join(r.Flow(), " | "); got != "-> REGISTER sip:x SIP/2.0 | <- SIP/2.0 200 OK" {
		t.Errorf("Flow = %q", got)
	}
}

func TestCallCounts(t *testing.T) {
	csv := "StartTime;CurrentTime;SuccessfulCall(P);SuccessfulCall(C);FailedCall(P);FailedCall(C);\n" +
		"2026-11-22\t01:15:57.99;x;0;0;0;0;\n" +
		"2026-11-22\t01:15:58.10;y;1;3;0;2;\n"
	st := parseStatsCSV(csv)
	if ok, failed := callCounts(st, ""); ok != 3 || failed != 2 {
		t.Errorf("from CSV: %d/%d", ok, failed)
	}
	screen := "  Successful call        |        0                  |        1                 \n" +
		"  Failed call            |        1                  |        4                 \n" +
		"  Successful call        |        0                  |        5                 \n" +
		"  Failed call            |        1                  |        6                 \n"
	if ok, failed := callCounts(nil, screen); ok != 5 || failed != 6 {
		t.Errorf("from the screen: %d/%d", ok, failed)
	}
	if ok, failed := callCounts(nil, "garbage"); ok != -1 || failed != -1 {
		t.Errorf("unknown: %d/%d", ok, failed)
	}
	for _, r := range []Result{
		{ExitCode: 0, Successful: 1, Failed: 0, Expected: 1},
		{ExitCode: 0, Successful: 2, Failed: 0, Expected: 0},
	} {
		if !r.OK() {
			t.Errorf("%+v not OK", r)
		}
	}
	for _, r := range []Result{
		{ExitCode: 1, Successful: 0, Failed: 1, Expected: 1},
		{ExitCode: 0, Successful: 1, Failed: 0, Expected: 2},
		{ExitCode: 0, Successful: 0, Failed: 0, Expected: 1},
		{ExitCode: 0, Successful: 1, Failed: 0, Expected: 1, TimedOut: true},
		{ExitCode: 255, Successful: -1, Failed: -1, Expected: 1},
	} {
		if r.OK() {
			t.Errorf("%+v OK", r)
		}
	}
}

// echoServer answers every request with a 200 OK built from its Via/
// Call-ID/CSeq, sent to the Via sent-by (UDP) or back on the connection.
func echoResponse(req []byte) []byte {
	_, _, h := ParseStatus(req)
	var b strings.Builder
	b.WriteString("SIP/2.0 200 OK\r\n")
	for _, name := range []string{"via", "call-id", "cseq"} {
		for _, v := range h[name] {
			fmt.Fprintf(&b, "%s: %s\r\n", name, v)
		}
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return []byte(b.String())
}

func TestSendUDP(t *testing.T) {
	CheckGoroutines(t)
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 65536)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _, h := ParseStatus(buf[:n])
			f := strings.Fields(h["via"][0]) // SIP/2.0/UDP host:port;branch=...
			hostport, _, _ := strings.Cut(f[1], ";")
			to, _ := net.ResolveUDPAddr("udp4", hostport)
			resp := echoResponse(buf[:n])
			pc.WriteTo(resp, to) // twice, like a retransmission
			pc.WriteTo(resp, to)
		}
	}()
	msg := "OPTIONS sip:127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/{{transport}} {{local}};branch={{branch}}\r\n" +
		"Call-ID: {{call_id}}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	got := SendUDP(t, pc.LocalAddr().String(), []byte(msg), 500*time.Millisecond)
	if len(got) != 2 {
		t.Fatalf("got %d datagrams: %q", len(got), got)
	}
	code, _, h := ParseStatus(got[0])
	if code != 200 || !strings.HasPrefix(h["via"][0], "SIP/2.0/UDP 127.0.0.1:") || !strings.Contains(h["via"][0], "branch=z9hG4bK") ||
		strings.Contains(string(got[0]), "{{") {
		t.Errorf("response = %q", got[0])
	}
	// Nothing answers: no datagram, no failure.
	if got := SendUDP(t, fmt.Sprintf("127.0.0.1:%d", FreePort(t)), []byte(msg), 200*time.Millisecond); len(got) != 0 {
		t.Errorf("got %q from nowhere", got)
	}
	// Loopback only, never 5060.
	if msg := runFake(t, func(tb testing.TB) { SendUDP(tb, "10.1.2.3:5999", nil, 0) }); !strings.Contains(msg, "loopback") {
		t.Errorf("non-loopback target accepted: %q", msg)
	}
	if msg := runFake(t, func(tb testing.TB) { SendUDP(tb, "127.0.0.1:5060", nil, 0) }); msg == "" {
		t.Errorf("port 5060 accepted")
	}
}

func TestSendTCP(t *testing.T) {
	CheckGoroutines(t)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				var req bytes.Buffer
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					req.WriteString(line)
					if line == "\r\n" {
						break
					}
				}
				c.Write([]byte("SIP/2.0 100 Trying\r\nContent-Length: 0\r\n\r\n"))
				c.Write(echoResponse(req.Bytes()))
				if strings.Contains(req.String(), "close-me") {
					return
				}
				time.Sleep(time.Second) // keep the connection open
			}()
		}
	}()
	msg := "OPTIONS sip:127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/{{transport}} {{local}};branch={{branch}}\r\n" +
		"Call-ID: close-me\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	start := time.Now()
	got := SendTCP(t, ln.Addr().String(), []byte(msg), 2*time.Second)
	if time.Since(start) > time.Second {
		t.Errorf("SendTCP did not return when the server closed")
	}
	msgs := SplitMessages(got)
	if len(msgs) != 2 {
		t.Fatalf("got %q", got)
	}
	if c, _, h := ParseStatus(msgs[1]); c != 200 || !strings.HasPrefix(h["via"][0], "SIP/2.0/TCP 127.0.0.1:") {
		t.Errorf("response = %q", msgs[1])
	}
	// The server keeps the connection: SendTCP returns after wait.
	start = time.Now()
	got = SendTCP(t, ln.Addr().String(), []byte(strings.Replace(msg, "close-me", "keep", 1)), 300*time.Millisecond)
	if d := time.Since(start); d < 250*time.Millisecond || d > 900*time.Millisecond {
		t.Errorf("SendTCP returned after %v", d)
	}
	if len(SplitMessages(got)) != 2 {
		t.Errorf("got %q", got)
	}
}

func TestRunWithTransports(t *testing.T) {
	var got []string
	RunWithTransports(t, func(t *testing.T, tr string) { got = append(got, t.Name()+"="+tr) })
	want := "TestRunWithTransports/udp=udp TestRunWithTransports/tcp=tcp"
	if strings.Join(got, " ") != want {
		t.Errorf("got %q", got)
	}
	got = nil
	RunWithTransports(t, func(t *testing.T, tr string) { got = append(got, tr) }, "tcp")
	if strings.Join(got, " ") != "tcp" {
		t.Errorf("got %q", got)
	}
}

func TestCheckGoroutinesDetectsLeak(t *testing.T) {
	old := GoroutineGrace
	GoroutineGrace = 200 * time.Millisecond
	defer func() { GoroutineGrace = old }()
	stop := make(chan struct{})
	defer close(stop)
	ft := &leakTB{fakeTB: fakeTB{TB: t}}
	CheckGoroutines(ft)
	go func() { <-stop }() // leaked until the test ends
	ft.runCleanups()
	if !strings.Contains(ft.errored, "goroutine leak") || !strings.Contains(ft.errored, "TestCheckGoroutinesDetectsLeak") {
		t.Errorf("leak not reported: %q", ft.errored)
	}

	ft = &leakTB{fakeTB: fakeTB{TB: t}}
	CheckGoroutines(ft)
	done := make(chan struct{})
	go func() { time.Sleep(50 * time.Millisecond); close(done) }() // ends within the grace period
	ft.runCleanups()
	<-done
	if ft.errored != "" {
		t.Errorf("false positive: %q", ft.errored)
	}
}

type leakTB struct {
	fakeTB
	cleanups []func()
	errored  string
}

func (l *leakTB) Cleanup(f func())                  { l.cleanups = append(l.cleanups, f) }
func (l *leakTB) Errorf(format string, args ...any) { l.errored = fmt.Sprintf(format, args...) }
func (l *leakTB) runCleanups() {
	for i := len(l.cleanups) - 1; i >= 0; i-- {
		l.cleanups[i]()
	}
}

func TestScenarioPaths(t *testing.T) {
	d := ScenarioDir(t)
	if !strings.HasSuffix(d, "/e2e/testdata/sipp") {
		t.Errorf("ScenarioDir = %q", d)
	}
	if p := Scenario(t, "uac_call.xml"); !strings.HasSuffix(p, "/e2e/testdata/sipp/uac_call.xml") {
		t.Errorf("Scenario = %q", p)
	}
	if msg := runFake(t, func(tb testing.TB) { Scenario(tb, "nope.xml") }); msg == "" {
		t.Errorf("missing scenario accepted")
	}
}
