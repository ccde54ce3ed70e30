// Package storetest is the conformance suite every store backend passes.
package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/siplens/siplens/store"
)

// Backend opens a fresh or re-opened store. reopen == true must return a store over the
// same data as the previous call (a restart); it is only asked of persistent backends.
type Backend func(t *testing.T, reopen bool) (store.Users, store.Locations)

// Run runs the suite; persistent says whether the backend must keep data across a restart.
func Run(t *testing.T, open Backend, persistent bool) {
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)

	t.Run("users", func(t *testing.T) {
		users, _ := open(t, false)
		if _, err := users.GetUser(ctx, "alice", "example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetUser on empty store: err = %v, want ErrNotFound", err)
		}
		u := store.User{Name: "alice", Domain: "example.com", Realm: "example.com", HA1MD5: "m", HA1SHA256: "s",
			Settings: store.Settings{DND: 486, ForwardTo: "sip:carol@example.com", ForwardMode: "proxy", MaxCalls: 2}}
		if err := users.PutUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		got, err := users.GetUser(ctx, "alice", "example.com")
		if err != nil || got != u {
			t.Fatalf("GetUser = %+v, %v; want %+v", got, err, u)
		}
		u.HA1MD5 = "m2"
		if err := users.PutUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		list, err := users.ListUsers(ctx)
		if err != nil || len(list) != 1 || list[0].HA1MD5 != "m2" {
			t.Fatalf("ListUsers = %+v, %v; want the one updated user", list, err)
		}
		if err := users.DeleteUser(ctx, "alice", "example.com"); err != nil {
			t.Fatal(err)
		}
		if err := users.DeleteUser(ctx, "alice", "example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second DeleteUser: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("bindings", func(t *testing.T) {
		_, loc := open(t, false)
		aor := "bob@example.com"
		b1 := store.Binding{AOR: aor, Contact: "sip:bob@10.0.0.1:5060", Q: 1, Expires: now.Add(time.Hour), CallID: "c1", CSeq: 1, Source: "10.0.0.1:5060", Transport: "UDP"}
		b2 := store.Binding{AOR: aor, Contact: "sip:bob@10.0.0.2:5060", Q: 0.5, Expires: now.Add(10 * time.Second), CallID: "c2", CSeq: 7, Source: "10.0.0.2:40000", Transport: "TCP"}
		got, err := loc.Update(ctx, aor, now, func(cur []store.Binding) ([]store.Binding, error) {
			if len(cur) != 0 {
				t.Errorf("current bindings of a new aor: %v", cur)
			}
			return []store.Binding{b1, b2}, nil
		})
		if err != nil || len(got) != 2 {
			t.Fatalf("Update = %v, %v", got, err)
		}
		bs, _ := loc.Bindings(ctx, aor, now)
		if len(bs) != 2 {
			t.Fatalf("Bindings = %v, want 2", bs)
		}
		// An error from fn changes nothing.
		_, err = loc.Update(ctx, aor, now, func([]store.Binding) ([]store.Binding, error) { return nil, errors.New("refused") })
		if err == nil {
			t.Fatal("Update with a failing fn returned no error")
		}
		if bs, _ := loc.Bindings(ctx, aor, now); len(bs) != 2 {
			t.Fatalf("after failed Update: %d bindings, want 2", len(bs))
		}
		// b2 expires after 10 s.
		later := now.Add(11 * time.Second)
		if bs, _ := loc.Bindings(ctx, aor, later); len(bs) != 1 || bs[0].Contact != b1.Contact {
			t.Fatalf("Bindings after b2 expired = %v", bs)
		}
		if n, err := loc.Expire(ctx, later); err != nil || n != 1 {
			t.Fatalf("Expire = %d, %v; want 1", n, err)
		}
		all, _ := loc.AllBindings(ctx, later)
		if len(all) != 1 {
			t.Fatalf("AllBindings = %v", all)
		}
	})

	t.Run("concurrent updates of one aor are serialised", func(t *testing.T) {
		_, loc := open(t, false)
		aor := "carol@example.com"
		var wg sync.WaitGroup
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := loc.Update(ctx, aor, now, func(cur []store.Binding) ([]store.Binding, error) {
					n := uint32(len(cur))
					return append(cur, store.Binding{AOR: aor, Contact: "sip:c@h" + string(rune('a'+n)), Expires: now.Add(time.Hour), CSeq: n}), nil
				})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if bs, _ := loc.Bindings(ctx, aor, now); len(bs) != 20 {
			t.Fatalf("after 20 concurrent appends: %d bindings", len(bs))
		}
	})

	if !persistent {
		return
	}
	t.Run("bindings survive a restart", func(t *testing.T) {
		_, loc := open(t, false)
		aor := "dave@example.com"
		b := store.Binding{AOR: aor, Contact: "sip:dave@192.0.2.1:5070", Q: 0.7, Expires: time.Now().Add(time.Hour).Truncate(time.Millisecond), CallID: "x", CSeq: 3, Source: "192.0.2.1:5070", NAT: true, Transport: "TCP", UserAgent: "ua"}
		if _, err := loc.Update(ctx, aor, time.Now(), func([]store.Binding) ([]store.Binding, error) { return []store.Binding{b}, nil }); err != nil {
			t.Fatal(err)
		}
		_, loc2 := open(t, true)
		bs, err := loc2.Bindings(ctx, aor, time.Now())
		if err != nil || len(bs) != 1 {
			t.Fatalf("after restart: %v, %v", bs, err)
		}
		got := bs[0]
		got.Updated = b.Updated
		if !got.Expires.Equal(b.Expires) || got.Contact != b.Contact || got.Source != b.Source || got.Q != b.Q || got.CSeq != b.CSeq || got.Transport != b.Transport || got.NAT != b.NAT {
			t.Fatalf("after restart: %+v, want %+v", got, b)
		}
	})
}
