package auth

import "github.com/siplens/siplens/trace"

// Counter counts the step's verdicts for the metrics (package metrics implements it). The
// step knows the counter only through this interface, so it stays free of Prometheus, and
// its tests can count with a plain struct.
type Counter interface {
	// AuthVerdict counts one verdict of the step (Challenged, Authenticated, WrongPassword,
	// Stale, Replayed, LockedOut, Impersonation).
	AuthVerdict(trace.Verdict)
	// Lockout counts a lockout that starts now, of a user or of a source address.
	Lockout(user bool)
}

func (s *Step) countVerdict(v trace.Verdict) {
	if s.Metrics != nil {
		s.Metrics.AuthVerdict(v)
	}
}

func (s *Step) countLockouts(user, source bool) {
	if s.Metrics == nil {
		return
	}
	if user {
		s.Metrics.Lockout(true)
	}
	if source {
		s.Metrics.Lockout(false)
	}
}
