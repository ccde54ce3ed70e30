package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/siplens/siplens/analyze"
	"github.com/siplens/siplens/capture"
	"github.com/siplens/siplens/capture/capturetest"
	"github.com/siplens/siplens/cli"
	"github.com/siplens/siplens/diag"
	"github.com/siplens/siplens/siptest"
	"github.com/siplens/siplens/trace"
)

// The tests of `siplens analyze` make their own captures: dumpcap on loopback (or in a
// pair of network namespaces) around SIPp traffic through siplens or Kamailio, and hold
// the reading against tshark's and against what siplens itself recorded.

// dumpcap is one running capture.
type dumpcap struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{}
	File   string
}

// startDumpcap captures on iface with a capture filter into file (pcapng; extra adds
// dumpcap flags, "-P" for pcap), inside netns when it is not "". It returns once dumpcap
// is capturing.
func startDumpcap(t *testing.T, netns, iface, filter, file string, extra ...string) *dumpcap {
	t.Helper()
	bin := siptest.RequireTool(t, "dumpcap")
	args := append([]string{"-q", "-i", iface, "-f", filter, "-w", file}, extra...)
	if netns != "" {
		args = append([]string{"netns", "exec", netns, bin}, args...)
		bin = siptest.RequireTool(t, "ip")
	}
	d := &dumpcap{stderr: &syncBuffer{}, done: make(chan struct{}), File: file}
	d.cmd = exec.Command(bin, args...)
	d.cmd.Stderr = d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("dumpcap: %v", err)
	}
	go func() {
		_ = d.cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() { d.stop(t) })
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(d.stderr.String(), "Capturing on") {
		select {
		case <-d.done:
			t.Fatalf("dumpcap exited at start: %s", d.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dumpcap did not start capturing: %s", d.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // the filter is attached just after the message
	return d
}

// stop ends the capture (SIGINT, as at a terminal) and waits for the file to be complete.
func (d *dumpcap) stop(t *testing.T) {
	select {
	case <-d.done:
		return
	default:
	}
	time.Sleep(300 * time.Millisecond) // the last packets reach the ring buffer
	_ = d.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
		t.Errorf("dumpcap did not stop on SIGINT: %s", d.stderr.String())
	}
}

// analyzed is a capture read by package analyze.
type analyzed struct {
	calls   map[string]*analyze.Call
	summary *analyze.Summary
}

func analyzeFile(t *testing.T, file string, names map[string]string) analyzed {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := capture.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	out := analyzed{calls: map[string]*analyze.Call{}}
	an := analyze.New(analyze.Options{Names: names, OnCall: func(c *analyze.Call) { out.calls[c.ID] = c }})
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		an.Add(rec)
	}
	an.Close()
	out.summary = an.Summary()
	out.summary.Finish(rd.Packets, rd.Problems())
	return out
}

// requireTsharkAgrees: our requests per method and responses per code equal tshark's.
func requireTsharkAgrees(t *testing.T, file string, s *analyze.Summary) {
	t.Helper()
	want := capturetest.Tshark(t, file)
	got := capturetest.Stats{Requests: s.Requests, Responses: s.Responses}
	if !got.Equal(want) {
		t.Fatalf("%s: siplens analyze counts\n  %v %v\ntshark -z sip,stat counts\n  %v %v", filepath.Base(file),
			got.Requests, got.Responses, want.Requests, want.Responses)
	}
	if len(want.Requests) == 0 {
		t.Fatalf("%s: tshark found no SIP: the capture is empty", file)
	}
	// And as a user gets them: siplens analyze --stats.
	var out, errOut bytes.Buffer
	if code := cli.Main([]string{"analyze", "--stats", "--json", file}, &out, &errOut); code != 0 {
		t.Fatalf("siplens analyze --stats %s: exit %d: %s", file, code, errOut.String())
	}
	var stats struct {
		Requests  map[string]int `json:"requests"`
		Responses map[int]int    `json:"responses"`
	}
	if err := json.Unmarshal(out.Bytes(), &stats); err != nil {
		t.Fatalf("siplens analyze --stats --json: %v\n%s", err, out.String())
	}
	if cliStats := (capturetest.Stats{Requests: stats.Requests, Responses: stats.Responses}); !cliStats.Equal(want) {
		t.Fatalf("siplens analyze --stats %s: %v %v, tshark %v %v", filepath.Base(file), stats.Requests, stats.Responses, want.Requests, want.Responses)
	}
}

