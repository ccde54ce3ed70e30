package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/siplens/siplens/siptest"
)

// baresip is a running softphone (Debian's baresip-core) registered as user.
type baresip struct {
	cmd *exec.Cmd
	out *syncBuffer
}

// startBaresip writes a config for a phone that registers as user through srv and answers
// calls by itself, and starts it with extra arguments (e.g. -e "/dial ..." -t 4). Audio
// runs through the aubridge module: no sound device is needed, and a codec mismatch would
// still end the call.
func startBaresip(t *testing.T, srv *testServer, user string, args ...string) *baresip {
	t.Helper()
	siptest.RequireTool(t, "baresip")
	dir := t.TempDir()
	port := siptest.FreePort(t)
	config := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
sip_trans_def udp
audio_player aubridge,bridge1
audio_source aubridge,bridge1
audio_alert aubridge,bridge2
module_path /usr/lib/baresip/modules
module g711.so
module aubridge.so
module_app account.so
module_app menu.so
`, port)
	account := fmt.Sprintf("<sip:%s@localhost>;auth_pass=%s;outbound=\"sip:%s;transport=udp\";regint=600;answermode=auto\n", user, passwords[user], srv.Addr)
	for name, body := range map[string]string{"config": config, "accounts": account} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	b := &baresip{out: &syncBuffer{}}
	b.cmd = exec.CommandContext(ctx, "baresip", append([]string{"-f", dir, "-v"}, args...)...)
	b.cmd.Stdout, b.cmd.Stderr = b.out, b.out
	if err := b.cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if b.cmd.ProcessState == nil {
			b.cmd.Process.Kill() // our own child, by PID
			b.cmd.Wait()
		}
		cancel()
		if t.Failed() {
			t.Logf("baresip output:\n%s", b.out.String())
		}
	})
	return b
}

// waitRegistered waits until aor has a binding.
func waitRegistered(t *testing.T, srv *testServer, aor string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		bs, _ := srv.Bindings(t)
		for _, b := range bs {
			if b.AOR == aor {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never registered", aor)
}

// TestBaresip: a real softphone registers with digest auth, answers a call from SIPp
// through siplens, and places a call to a SIPp phone through siplens; both connect and
// hang up.
func TestBaresip(t *testing.T) {
	t.Run("answers a call", func(t *testing.T) {
		srv := startServer(t, "", nil)
		startBaresip(t, srv, "carol")
		waitRegistered(t, srv, "carol@localhost")
		if !srv.logHas("method=REGISTER", "code=401", "by=auth") {
			t.Fatal("baresip registered without being challenged")
		}
		sipp(t, srv, "udp", "uac_call.xml", "alice", map[string]string{"callee": "carol", "hold": "1000"}).Run(t).RequireOK(t)
		if !srv.logHas("method=INVITE", "code=200", "by=\"branch 1 (sip:carol") || !srv.logHas("method=BYE", "code=200") {
			t.Fatal("the log does not show the answered call and its BYE")
		}
	})
	t.Run("places a call", func(t *testing.T) {
		srv := startServer(t, "", nil)
		bob := callee(t, srv, "udp", "bob", "uas_answer.xml", nil)
		phone := startBaresip(t, srv, "carol", "-e", "/dial sip:bob@localhost", "-t", "3")
		if err := phone.cmd.Wait(); err != nil {
			t.Fatalf("baresip: %v", err)
		}
		if out := phone.out.String(); !strings.Contains(out, "Call established: sip:bob@localhost") || !strings.Contains(out, "terminated") {
			t.Fatalf("baresip did not report an established and terminated call:\n%s", out)
		}
		if res := bob.Wait(10 * time.Second); !res.OK() {
			t.Fatalf("bob's phone:\n%s", res.Details())
		}
	})
}
