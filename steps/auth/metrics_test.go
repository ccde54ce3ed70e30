package auth_test

import (
	"testing"
	"time"

	"github.com/siplens/siplens/steps/auth"
	"github.com/siplens/siplens/trace"
)

type counted struct {
	verdicts       []trace.Verdict
	users, sources int
}

func (c *counted) AuthVerdict(v trace.Verdict) { c.verdicts = append(c.verdicts, v) }

func (c *counted) Lockout(user bool) {
	if user {
		c.users++
	} else {
		c.sources++
	}
}

// TestCountsVerdictsAndLockouts: every verdict the step reaches is counted once, and a
// lockout when it starts (not again while it lasts).
func TestCountsVerdictsAndLockouts(t *testing.T) {
	f := newFixture(t)
	c := &counted{}
	f.step.Metrics = c
	reg := func(authz string) { f.run(t, parse(t, withAuth(register, authz)), phone) }

	reg("")                                                 // challenged
	reg(answer(t, f.challenge(t)[0], "alice", password, 1)) // challenged, then authenticated
	reg(answer(t, f.challenge(t)[0], "alice", "guess", 1))  // challenged, then wrong password
	want := []trace.Verdict{trace.Challenged, trace.Challenged, trace.Authenticated, trace.Challenged, trace.WrongPassword}
	if len(c.verdicts) != len(want) {
		t.Fatalf("counted %v, want %v", c.verdicts, want)
	}
	for i := range want {
		if c.verdicts[i] != want[i] {
			t.Fatalf("counted %v, want %v", c.verdicts, want)
		}
	}

	// Two failures lock both the user and the source: each lockout is counted once, and
	// the request refused while they last is counted as locked-out.
	f, c = newFixture(t), &counted{}
	f.step.Metrics = c
	f.step.Lockout = auth.NewLockout(2, time.Minute, time.Minute)
	reg = func(authz string) { f.run(t, parse(t, withAuth(register, authz)), phone) }
	reg(answer(t, f.challenge(t)[0], "alice", "guess", 1))
	reg(answer(t, f.challenge(t)[0], "alice", "guess", 1))
	reg("")
	if c.users != 1 || c.sources != 1 {
		t.Errorf("lockouts counted: %d of users, %d of sources; want 1 and 1", c.users, c.sources)
	}
	if n := len(c.verdicts); n == 0 || c.verdicts[n-1] != trace.LockedOut || c.verdicts[n-2] != trace.LockedOut {
		t.Errorf("verdicts %v, want the last two locked-out", c.verdicts)
	}
}