// toPCAP converts a pcapng file to classic pcap with tshark.
func toPCAP(t *testing.T, file string) string {
	t.Helper()
	out := strings.TrimSuffix(file, filepath.Ext(file)) + ".pcap"
	cmd := exec.Command(siptest.RequireTool(t, "tshark"), "-r", file, "-F", "pcap", "-w", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tshark -F pcap: %v\n%s", err, b)
	}
	return out
}

// answeringPhone registers user from port (register_auth.xml) and then answers calls
// there with answer, calls of them.
func answeringPhone(t *testing.T, srv *testServer, transport, user string, port int, answer string, calls int, vars map[string]string) *siptest.Process {
	t.Helper()
	reg := sipp(t, srv, transport, "register_auth.xml", user, nil)
	reg.LocalPort = port
	reg.Run(t).RequireOK(t)
	p := sipp(t, srv, transport, answer, user, nil)
	p.Vars, p.Target, p.Auth = vars, "", siptest.Auth{}
	p.LocalPort, p.Calls = port, calls
	p.Timeout = 30 * time.Second
	return p.Start(t)
}

// TestAnalyzeCaptureThroughSiplens: concurrent calls with mixed outcomes through
// siplens, captured on loopback. The counts equal tshark's, in pcapng and in pcap, and
// every call's outcome, final answer and who sent it equal what siplens recorded live.
func TestAnalyzeCaptureThroughSiplens(t *testing.T) {
	siptest.RunWithTransports(t, func(t *testing.T, transport string) {
		srv := startServer(t, "", nil)
		ports := siptest.FreePorts(t, 2)
		bobPort, carolPort := ports[0], ports[1]
		file := filepath.Join(t.TempDir(), "siplens-"+transport+".pcapng")
		// Loopback traffic only, also on the "any" pseudo-interface.
		filter := fmt.Sprintf("host 127.0.0.1 and (port %d or port %d or port %d)", srv.Port, bobPort, carolPort)
		capt := startDumpcap(t, "", "lo", filter, file)
		// The same traffic from the "any" pseudo-interface: Linux cooked headers, SLL in
		// pcap and SLL2 in pcapng.
		anySLL := filepath.Join(t.TempDir(), "siplens-"+transport+"-sll.pcap")
		captSLL := startDumpcap(t, "", "any", filter, anySLL, "-P")
		anySLL2 := filepath.Join(t.TempDir(), "siplens-"+transport+"-sll2.pcapng")
		captSLL2 := startDumpcap(t, "", "any", filter, anySLL2, "-y", "LINUX_SLL2")

		const answered, busy = 6, 3
		bob := answeringPhone(t, srv, transport, "bob", bobPort, "uas_answer.xml", answered, nil)
		carol := answeringPhone(t, srv, transport, "carol", carolPort, "uas_reject.xml", busy, map[string]string{"code": "486"})
		runCallers(t, srv, transport, []callerRun{
			{"uac_call.xml", "bob", answered, map[string]string{"hold": "300"}},
			{"uac_expect_486.xml", "carol", busy, nil},
			{"uac_expect_404.xml", "nobody", 2, nil},
			{"uac_expect_480.xml", "dave", 2, nil},
		})
		bob.Wait(10 * time.Second).RequireOK(t)
		carol.Wait(10 * time.Second).RequireOK(t)
		if transport == "udp" {
			optionsTwice(t, srv.Addr)
		}
		capt.stop(t)
		captSLL.stop(t)
		captSLL2.stop(t)
		requireTsharkAgrees(t, anySLL, analyzeFile(t, anySLL, nil).summary)
		requireTsharkAgrees(t, anySLL2, analyzeFile(t, anySLL2, nil).summary)

		got := analyzeFile(t, file, nil)
		if keep := os.Getenv("SIPLENS_KEEP_CAPTURES"); keep != "" {
			// A directory to keep the capture in, to look at it by hand or for the docs.
			if b, err := os.ReadFile(file); err == nil {
				_ = os.WriteFile(filepath.Join(keep, filepath.Base(file)), b, 0o644)
			}
		}
		requireTsharkAgrees(t, file, got.summary)
		pcap := toPCAP(t, file)
		requireTsharkAgrees(t, pcap, analyzeFile(t, pcap, nil).summary)

		if n := got.summary.Outcomes[trace.OutcomeAnswered]; n != answered {
			t.Errorf("%d answered calls, want %d", n, answered)
		}
		if n := got.summary.Outcomes[trace.OutcomeBusy]; n != busy {
			t.Errorf("%d busy calls, want %d", n, busy)
		}
		if transport == "udp" && got.summary.Retransmissions == 0 {
			t.Errorf("the OPTIONS sent twice is not counted as a retransmission")
		}
		if d := damagedProblems(got.summary.Problems); len(d) > 0 {
			t.Errorf("problems reading a clean capture: %v", d)
		}
		// Every call siplens recorded has the same story in the capture.
		live := liveCalls(t, srv)
		if len(live) < answered+busy+4 {
			t.Fatalf("siplens recorded %d calls, want %d at least", len(live), answered+busy+4)
		}
		for id, c := range live {
			want := diag.Diagnose(c)
			a := got.calls[id]
			if a == nil {
				t.Errorf("call %s (%s %d) is not in the capture's analysis", id, want.Method, want.FinalCode)
				continue
			}
			d := a.Diagnosis
			if d.Outcome != want.Outcome || d.FinalCode != want.FinalCode || d.Method != want.Method || d.From != want.From || d.To != want.To {
				t.Errorf("call %s: capture says %s %s %d (%s -> %s), siplens recorded %s %s %d (%s -> %s)", id,
					d.Method, d.Outcome, d.FinalCode, d.From, d.To, want.Method, want.Outcome, want.FinalCode, want.From, want.To)
			}
			if want.Producer.Kind == diag.ByBranch && (d.Producer.Kind != diag.ByBranch || d.Producer.Address != want.Producer.Address) {
				t.Errorf("call %s: capture names the producer %+v, siplens recorded %+v", id, d.Producer, want.Producer)
			}
			if a.Vantage != srv.Addr {
				t.Errorf("call %s is seen from %s, want siplens at %s", id, a.Vantage, srv.Addr)
			}
		}
	})
}

