// Package memory is an in-memory store backend for tests and for the location cache of
// persistent backends.
package memory

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/siplens/siplens/store"
)

// Locations keeps bindings in sharded maps so that REGISTERs for different users do not
// contend on one lock.
type Locations struct {
	shards [64]shard
}

type shard struct {
	mu   sync.Mutex
	aors map[string][]store.Binding
}

// NewLocations returns an empty location service.
func NewLocations() *Locations {
	l := &Locations{}
	for i := range l.shards {
		l.shards[i].aors = make(map[string][]store.Binding)
	}
	return l
}

func (l *Locations) shard(aor string) *shard {
	// FNV-1a: cheap and spreads user names well.
	h := uint32(2166136261)
	for i := 0; i < len(aor); i++ {
		h ^= uint32(aor[i])
		h *= 16777619
	}
	return &l.shards[h%uint32(len(l.shards))]
}

func live(bs []store.Binding, now time.Time) []store.Binding {
	out := make([]store.Binding, 0, len(bs))
	for _, b := range bs {
		if b.Expires.After(now) {
			out = append(out, b)
		}
	}
	return out
}

func (l *Locations) Bindings(_ context.Context, aor string, now time.Time) ([]store.Binding, error) {
	s := l.shard(aor)
	s.mu.Lock()
	defer s.mu.Unlock()
	return live(s.aors[aor], now), nil
}

func (l *Locations) Update(ctx context.Context, aor string, now time.Time, fn func([]store.Binding) ([]store.Binding, error)) ([]store.Binding, error) {
	return l.UpdateThen(ctx, aor, now, fn, nil)
}

// UpdateThen is Update with a hook that runs under the aor's lock after fn succeeded and
// before the new set is visible; persistent backends write through it, so the order of
// writes to disk is the order of updates.
func (l *Locations) UpdateThen(_ context.Context, aor string, now time.Time, fn func([]store.Binding) ([]store.Binding, error), persist func([]store.Binding) error) ([]store.Binding, error) {
	s := l.shard(aor)
	s.mu.Lock()
	defer s.mu.Unlock()
	next, err := fn(live(s.aors[aor], now))
	if err != nil {
		return nil, err
	}
	next = live(next, now)
	if persist != nil {
		if err := persist(next); err != nil {
			return nil, err
		}
	}
	if len(next) == 0 {
		delete(s.aors, aor)
	} else {
		s.aors[aor] = next
	}
	return append([]store.Binding(nil), next...), nil
}

// Load puts bindings in without persistence (start-up from disk).
func (l *Locations) Load(bs []store.Binding) {
	for _, b := range bs {
		s := l.shard(b.AOR)
		s.mu.Lock()
		s.aors[b.AOR] = append(s.aors[b.AOR], b)
		s.mu.Unlock()
	}
}

func (l *Locations) AllBindings(_ context.Context, now time.Time) ([]store.Binding, error) {
	var out []store.Binding
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		for _, bs := range s.aors {
			out = append(out, live(bs, now)...)
		}
		s.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].AOR != out[j].AOR {
			return out[i].AOR < out[j].AOR
		}
		return out[i].Contact < out[j].Contact
	})
	return out, nil
}

func (l *Locations) Expire(_ context.Context, now time.Time) (int, error) {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		for aor, bs := range s.aors {
			kept := live(bs, now)
			n += len(bs) - len(kept)
			if len(kept) == 0 {
				delete(s.aors, aor)
			} else {
				s.aors[aor] = kept
			}
		}
		s.mu.Unlock()
	}
	return n, nil
}

// Users is an in-memory user directory.
type Users struct {
	mu    sync.RWMutex
	users map[string]store.User
}

func NewUsers() *Users { return &Users{users: map[string]store.User{}} }

func (u *Users) GetUser(_ context.Context, name, domain string) (store.User, error) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	usr, ok := u.users[name+"@"+domain]
	if !ok {
		return store.User{}, store.ErrNotFound
	}
	return usr, nil
}

func (u *Users) PutUser(_ context.Context, usr store.User) error {
	u.mu.Lock()
	u.users[usr.AOR()] = usr
	u.mu.Unlock()
	return nil
}

func (u *Users) DeleteUser(_ context.Context, name, domain string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.users[name+"@"+domain]; !ok {
		return store.ErrNotFound
	}
	delete(u.users, name+"@"+domain)
	return nil
}

func (u *Users) ListUsers(_ context.Context) ([]store.User, error) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	out := make([]store.User, 0, len(u.users))
	for _, usr := range u.users {
		out = append(out, usr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AOR() < out[j].AOR() })
	return out, nil
}
