package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/siplens/siplens/config"
	"github.com/siplens/siplens/siptest"
)

// extensionUsers gives the test server users named like PBX extensions.
func extensionUsers(c *config.Config) {
	c.Users = []config.User{{User: "100", Password: "secret100"}, {User: "101", Password: "secret101"}, {User: "105", Password: "secret105"}}
}

// runTool runs one of SIPVicious' commands, bounded in time, from a free local port.
func runTool(t *testing.T, limit time.Duration, name string, args ...string) string {
	t.Helper()
	siptest.RequireTool(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	args = append([]string{"-b", "127.0.0.1", "-P", strconv.Itoa(siptest.FreePort(t))}, args...)
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = t.TempDir() // svwar and svcrack keep session files in ~/.sipvicious otherwise
	cmd.Env = append(os.Environ(), "HOME="+cmd.Dir)
	out, _ := cmd.CombinedOutput() // both tools exit non-zero when they find nothing
	return string(out)
}

// TestSvwarFindsNoExtension: SIPVicious' extension scanner cannot tell which of 100-110
// exist, because an unknown user gets exactly the challenge a real one gets, for REGISTER,
// INVITE and OPTIONS alike.
func TestSvwarFindsNoExtension(t *testing.T) {
	srv := startServer(t, "", extensionUsers)
	for _, method := range []string{"REGISTER", "INVITE", "OPTIONS"} {
		for _, force := range []bool{false, true} {
			args := []string{"-e100-110", "-m", method}
			if force {
				args = append(args, "--force") // scan even after its sanity check gives up
			}
			out := runTool(t, 60*time.Second, "svwar", append(args, "udp://"+srv.Addr)...)
			for _, ext := range []string{"100", "101", "105"} {
				if strings.Contains(out, "| "+ext+" ") {
					t.Errorf("svwar -m %s (force %v) found extension %s:\n%s", method, force, ext, out)
				}
			}
			if !force && !strings.Contains(out, "found nothing") {
				t.Errorf("svwar -m %s did not report 'found nothing':\n%s", method, out)
			}
		}
	}
}

// TestSvcrackLockedOut: SIPVicious' password cracker finds the password when it is the
// first guess (the tool works here), but with a dictionary of wrong guesses before it,
// the lockout stops it before it gets there.
func TestSvcrackLockedOut(t *testing.T) {
	lockout := func(c *config.Config) {
		extensionUsers(c)
		c.Auth.Lockout = config.Lockout{MaxFailures: 5, Window: config.Duration{Duration: time.Minute}, Cooldown: config.Duration{Duration: 5 * time.Minute}}
	}
	dict := func(words ...string) string {
		p := filepath.Join(t.TempDir(), "dict.txt")
		if err := os.WriteFile(p, []byte(strings.Join(words, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("control: the right password first is found", func(t *testing.T) {
		srv := startServer(t, "", lockout)
		out := runTool(t, 30*time.Second, "svcrack", "-u100", "-d", dict("secret100"), "udp://"+srv.Addr)
		if !strings.Contains(out, "secret100") {
			t.Fatalf("svcrack did not find a password it was given:\n%s", out)
		}
	})
	t.Run("after wrong guesses", func(t *testing.T) {
		srv := startServer(t, "", lockout)
		var words []string
		for i := 1; i <= 12; i++ {
			words = append(words, "guess"+strconv.Itoa(i))
		}
		out := runTool(t, 15*time.Second, "svcrack", "-u100", "-d", dict(append(words, "secret100")...), "udp://"+srv.Addr)
		if strings.Contains(out, "secret100") {
			t.Fatalf("svcrack found the password despite the lockout:\n%s", out)
		}
		if !srv.logHas("code=403", "locked out") {
			t.Fatal("the log shows no lockout")
		}
	})
}
