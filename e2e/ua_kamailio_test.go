package e2e

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/siplens/siplens/siptest"
	"github.com/siplens/siplens/ua"
)

// kamailioProxy is Debian's Kamailio running e2e/testdata/kamailio/kamailio.cfg in the
// foreground on a free loopback port (UDP and TCP).
type kamailioProxy struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	Addr string
	done chan struct{}
}

// kamailioModulesDir finds the directory of Kamailio's modules (it depends on the
// architecture).
func kamailioModulesDir(t *testing.T) string {
	t.Helper()
	candidates, _ := filepath.Glob("/usr/lib/*/kamailio/modules")
	candidates = append(candidates, "/usr/lib/kamailio/modules", "/usr/local/lib/kamailio/modules", "/usr/local/lib64/kamailio/modules")
	for _, d := range candidates {
		if _, err := os.Stat(filepath.Join(d, "tm.so")); err == nil {
			return d
		}
	}
	t.Fatalf("kamailio's modules (tm.so) not found in %v: install the Debian package kamailio", candidates)
	return ""
}

func startKamailioProxy(t *testing.T) *kamailioProxy {
	t.Helper()
	bin := siptest.RequireTool(t, "kamailio")
	cfg, err := filepath.Abs(filepath.Join("testdata", "kamailio", "kamailio.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	return runKamailio(t, bin, cfg, t.TempDir())
}

// runKamailio starts Kamailio with the config file cfg on a free loopback port (UDP and
// TCP), working in dir, stops it (by PID) when the test ends, and waits until it answers.
func runKamailio(t *testing.T, bin, cfg, dir string) *kamailioProxy {
	t.Helper()
	port := siptest.FreePort(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	k := &kamailioProxy{out: &syncBuffer{}, Addr: addr, done: make(chan struct{})}
	k.cmd = exec.CommandContext(ctx, bin, "-f", cfg, "-DD", "-E", "-n", "1", "-m", "64", "-M", "8",
		"-Y", dir, "-P", filepath.Join(dir, "kamailio.pid"), "-w", dir, "-L", kamailioModulesDir(t),
		"-l", "udp:"+addr, "-l", "tcp:"+addr)
	k.cmd.Stdout, k.cmd.Stderr = k.out, k.out
	// Kamailio's main process stops its children on SIGTERM.
	k.cmd.Cancel = func() error { return k.cmd.Process.Signal(syscall.SIGTERM) }
	k.cmd.WaitDelay = 5 * time.Second
	if err := k.cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() {
		_ = k.cmd.Wait()
		close(k.done)
	}()
	t.Cleanup(func() {
		_ = k.cmd.Process.Signal(syscall.SIGTERM) // our own child, by PID
		select {
		case <-k.done:
		case <-time.After(5 * time.Second):
			_ = k.cmd.Process.Kill()
			<-k.done
		}
		cancel()
		if t.Failed() {
			t.Logf("kamailio output:\n%s", k.out.String())
		}
	})
	k.waitReady(t)
	return k
}

// waitReady probes Kamailio with OPTIONS until it answers.
func (k *kamailioProxy) waitReady(t *testing.T) {
	t.Helper()
	msg := "OPTIONS sip:" + k.Addr + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP {{local}};branch={{branch}};rport\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:probe@localhost>;tag={{tag}}\r\nTo: <sip:" + k.Addr + ">\r\n" +
		"Call-ID: {{call_id}}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-k.done:
			t.Fatalf("kamailio exited at start:\n%s", k.out.String())
		default:
		}
		if got := siptest.SendUDP(t, k.Addr, []byte(msg), 300*time.Millisecond); len(got) > 0 {
			return
		}
	}
	t.Fatalf("kamailio does not answer OPTIONS on %s:\n%s", k.Addr, k.out.String())
}

// logHas waits up to five seconds for an output line with every part.
func (k *kamailioProxy) logHas(parts ...string) bool {
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, line := range strings.Split(k.out.String(), "\n") {
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(line, p)
			}
			if ok {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestUAThroughKamailio: the phone registers with Kamailio, a proxy we did not write, and
// calls through it to another phone that answers, rejects, or rings until the caller gives
// up (CANCEL relayed by Kamailio).
func TestUAThroughKamailio(t *testing.T) {
	siptest.RunWithTransports(t, func(t *testing.T, transport string) {
		k := startKamailioProxy(t)
		bob, _ := uaNewPhone(t, "bob", k.Addr, transport)
		reg := uaRegister(t, bob)
		if len(reg.Bindings) != 1 || !reg.Bindings[0].Mine || reg.Expires <= 0 {
			t.Fatalf("Kamailio's 200 lists %+v (expires %d)", reg.Bindings, reg.Expires)
		}
		if !k.logHas("siplens-test: REGISTER sip:bob@localhost", "("+transport+")") {
			t.Fatal("kamailio did not log the REGISTER")
		}
		script, _ := ua.ParseScript(strings.NewReader("call 2 then=486\ncall 3 then=noanswer\n"), "test")
		calls := uaAnswering(t, bob, ua.Behaviour{Ring: 200 * time.Millisecond, Final: 200}, script)
		alice, _ := uaNewPhone(t, "alice", k.Addr, transport)
		target, _ := ua.ParseTarget("bob@localhost", "")
		ctx := context.Background()

		t.Run("answered", func(t *testing.T) {
			res := alice.Call(ctx, ua.CallOptions{Target: target, Duration: 300 * time.Millisecond, RingTimeout: 10 * time.Second})
			uaRequireOutcome(t, res, ua.OutcomeAnswered, ua.ExitOK, 200)
			uaRequireFlow(t, uaFlow(res.Events), "→ INVITE", "← 180", "← 200", "→ ACK", "→ BYE", "← 200 BYE")
			// Kamailio record-routed the call: ACK and BYE go through it, not to bob's Contact.
			for _, e := range res.Events {
				if e.Type == ua.EventSent && (e.Method == "ACK" || e.Method == "BYE") && e.Peer != k.Addr {
					t.Fatalf("%s went to %s, not through Kamailio (%s)", e.Method, e.Peer, k.Addr)
				}
			}
			in := uaNextCall(t, calls, 5*time.Second)
			if in.Outcome != ua.InAnswered {
				t.Fatalf("callee: %s", in.Text)
			}
			if !k.logHas("siplens-test: in-dialog BYE") {
				t.Fatal("kamailio did not relay the BYE in the dialog")
			}
		})
		t.Run("486", func(t *testing.T) {
			res := alice.Call(ctx, ua.CallOptions{Target: target, RingTimeout: 10 * time.Second})
			uaRequireOutcome(t, res, ua.OutcomeClient, ua.Exit4xx, 486)
			uaNextCall(t, calls, 5*time.Second)
		})
		t.Run("ring timeout", func(t *testing.T) {
			res := alice.Call(ctx, ua.CallOptions{Target: target, RingTimeout: 700 * time.Millisecond})
			uaRequireOutcome(t, res, ua.OutcomeTimeout, ua.ExitTimeout, 487)
			uaRequireFlow(t, uaFlow(res.Events), "→ INVITE", "← 180", "→ CANCEL", "← 487", "→ ACK")
			in := uaNextCall(t, calls, 5*time.Second)
			if in.Outcome != ua.InCancelled {
				t.Fatalf("callee: %s: %s", in.Outcome, in.Text)
			}
		})
		t.Run("unknown user", func(t *testing.T) {
			nobody, _ := ua.ParseTarget("nobody@localhost", "")
			res := alice.Call(ctx, ua.CallOptions{Target: nobody})
			uaRequireOutcome(t, res, ua.OutcomeClient, ua.Exit4xx, 404)
		})
		t.Run("unregister", func(t *testing.T) {
			if r := bob.Unregister(ctx); !r.OK() || r.Expires != 0 {
				t.Fatalf("unregister: %s", r.Text)
			}
			res := alice.Call(ctx, ua.CallOptions{Target: target})
			uaRequireOutcome(t, res, ua.OutcomeClient, ua.Exit4xx, 404)
		})
	})
}

// TestUABaresipThroughKamailio: the ua phone and baresip call each other through Kamailio.
func TestUABaresipThroughKamailio(t *testing.T) {
	t.Run("ua calls baresip", func(t *testing.T) {
		k := startKamailioProxy(t)
		startBaresip(t, &testServer{Addr: k.Addr}, "carol")
		if !k.logHas("siplens-test: REGISTER sip:carol@localhost") {
			t.Fatal("baresip did not register with kamailio")
		}
		baresipAnswersUACall(t, k.Addr, "carol@localhost")
	})
	t.Run("baresip calls ua", func(t *testing.T) {
		k := startKamailioProxy(t)
		uaAnswersBaresipCall(t, &testServer{Addr: k.Addr}, k.Addr)
		if !k.logHas("siplens-test: INVITE to sip:bob@127.0.0.1") {
			t.Fatal("kamailio did not log the INVITE to bob")
		}
	})
}