// optionsTwice sends the same OPTIONS twice from one socket: a retransmission.
func optionsTwice(t *testing.T, target string) {
	t.Helper()
	conn, err := net.Dial("udp", target)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	msg := "OPTIONS sip:" + target + " SIP/2.0\r\nVia: SIP/2.0/UDP " + local + ";branch=z9hG4bK-twice;rport\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:probe@localhost>;tag=twice\r\nTo: <sip:" + target + ">\r\n" +
		"Call-ID: options-twice@test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	buf := make([]byte, 4096)
	for range 2 {
		if _, err := conn.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := conn.Read(buf); err != nil {
			t.Fatalf("no answer to OPTIONS: %v", err)
		}
	}
}

func damagedProblems(p capture.Problems) capture.Problems {
	out := capture.Problems{}
	for k, v := range p {
		if capture.Damaged(k) {
			out[k] = v
		}
	}
	return out
}

// liveCalls are the INVITE calls siplens recorded, by Call-ID.
func liveCalls(t *testing.T, srv *testServer) map[string]*trace.Call {
	t.Helper()
	ctx := context.Background()
	if err := srv.Tracer().Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sums, err := srv.traces.Calls(ctx, trace.Query{Method: "INVITE", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*trace.Call{}
	for _, s := range sums {
		c, err := srv.traces.Call(ctx, s.CallID)
		if err != nil {
			t.Fatal(err)
		}
		out[s.CallID] = c
	}
	return out
}

// TestAnalyzeRoundTrip: a call siplens recorded, written as pcap (what the admin API
// serves for Wireshark) and read back, tells the same story; and siplens' own trace
// export reads back to exactly the live diagnosis.
func TestAnalyzeRoundTrip(t *testing.T) {
	siptest.RunWithTransports(t, func(t *testing.T, transport string) {
		srv := startServer(t, "", nil)
		callee(t, srv, transport, "bob", "uas_reject.xml", map[string]string{"code": "486"})
		sipp(t, srv, transport, "uac_expect_486.xml", "alice", map[string]string{"callee": "bob"}).Run(t).RequireOK(t)
		rec := srv.call(t, "INVITE", "bob")
		want := diag.Diagnose(rec)

		dir := t.TempDir()
		var pcap bytes.Buffer
		if err := capture.WritePCAP(&pcap, rec); err != nil {
			t.Fatal(err)
		}
		pcapFile := filepath.Join(dir, "call.pcap")
		if err := os.WriteFile(pcapFile, pcap.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		got := analyzeFile(t, pcapFile, nil)
		requireTsharkAgrees(t, pcapFile, got.summary)
		a := got.calls[rec.CallID]
		if a == nil {
			t.Fatalf("the pcap holds no call %s; calls %v", rec.CallID, slices.Collect(maps.Keys(got.calls)))
		}
		d := a.Diagnosis
		if d.Outcome != want.Outcome || d.FinalCode != want.FinalCode || d.Producer.Kind != want.Producer.Kind ||
			d.Producer.Address != want.Producer.Address || d.From != want.From || d.To != want.To {
			t.Fatalf("read back from pcap: %+v\nlive: %+v", d, want)
		}
		if len(a.Trace.Messages) != len(rec.Messages) {
			t.Fatalf("read back %d messages, recorded %d", len(a.Trace.Messages), len(rec.Messages))
		}

		// The trace export: the decisions come along, so the diagnosis is the live one.
		js, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		traceFile := filepath.Join(dir, "call.json")
		if err := os.WriteFile(traceFile, js, 0o644); err != nil {
			t.Fatal(err)
		}
		exp := analyzeFile(t, traceFile, nil).calls[rec.CallID]
		if exp == nil {
			t.Fatal("the trace export reads back to no call")
		}
		gotJSON, _ := json.Marshal(exp.Diagnosis)
		wantJSON, _ := json.Marshal(want)
		if !bytes.Equal(gotJSON, wantJSON) {
			t.Fatalf("trace export read back:\n%s\nlive:\n%s", gotJSON, wantJSON)
		}

		// And through the command line, as a user runs it.
		var out, errOut bytes.Buffer
		if code := cli.Main([]string{"analyze", pcapFile, "--call", rec.CallID, "--name", srv.Addr + "=siplens"}, &out, &errOut); code != 0 {
			t.Fatalf("siplens analyze: exit %d: %s", code, errOut.String())
		}
		for _, want := range []string{"Outcome:  busy (486 Busy Here)", "siplens", "486 Busy Here"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("siplens analyze --call output lacks %q:\n%s", want, out.String())
			}
		}
	})
}

// callerRun is one SIPp caller (as alice) of runCallers: vars add to the callee's.
type callerRun struct {
	scenario, callee string
	calls            int
	vars             map[string]string
}

// runCallers runs the callers at once against target, so that calls of every outcome
// interleave on the wire, and requires each to succeed.
func runCallers(t *testing.T, target *testServer, transport string, runs []callerRun) {
	t.Helper()
	results := make([]siptest.Result, len(runs))
	var wg sync.WaitGroup
	for i, r := range runs {
		vars := map[string]string{"callee": r.callee}
		maps.Copy(vars, r.vars)
		s := sipp(t, target, transport, r.scenario, "alice", vars)
		s.Calls, s.Rate = r.calls, 50
		wg.Go(func() { results[i] = s.Run(t) })
	}
	wg.Wait()
	for _, r := range results {
		r.RequireOK(t)
	}
}

// TestAnalyzeCaptureThroughKamailio: the same through a proxy we did not write. The
// capture has no siplens: the analysis takes Kamailio's point of view (it receives the
// calls and forwards them), names the phone that answered each one, and counts as
// tshark does.
func TestAnalyzeCaptureThroughKamailio(t *testing.T) {
	siptest.RunWithTransports(t, func(t *testing.T, transport string) {
		k := startKamailioProxy(t)
		kam := &testServer{Addr: k.Addr}
		ports := siptest.FreePorts(t, 2)
		bobPort, carolPort := ports[0], ports[1]
		_, kport, _ := net.SplitHostPort(k.Addr)
		file := filepath.Join(t.TempDir(), "kamailio-"+transport+".pcapng")
		capt := startDumpcap(t, "", "lo", fmt.Sprintf("port %s or port %d or port %d", kport, bobPort, carolPort), file)

		const answered, busy = 4, 2
		phone := func(user string, port int, answer string, calls int, vars map[string]string) *siptest.Process {
			reg := sipp(t, kam, transport, "register_plain.xml", user, nil)
			reg.LocalPort = port
			reg.Run(t).RequireOK(t)
			p := sipp(t, kam, transport, answer, user, nil)
			p.Vars, p.Target, p.Auth = vars, "", siptest.Auth{}
			p.LocalPort, p.Calls = port, calls
			p.Timeout = 30 * time.Second
			return p.Start(t)
		}
		bob := phone("bob", bobPort, "uas_answer.xml", answered, nil)
		carol := phone("carol", carolPort, "uas_reject.xml", busy, map[string]string{"code": "486"})
		runCallers(t, kam, transport, []callerRun{
			{"uac_call.xml", "bob", answered, map[string]string{"hold": "200"}},
			{"uac_expect_486.xml", "carol", busy, nil},
			{"uac_expect_404.xml", "nobody", 2, nil},
		})
		bob.Wait(10 * time.Second).RequireOK(t)
		carol.Wait(10 * time.Second).RequireOK(t)
		capt.stop(t)

		got := analyzeFile(t, file, map[string]string{k.Addr: "kamailio"})
		requireTsharkAgrees(t, file, got.summary)
		s := got.summary
		if s.Calls != answered+busy+2 || s.Outcomes[trace.OutcomeAnswered] != answered || s.Outcomes[trace.OutcomeBusy] != busy || s.Outcomes[trace.OutcomeNotFound] != 2 {
			t.Fatalf("calls %d by outcome %v; want %d answered, %d busy, 2 not found", s.Calls, s.Outcomes, answered, busy)
		}
		carolAddr := fmt.Sprintf("127.0.0.1:%d", carolPort)
		for id, c := range got.calls {
			d := c.Diagnosis
			if d.Method != "INVITE" {
				continue
			}
			if c.Vantage != k.Addr || c.VantageLabel != "kamailio" {
				t.Errorf("call %s seen from %s (%s), want Kamailio at %s", id, c.Vantage, c.VantageLabel, k.Addr)
			}
			switch d.FinalCode {
			case 486:
				if d.Producer.Kind != diag.ByBranch || d.Producer.Address != carolAddr {
					t.Errorf("call %s: the 486 is put on %s, want carol's phone at %s", id, c.ProducerText(), carolAddr)
				}
			case 404:
				if c.ProducerText() != "kamailio ("+k.Addr+")" || strings.Contains(d.Cause, "siplens") {
					t.Errorf("call %s: 404 from %q: %s", id, c.ProducerText(), d.Cause)
				}
			}
		}
	})
}

// netnsPair makes two network namespaces joined by a veth pair with MTU 1500, with
// 10.x.y.1 and 10.x.y.2; they are deleted when the test ends.
func netnsPair(t *testing.T) (a, b, ifA, addrA, addrB string) {
	t.Helper()
	ip := siptest.RequireTool(t, "ip")
	tag := fmt.Sprintf("%d%03d", os.Getpid()%100000, time.Now().Nanosecond()%1000)
	a, b = "sla"+tag, "slb"+tag
	ifA, ifB := "va"+tag, "vb"+tag
	sub := 1 + os.Getpid()%250
	addrA, addrB = fmt.Sprintf("10.213.%d.1", sub), fmt.Sprintf("10.213.%d.2", sub)
	do := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(ip, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	do("netns", "add", a)
	t.Cleanup(func() { _ = exec.Command(ip, "netns", "del", a).Run() })
	do("netns", "add", b)
	t.Cleanup(func() { _ = exec.Command(ip, "netns", "del", b).Run() })
	do("link", "add", ifA, "type", "veth", "peer", "name", ifB)
	// Gone with the namespaces once moved; this catches a pair left in ours by a failure.
	t.Cleanup(func() { _ = exec.Command(ip, "link", "del", ifA).Run() })
	do("link", "set", ifA, "netns", a)
	do("link", "set", ifB, "netns", b)
	do("-n", a, "addr", "add", addrA+"/24", "dev", ifA)
	do("-n", b, "addr", "add", addrB+"/24", "dev", ifB)
	do("-n", a, "link", "set", ifA, "mtu", "1500", "up")
	do("-n", b, "link", "set", ifB, "mtu", "1500", "up")
	do("-n", a, "link", "set", "lo", "up")
	do("-n", b, "link", "set", "lo", "up")
	return a, b, ifA, addrA, addrB
}

// sippIn runs sipp inside a namespace, bounded in time.
func sippIn(ctx context.Context, t *testing.T, netns string, args ...string) *exec.Cmd {
	t.Helper()
	sippBin := siptest.RequireTool(t, "sipp")
	cmd := exec.CommandContext(ctx, siptest.RequireTool(t, "ip"), append([]string{"netns", "exec", netns, sippBin}, args...)...)
	cmd.Dir = t.TempDir()
	return cmd
}

// TestAnalyzeIPv4Fragments: an INVITE of 3.7 kB over UDP between two namespaces joined
// by a veth of MTU 1500 leaves as IPv4 fragments; the reader puts them together and the
// counts equal tshark's, in pcapng and pcap.
func TestAnalyzeIPv4Fragments(t *testing.T) {
	nsA, nsB, ifA, addrA, addrB := netnsPair(t)
	port := siptest.FreePort(t)
	file := filepath.Join(t.TempDir(), "fragments.pcapng")
	capt := startDumpcap(t, nsA, ifA, "udp or (ip[6:2] & 0x1fff != 0)", file)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	uas := sippIn(ctx, t, nsB, "-sn", "uas", "-i", addrB, "-p", fmt.Sprint(port), "-m", "1", "-nostdin", "-timeout", "15", "-timeout_error")
	var uasOut bytes.Buffer
	uas.Stdout, uas.Stderr = &uasOut, &uasOut
	if err := uas.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // sipp binds its socket
	scenario, _ := filepath.Abs(siptest.Scenario(t, "uac_big_invite.xml"))
	uac := sippIn(ctx, t, nsA, fmt.Sprintf("%s:%d", addrB, port), "-sf", scenario, "-i", addrA, "-p", fmt.Sprint(siptest.FreePort(t)),
		"-s", "bob", "-m", "1", "-nostdin", "-timeout", "15", "-timeout_error")
	if out, err := uac.CombinedOutput(); err != nil {
		t.Fatalf("sipp uac_big_invite.xml: %v\n%s", err, lastLines(string(out), 20))
	}
	if err := uas.Wait(); err != nil {
		t.Fatalf("sipp -sn uas: %v\n%s", err, lastLines(uasOut.String(), 20))
	}
	capt.stop(t)

	// The capture must really hold fragments, or the test proves nothing.
	frags, err := exec.Command(siptest.RequireTool(t, "tshark"), "-r", file, "-Y", "ip.flags.mf == 1").Output()
	if err != nil || len(bytes.TrimSpace(frags)) == 0 {
		t.Fatalf("the capture holds no IPv4 fragment (%v): the INVITE was not fragmented", err)
	}
	for _, f := range []string{file, toPCAP(t, file)} {
		got := analyzeFile(t, f, nil)
		requireTsharkAgrees(t, f, got.summary)
		s := got.summary
		if s.Requests["INVITE"] != 1 || s.Calls != 1 || s.Outcomes[trace.OutcomeAnswered] != 1 {
			t.Errorf("%s: INVITEs %d, calls %d by outcome %v; want the one big INVITE, answered", filepath.Base(f), s.Requests["INVITE"], s.Calls, s.Outcomes)
		}
		if d := damagedProblems(s.Problems); len(d) > 0 {
			t.Errorf("%s: problems %v", filepath.Base(f), d)
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// startKamailioHEP runs the test Kamailio with its siptrace module mirroring every SIP
// message it receives and sends, as HEP3 over UDP, to hep ("127.0.0.1:PORT"). The config
// is e2e/testdata/kamailio/kamailio.cfg with the module added, written to a temporary
// file.
func startKamailioHEP(t *testing.T, hep string) *kamailioProxy {
	t.Helper()
	bin := siptest.RequireTool(t, "kamailio")
	base, err := os.ReadFile(filepath.Join("testdata", "kamailio", "kamailio.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	mirror := "\nloadmodule \"siptrace.so\"\n" +
		"modparam(\"siptrace\", \"duplicate_uri\", \"sip:" + hep + "\")\n" +
		"modparam(\"siptrace\", \"hep_mode_on\", 1)\n" +
		"modparam(\"siptrace\", \"hep_version\", 3)\n" +
		"modparam(\"siptrace\", \"trace_to_database\", 0)\n" +
		"modparam(\"siptrace\", \"trace_on\", 1)\n" +
		"modparam(\"siptrace\", \"trace_mode\", 1)\n\n"
	cfgText := strings.Replace(string(base), "\nrequest_route {", mirror+"request_route {", 1)
	if cfgText == string(base) {
		t.Fatal("kamailio.cfg has no request_route to put the siptrace module before")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "kamailio-hep.cfg")
	if err := os.WriteFile(cfg, []byte(cfgText), 0o644); err != nil {
		t.Fatal(err)
	}
	return runKamailio(t, bin, cfg, dir)
}

// TestAnalyzeHEPFromKamailio: Kamailio mirrors its traffic as HEP3 (siptrace); a
// capture of the HEP packets alone reads back to the same messages and calls as a
// capture of the SIP itself.
func TestAnalyzeHEPFromKamailio(t *testing.T) {
	hepConn, err := net.ListenPacket("udp", "127.0.0.1:0") // a collector that discards
	if err != nil {
		t.Fatal(err)
	}
	defer hepConn.Close()
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, _, err := hepConn.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	hepAddr := hepConn.LocalAddr().String()
	_, hepPort, _ := net.SplitHostPort(hepAddr)
	k := startKamailioHEP(t, hepAddr)
	kam := &testServer{Addr: k.Addr}
	bobPort := siptest.FreePort(t)
	_, kport, _ := net.SplitHostPort(k.Addr)
	dir := t.TempDir()
	sipFile, hepFile := filepath.Join(dir, "sip.pcapng"), filepath.Join(dir, "hep.pcapng")
	// Kamailio sends its HEP from its SIP port: the SIP capture leaves the HEP out.
	sipCapt := startDumpcap(t, "", "lo", fmt.Sprintf("(port %s or port %d) and not port %s", kport, bobPort, hepPort), sipFile)
	hepCapt := startDumpcap(t, "", "lo", "udp port "+hepPort, hepFile)

	reg := sipp(t, kam, "udp", "register_plain.xml", "bob", nil)
	reg.LocalPort = bobPort
	reg.Run(t).RequireOK(t)
	bob := sipp(t, kam, "udp", "uas_answer.xml", "bob", nil)
	bob.Vars, bob.Target, bob.Auth, bob.LocalPort, bob.Calls = nil, "", siptest.Auth{}, bobPort, 3
	bobRun := bob.Start(t)
	caller := sipp(t, kam, "udp", "uac_call.xml", "alice", map[string]string{"callee": "bob", "hold": "100"})
	caller.Calls = 3
	caller.Run(t).RequireOK(t)
	sipp(t, kam, "udp", "uac_expect_404.xml", "alice", map[string]string{"callee": "nobody"}).Run(t).RequireOK(t)
	bobRun.Wait(10 * time.Second).RequireOK(t)
	time.Sleep(200 * time.Millisecond) // the last mirrored packets
	sipCapt.stop(t)
	hepCapt.stop(t)

	direct := analyzeFile(t, sipFile, nil)
	requireTsharkAgrees(t, sipFile, direct.summary)
	viaHEP := analyzeFile(t, hepFile, nil)
	got, want := viaHEP.summary, direct.summary
	if got.HEP != got.Messages || got.Messages == 0 {
		t.Fatalf("the HEP capture gave %d messages, %d of them from HEP", got.Messages, got.HEP)
	}
	// Every message is in the HEP, and nothing else; Kamailio 5.6 mirrors an ACK that it
	// absorbs (the ACK of its own 404) twice, so ACKs may be more.
	hepReq := maps.Clone(got.HEPRequests)
	if hepReq["ACK"] >= want.Requests["ACK"] {
		hepReq["ACK"] = want.Requests["ACK"]
	}
	if a, b := (capturetest.Stats{Requests: hepReq, Responses: got.HEPResponses}), (capturetest.Stats{Requests: want.Requests, Responses: want.Responses}); !a.Equal(b) {
		t.Errorf("messages read from HEP: %v %v; from the SIP capture: %v %v", got.HEPRequests, got.HEPResponses, want.Requests, want.Responses)
	}
	for id, h := range viaHEP.calls {
		switch c := direct.calls[id]; {
		case c == nil:
			t.Errorf("call %s: read from HEP, missing from the packets", id)
		case len(c.Trace.Messages) != len(h.Trace.Messages):
			t.Errorf("call %s: %d messages from HEP, %d from the packets", id, len(h.Trace.Messages), len(c.Trace.Messages))
		}
	}
	// Both in one capture: every message twice, once as a packet and once in HEP; the
	// calls are read once, the wire counts stay tshark's.
	both := filepath.Join(dir, "both.pcapng")
	merge := exec.Command(siptest.RequireTool(t, "mergecap"), "-w", both, sipFile, hepFile)
	if out, err := merge.CombinedOutput(); err != nil {
		t.Fatalf("mergecap: %v\n%s", err, out)
	}
	mixed := analyzeFile(t, both, nil)
	requireTsharkAgrees(t, both, mixed.summary)
	for id, c := range direct.calls {
		m := mixed.calls[id]
		if m == nil || len(m.Trace.Messages) != len(c.Trace.Messages) || m.Retransmissions != c.Retransmissions {
			t.Errorf("call %s from packets and HEP together is not the call from packets alone", id)
		}
	}
	for id, c := range direct.calls {
		h := viaHEP.calls[id]
		if h == nil {
			t.Errorf("call %s is missing from the HEP capture", id)
			continue
		}
		if h.Diagnosis.Outcome != c.Diagnosis.Outcome || h.Diagnosis.FinalCode != c.Diagnosis.FinalCode || h.Vantage != c.Vantage {
			t.Errorf("call %s: from HEP %s %d seen from %s; from SIP %s %d seen from %s", id, h.Diagnosis.Outcome, h.Diagnosis.FinalCode, h.Vantage,
				c.Diagnosis.Outcome, c.Diagnosis.FinalCode, c.Vantage)
		}
	}
	if got.Outcomes[trace.OutcomeAnswered] != 3 || got.Outcomes[trace.OutcomeNotFound] != 1 {
		t.Errorf("outcomes from HEP: %v", got.Outcomes)
	}
}
