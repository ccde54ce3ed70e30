package auth

import (
	"sync"
	"time"
)

// Lockout counts failed authentications per key (a source address, a user) and locks a
// key out for a cool-down once it has failed too often within a window: the brake on
// password guessing (svcrack and friends). Memory is bounded: expired entries are swept
// when the table is full, and while it stays full new keys are not tracked (failing open
// on tracking, never on authentication itself).
type Lockout struct {
	MaxFailures int
	Window      time.Duration
	Cooldown    time.Duration
	MaxKeys     int

	mu      sync.Mutex
	entries map[string]*lockEntry
}

type lockEntry struct {
	failures    int
	first       time.Time // start of the counting window
	lockedUntil time.Time
}

// NewLockout returns a lockout table; maxFailures 0 switches it off.
func NewLockout(maxFailures int, window, cooldown time.Duration) *Lockout {
	return &Lockout{MaxFailures: maxFailures, Window: window, Cooldown: cooldown, MaxKeys: 100_000, entries: map[string]*lockEntry{}}
}

// Locked reports whether key is locked out at now, and until when.
func (l *Lockout) Locked(key string, now time.Time) (bool, time.Time) {
	if l == nil || l.MaxFailures <= 0 {
		return false, time.Time{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entries[key]
	if e == nil || !now.Before(e.lockedUntil) {
		return false, time.Time{}
	}
	return true, e.lockedUntil
}

// Fail records a failure for key and reports whether it is now locked out.
func (l *Lockout) Fail(key string, now time.Time) bool {
	if l == nil || l.MaxFailures <= 0 {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entries[key]
	if e == nil {
		if len(l.entries) >= l.MaxKeys {
			l.sweep(now)
			if len(l.entries) >= l.MaxKeys {
				return false
			}
		}
		e = &lockEntry{first: now}
		l.entries[key] = e
	}
	if now.Sub(e.first) > l.Window {
		e.failures, e.first = 0, now
	}
	e.failures++
	if e.failures >= l.MaxFailures {
		e.lockedUntil = now.Add(l.Cooldown)
		e.failures, e.first = 0, now
		return true
	}
	return false
}

// Succeed forgets the failures of key (a user who finally typed the right password).
func (l *Lockout) Succeed(key string) {
	if l == nil || l.MaxFailures <= 0 {
		return
	}
	l.mu.Lock()
	if e := l.entries[key]; e != nil && e.lockedUntil.IsZero() {
		delete(l.entries, key)
	}
	l.mu.Unlock()
}

func (l *Lockout) sweep(now time.Time) {
	for k, e := range l.entries {
		if now.Sub(e.first) > l.Window && !now.Before(e.lockedUntil) {
			delete(l.entries, k)
		}
	}
}
