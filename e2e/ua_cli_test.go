package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/siplens/siplens/cli"
	"github.com/siplens/siplens/siptest"
	"github.com/siplens/siplens/ua"
)

// uaCmd runs a siplens command in-process and returns its exit status and output.
func uaCmd(args ...string) (int, string, string) {
	var out, errOut syncBuffer
	code := cli.Main(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// uaJSONEvents parses --json output: one event per line.
func uaJSONEvents(t *testing.T, out string) []ua.Event {
	t.Helper()
	var evs []ua.Event
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var e ua.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("--json printed a line that is not a JSON event: %q: %v", line, err)
		}
		evs = append(evs, e)
	}
	return evs
}

func uaLastResult(t *testing.T, evs []ua.Event) ua.Event {
	t.Helper()
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Type == ua.EventResult {
			return evs[i]
		}
	}
	t.Fatalf("no result event among %d events", len(evs))
	return ua.Event{}
}

// TestPhoneCommands: siplens answer, call, register and options against a siplens server,
// as a user runs them.
func TestPhoneCommands(t *testing.T) {
	siptest.RunWithTransports(t, func(t *testing.T, transport string) {
		srv := startServer(t, "", nil)
		common := []string{"--server", srv.Addr, "--transport", transport, "--listen", "127.0.0.1"}

		type answerRun struct {
			code     int
			out, err string
		}
		done := make(chan answerRun, 1)
		go func() {
			args := append([]string{"answer", "bob@localhost", "--password", passwords["bob"], "--ring", "200ms", "--calls", "2", "--json",
				"--then", "200"}, common...)
			code, out, errOut := uaCmd(args...)
			done <- answerRun{code, out, errOut}
		}()
		waitRegistered(t, srv, "bob@localhost")

		t.Run("call answered", func(t *testing.T) {
			args := append([]string{"call", "alice@localhost", "bob", "--password", passwords["alice"], "--duration", "300ms", "--json"}, common...)
			code, out, errOut := uaCmd(args...)
			if code != 0 {
				t.Fatalf("call exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			r := uaLastResult(t, uaJSONEvents(t, out))
			if r.Outcome != ua.OutcomeAnswered || r.Exit == nil || *r.Exit != 0 || r.Code != 200 {
				t.Fatalf("result event %+v", r)
			}
		})
		t.Run("text output has the ladder", func(t *testing.T) {
			args := append([]string{"call", "alice@localhost", "bob@localhost", "--password", passwords["alice"], "--duration", "100ms"}, common...)
			code, out, errOut := uaCmd(args...)
			if code != 0 {
				t.Fatalf("call exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			for _, want := range []string{"← 180 Ringing", "The callee's device has the INVITE", "Ladder of call", "→ 127.0.0.1:" + strconv.Itoa(srv.Port) + "  INVITE sip:bob@localhost", "Outcome: answered (exit 0)"} {
				if !strings.Contains(out, want) {
					t.Fatalf("text output lacks %q:\n%s", want, out)
				}
			}
		})
		select {
		case r := <-done:
			if r.code != 0 {
				t.Fatalf("answer exit %d\n%s\n%s", r.code, r.out, r.err)
			}
			evs := uaJSONEvents(t, r.out)
			results := 0
			for _, e := range evs {
				if e.Type == ua.EventResult && e.Call > 0 {
					results++
					if e.Outcome != ua.InAnswered {
						t.Fatalf("answered call result %+v", e)
					}
				}
			}
			if results != 2 {
				t.Fatalf("answer reported %d call results, want 2:\n%s", results, r.out)
			}
			if last := uaLastResult(t, evs); !strings.HasPrefix(last.Text, "unregistered") {
				t.Fatalf("answer did not unregister at the end: %+v", last)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("answer did not stop after --calls 2")
		}

		t.Run("rejected calls exit by class", func(t *testing.T) {
			for _, c := range []struct {
				then string
				exit int
			}{{"486", ua.Exit4xx}, {"503", ua.Exit5xx}, {"600", ua.Exit6xx}} {
				done := make(chan int, 1)
				go func() {
					args := append([]string{"answer", "carol@localhost", "--password", passwords["carol"], "--ring", "0", "--then", c.then, "--calls", "1"}, common...)
					code, _, _ := uaCmd(args...)
					done <- code
				}()
				waitRegistered(t, srv, "carol@localhost")
				args := append([]string{"call", "alice@localhost", "carol", "--password", passwords["alice"], "--json"}, common...)
				code, out, _ := uaCmd(args...)
				r := uaLastResult(t, uaJSONEvents(t, out))
				if code != c.exit || r.Exit == nil || *r.Exit != c.exit {
					t.Fatalf("--then %s: call exit %d, want %d:\n%s", c.then, code, c.exit, out)
				}
				if code := <-done; code != 0 {
					t.Fatalf("answer exit %d", code)
				}
				uaWaitUnregistered(t, srv, "carol@localhost")
			}
		})
		t.Run("register with a wrong password", func(t *testing.T) {
			args := append([]string{"register", "dave@localhost", "--password", "nope", "--json"}, common...)
			code, out, _ := uaCmd(args...)
			r := uaLastResult(t, uaJSONEvents(t, out))
			if code != ua.Exit4xx || !strings.Contains(r.Text, "wrong password or user") {
				t.Fatalf("exit %d, result %+v", code, r)
			}
			sent := 0
			for _, e := range uaJSONEvents(t, out) {
				if e.Type == ua.EventSent && e.Method == "REGISTER" {
					sent++
				}
			}
			if sent != 2 {
				t.Fatalf("%d REGISTERs sent, want 2 (one without, one with credentials)", sent)
			}
		})
		t.Run("register lists the bindings", func(t *testing.T) {
			args := append([]string{"register", "dave@localhost", "--password", passwords["dave"], "--expires", "120"}, common...)
			code, out, errOut := uaCmd(args...)
			if code != 0 || !strings.Contains(out, "binding sip:dave@127.0.0.1:") || !strings.Contains(out, "(this phone)") {
				t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
			}
		})
		t.Run("answer --script", func(t *testing.T) {
			script := filepath.Join(t.TempDir(), "calls.txt")
			if err := os.WriteFile(script, []byte("# busy first, then answer\ncall 1  ring=0 then=486\nfrom alice  ring=100ms then=200 hangup=200ms\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			done := make(chan int, 1)
			go func() {
				args := append([]string{"answer", "carol@localhost", "--password", passwords["carol"], "--script", script, "--calls", "2"}, common...)
				code, _, _ := uaCmd(args...)
				done <- code
			}()
			waitRegistered(t, srv, "carol@localhost")
			for i, want := range []int{ua.Exit4xx, ua.ExitOK} {
				args := append([]string{"call", "alice@localhost", "carol", "--password", passwords["alice"], "--duration", "5s"}, common...)
				code, out, _ := uaCmd(args...)
				if code != want {
					t.Fatalf("call %d: exit %d, want %d:\n%s", i+1, code, want, out)
				}
				if i == 1 && !strings.Contains(out, "the callee hung up") {
					t.Fatalf("call 2 should be ended by the callee (hangup=200ms):\n%s", out)
				}
			}
			if code := <-done; code != 0 {
				t.Fatalf("answer exit %d", code)
			}
		})
		t.Run("options", func(t *testing.T) {
			code, out, errOut := uaCmd("options", srv.Addr, "--transport", transport, "--count", "2", "--interval", "50ms", "--json")
			if code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
			}
			n := 0
			for _, e := range uaJSONEvents(t, out) {
				if e.Type == ua.EventResult {
					n++
					if e.Code != 200 || e.RTTms <= 0 {
						t.Fatalf("probe result %+v", e)
					}
				}
			}
			if n != 2 {
				t.Fatalf("%d probe results, want 2", n)
			}
		})
	})
}

// TestPhoneCommandErrors: bad arguments are refused with a message that names the problem.
func TestPhoneCommandErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"call", "alice", "bob"}, 1, `"alice" has no @DOMAIN`},
		{[]string{"call", "alice@", "bob"}, 1, "no domain after the @"},
		{[]string{"call", "alice@localhost", "tel:+123"}, 1, `scheme "tel" is not sip or sips`},
		{[]string{"call", "alice@localhost", "bob@exa mple.com"}, 1, "contains a space"},
		{[]string{"call", "alice@localhost", "bob@host:70000"}, 1, `port "70000"`},
		{[]string{"call", "alice@localhost", "bob", "--codecs", "G729"}, 1, `unknown codec "G729"`},
		{[]string{"call", "alice@localhost", "bob", "--server", "http://x"}, 1, "want HOST:PORT"},
		{[]string{"call", "alice@localhost"}, 2, "Usage: siplens call"},
		{[]string{"call", "--nope"}, 2, "flag provided but not defined"},
		{[]string{"register", "bob@localhost:5060"}, 1, "without a port"},
		{[]string{"answer", "bob@localhost", "--then", "99"}, 1, "then=99"},
		{[]string{"answer", "bob@localhost", "--then", "302"}, 1, "needs contact=URI"},
		{[]string{"options", "sip:"}, 1, "TARGET"},
		{[]string{"options", "127.0.0.1:1", "--transport", "sctp"}, 1, "transport"},
		{[]string{"options", "127.0.0.1:1", "--from", "a b"}, 1, "--from"},
	} {
		code, out, errOut := uaCmd(c.args...)
		if code != c.code || !strings.Contains(errOut+out, c.want) {
			t.Errorf("siplens %q: exit %d, want %d with %q; stderr: %s", c.args, code, c.code, c.want, errOut)
		}
	}
}

// uaWaitUnregistered waits until aor has no binding.
func uaWaitUnregistered(t *testing.T, srv *testServer, aor string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		bs, _ := srv.Bindings(t)
		found := false
		for _, b := range bs {
			if b.AOR == aor {
				found = true
			}
		}
		if !found {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s still registered", aor)
}
