// Package dialogs counts the calls each local user is in, so that a per-user limit of
// simultaneous calls can be enforced (steps/locate refuses, steps/forward keeps count).
// A call counts from the moment it is forwarded to the user until it fails, or until its
// BYE passes, or until it has lasted MaxAge (a call whose BYE never reached siplens must not
// hold the user's slot forever).
package dialogs

import (
	"sync"
	"time"
)

// Table is the set of calls in progress, by callee.
type Table struct {
	MaxAge time.Duration

	mu     sync.Mutex
	byUser map[string]map[string]time.Time // callee AOR -> Call-ID -> start
	byCall map[string]string               // Call-ID -> callee AOR
}

// New returns an empty table.
func New(maxAge time.Duration) *Table {
	return &Table{MaxAge: maxAge, byUser: map[string]map[string]time.Time{}, byCall: map[string]string{}}
}

// Count is the number of calls user is in at now.
func (t *Table) Count(user string, now time.Time) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	calls := t.byUser[user]
	for id, start := range calls {
		if now.Sub(start) > t.MaxAge {
			delete(calls, id)
			delete(t.byCall, id)
		}
	}
	return len(calls)
}

// Start records a call to user.
func (t *Table) Start(user, callID string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byUser[user] == nil {
		t.byUser[user] = map[string]time.Time{}
	}
	t.byUser[user][callID] = now
	t.byCall[callID] = user
}

// End forgets a call (it failed, or its BYE passed).
func (t *Table) End(callID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	user, ok := t.byCall[callID]
	if !ok {
		return
	}
	delete(t.byCall, callID)
	delete(t.byUser[user], callID)
	if len(t.byUser[user]) == 0 {
		delete(t.byUser, user)
	}
}

// Total is the number of calls in progress at now, for every user (the web page's
// "active calls").
func (t *Table) Total(now time.Time) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	for user, calls := range t.byUser {
		for id, start := range calls {
			if now.Sub(start) > t.MaxAge {
				delete(calls, id)
				delete(t.byCall, id)
			}
		}
		if len(calls) == 0 {
			delete(t.byUser, user)
		}
	}
	return len(t.byCall)
}
