package siptest

import (
	"fmt"
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

// CheckGoroutines notes the goroutines running now and, when the test ends, fails it
// if goroutines started since are still running after GoroutineGrace (like net/http's
// afterTest). Goroutines are told apart by their ids (unique, but handed out in batches
// per processor, so not in order), so one that an earlier test left ending meanwhile
// cannot hide a new one. Call it FIRST in the test, so that its check runs after every
// other cleanup (server shutdown, processes stopped); do not use it in tests that run in
// parallel with others (t.Parallel), whose goroutines would be counted too.
func CheckGoroutines(t testing.TB) {
	t.Helper()
	before := map[int]bool{}
	for id := range goroutineStacks() {
		before[id] = true
	}
	t.Cleanup(func() {
		deadline := time.Now().Add(GoroutineGrace)
		var left []string
		for {
			left = left[:0]
			for id, stack := range goroutineStacks() {
				if !before[id] && !framework(stack) {
					left = append(left, stack)
				}
			}
			if len(left) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if len(left) > 0 {
			t.Errorf("goroutine leak: %d goroutines started during the test still run %v after it ended:\n%s",
				len(left), GoroutineGrace, strings.Join(left, "\n\n"))
		}
	})
}

// goroutineStacks returns the stack of every goroutine, by id.
func goroutineStacks() map[int]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[int]string{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		var id int
		if _, err := fmt.Sscanf(g, "goroutine %d ", &id); err == nil {
			out[id] = g
		}
	}
	return out
}

// framework reports the testing framework's and the runtime's own goroutines, and the
// one doing the check.
func framework(stack string) bool {
	for _, s := range []string{
		"siptest.goroutineStacks", // the goroutine doing the check
		"testing.(*T).Run(",       // parent tests waiting for subtests
		"testing.runTests",
		"testing.(*M).Run",
		"os/signal.signal_recv",
	} {
		if strings.Contains(stack, s) {
			return true
		}
	}
	return false
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
