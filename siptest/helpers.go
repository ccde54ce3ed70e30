package siptest

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// DefaultTransports are the transports RunWithTransports uses when none
// are given.
var DefaultTransports = []string{"udp", "tcp"}

// RunWithTransports runs fn as one subtest per transport ("udp", "tcp"
// by default), named after the transport.
func RunWithTransports(t *testing.T, fn func(t *testing.T, transport string), transports ...string) {
	t.Helper()
	if len(transports) == 0 {
		transports = DefaultTransports
	}
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) { fn(t, tr) })
	}
}

// GoroutineGrace is how long CheckGoroutines waits for goroutines to wind
// down before reporting a leak.
var GoroutineGrace = 5 * time.Second

// CheckGoroutines records the number of goroutines now and, when the test
// ends, fails it if more are still running after GoroutineGrace (like
// net/http's afterTest). Call it FIRST in the test, so that its check runs
// after every other cleanup (server shutdown, processes stopped); do not
// use it in tests that run in parallel with others (t.Parallel), whose
// goroutines would be counted too.
func CheckGoroutines(t testing.TB) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(GoroutineGrace)
		var n int
		for {
			n = runtime.NumGoroutine()
			if n <= before || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if n > before {
			t.Errorf("goroutine leak: %d goroutines before the test, %d still running %v after it ended:\n%s",
				before, n, GoroutineGrace, interestingStacks())
		}
	})
}

// interestingStacks dumps all goroutine stacks except the testing
// framework's and the runtime's own.
func interestingStacks() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	skip := []string{
		"siptest.interestingStacks", // the goroutine doing the check
		"testing.(*T).Run(",         // parent tests waiting for subtests
		"testing.runTests",
		"testing.(*M).Run",
		"os/signal.signal_recv",
	}
next:
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, s := range skip {
			if strings.Contains(g, s) {
				continue next
			}
		}
		out = append(out, g)
	}
	return strings.Join(out, "\n\n")
}

// ScenarioDir returns the absolute path of the SIPp scenario directory
// e2e/testdata/sipp of this module, found by walking up from the current
// directory to go.mod. It fails the test if it cannot be found.
func ScenarioDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("siptest.ScenarioDir: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			d := filepath.Join(dir, "e2e", "testdata", "sipp")
			if _, err := os.Stat(d); err != nil {
				t.Fatalf("siptest.ScenarioDir: %v", err)
			}
			return d
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("siptest.ScenarioDir: no go.mod above the current directory")
		}
		dir = parent
	}
}

// Scenario returns the absolute path of the scenario file name in
// e2e/testdata/sipp, failing the test if it does not exist.
func Scenario(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(ScenarioDir(t), name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("siptest.Scenario: %v", err)
	}
	return p
}
