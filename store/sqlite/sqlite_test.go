package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/siplens/siplens/store"
	"github.com/siplens/siplens/store/storetest"
)

func TestConformance(t *testing.T) {
	var dir string
	storetest.Run(t, func(t *testing.T, reopen bool) (store.Users, store.Locations) {
		if !reopen {
			dir = t.TempDir()
		}
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s, s
	}, true)
}

// TestUpgradeKeepsBindings: a file written before a column existed opens, and its
// bindings are still there.
func TestUpgradeKeepsBindings(t *testing.T) {
	path := t.TempDir() + "/old.db"
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	old := `CREATE TABLE bindings (aor TEXT NOT NULL, contact TEXT NOT NULL, q REAL NOT NULL, expires_unix_ms INTEGER NOT NULL,
		call_id TEXT NOT NULL, cseq INTEGER NOT NULL, source TEXT NOT NULL, transport TEXT NOT NULL, user_agent TEXT NOT NULL,
		updated_unix_ms INTEGER NOT NULL, PRIMARY KEY (aor, contact));
		INSERT INTO bindings VALUES ('bob@localhost', 'sip:bob@192.0.2.1', 1, 4102444800000, 'c', 1, '192.0.2.1:5060', 'UDP', 'ua', 0);`
	if _, err := db.Exec(old); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bs, err := s.Bindings(context.Background(), "bob@localhost", time.Now())
	if err != nil || len(bs) != 1 || bs[0].NAT {
		t.Fatalf("bindings after upgrade: %+v, %v", bs, err)
	}
}

// TestConcurrentRegistrationsAllLand: REGISTERs answered at the same time share commits
// (bindingWriter); every one of them must be in the file when the store opens again.
func TestConcurrentRegistrationsAllLand(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	const n = 300
	errs := make(chan error, n)
	for i := range n {
		go func() {
			aor := fmt.Sprintf("u%03d@localhost", i)
			_, err := s.Update(ctx, aor, now, func([]store.Binding) ([]store.Binding, error) {
				return []store.Binding{{AOR: aor, Contact: fmt.Sprintf("<sip:u%03d@127.0.0.1:5070>", i), Q: 1, Expires: now.Add(time.Hour), Updated: now}}, nil
			})
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	all, err := s.AllBindings(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != n {
		t.Fatalf("%d bindings after reopening, want %d", len(all), n)
	}
}
