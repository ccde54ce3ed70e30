// Package sqlite is the embedded store: one SQLite file (pure Go, no cgo) holding users and
// registrations. Bindings are also kept in memory for lookups; every change is written to
// the file before the REGISTER is answered, so bindings survive a restart.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/siplens/siplens/store"
	"github.com/siplens/siplens/store/memory"
)

// FileName is the database file inside the data directory.
const FileName = "siplens.db"

// Store is the SQLite backend; it implements store.Users and store.Locations.
type Store struct {
	db     *sql.DB
	cache  *memory.Locations
	writer *bindingWriter
}

const schema = `
CREATE TABLE IF NOT EXISTS users (
	name TEXT NOT NULL,
	domain TEXT NOT NULL,
	realm TEXT NOT NULL,
	ha1_md5 TEXT NOT NULL,
	ha1_sha256 TEXT NOT NULL,
	PRIMARY KEY (name, domain)
);
CREATE TABLE IF NOT EXISTS bindings (
	aor TEXT NOT NULL,
	contact TEXT NOT NULL,
	q REAL NOT NULL,
	expires_unix_ms INTEGER NOT NULL,
	call_id TEXT NOT NULL,
	cseq INTEGER NOT NULL,
	source TEXT NOT NULL,
	behind_nat INTEGER NOT NULL DEFAULT 0,
	transport TEXT NOT NULL,
	user_agent TEXT NOT NULL,
	updated_unix_ms INTEGER NOT NULL,
	PRIMARY KEY (aor, contact)
);
`

// Open opens (creating if needed) the database in dir.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	return OpenFile(filepath.Join(dir, FileName))
}

// OpenFile opens the database at path.
func OpenFile(path string) (*Store, error) {
	// WAL lets the CLI read users while the server writes; busy_timeout makes a second
	// process wait for the lock instead of failing. The page cache may grow to 32 MiB
	// (SQLite's default is 2 MiB): with 10,000 registrations the bindings and their index
	// outgrew the default and every change read pages back from the file (6% of the CPU
	// under REGISTER load); pages are only taken as they are used.
	dsn := "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-32768)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one writer; SQLite serialises writes anyway
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("create schema in %s: %w", path, err)
	}
	// Columns added after a table first shipped: a file written by an older siplens gets
	// them with their default, so an upgrade loses no registration.
	for _, c := range []struct{ table, column, decl string }{
		{"bindings", "behind_nat", "INTEGER NOT NULL DEFAULT 0"},
		{"users", "dnd", "INTEGER NOT NULL DEFAULT 0"},
		{"users", "forward_to", "TEXT NOT NULL DEFAULT ''"},
		{"users", "forward_mode", "TEXT NOT NULL DEFAULT ''"},
		{"users", "max_calls", "INTEGER NOT NULL DEFAULT 0"},
	} {
		if err := ensureColumn(db, c.table, c.column, c.decl); err != nil {
			db.Close()
			return nil, fmt.Errorf("upgrade %s: %w", path, err)
		}
	}
	s := &Store{db: db, cache: memory.NewLocations()}
	if err := s.loadBindings(); err != nil {
		db.Close()
		return nil, err
	}
	if s.writer, err = newBindingWriter(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return s, nil
}

// ensureColumn adds a column to a table that lacks it.
func ensureColumn(db *sql.DB, table, column, decl string) error {
	rows, err := db.Query(`SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return err
		}
		if name == column {
			return nil
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	_, err = db.Exec(fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", table, column, decl))
	return err
}

// Close closes the database.
func (s *Store) Close() error {
	s.writer.close()
	return s.db.Close()
}

func (s *Store) loadBindings() error {
	rows, err := s.db.Query(`SELECT aor, contact, q, expires_unix_ms, call_id, cseq, source, behind_nat, transport, user_agent, updated_unix_ms FROM bindings`)
	if err != nil {
		return fmt.Errorf("load bindings: %w", err)
	}
	defer rows.Close()
	var bs []store.Binding
	for rows.Next() {
		var b store.Binding
		var exp, upd int64
		if err := rows.Scan(&b.AOR, &b.Contact, &b.Q, &exp, &b.CallID, &b.CSeq, &b.Source, &b.NAT, &b.Transport, &b.UserAgent, &upd); err != nil {
			return fmt.Errorf("load bindings: %w", err)
		}
		b.Expires = time.UnixMilli(exp)
		b.Updated = time.UnixMilli(upd)
		bs = append(bs, b)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load bindings: %w", err)
	}
	s.cache.Load(bs)
	return nil
}

func (s *Store) GetUser(ctx context.Context, name, domain string) (store.User, error) {
	u := store.User{Name: name, Domain: domain}
	err := s.db.QueryRowContext(ctx, `SELECT realm, ha1_md5, ha1_sha256, dnd, forward_to, forward_mode, max_calls FROM users WHERE name = ? AND domain = ?`, name, domain).
		Scan(&u.Realm, &u.HA1MD5, &u.HA1SHA256, &u.DND, &u.ForwardTo, &u.ForwardMode, &u.MaxCalls)
	if errors.Is(err, sql.ErrNoRows) {
		return store.User{}, store.ErrNotFound
	}
	if err != nil {
		return store.User{}, fmt.Errorf("get user %s@%s: %w", name, domain, err)
	}
	return u, nil
}

func (s *Store) PutUser(ctx context.Context, u store.User) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO users (name, domain, realm, ha1_md5, ha1_sha256, dnd, forward_to, forward_mode, max_calls) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (name, domain) DO UPDATE SET realm = excluded.realm, ha1_md5 = excluded.ha1_md5, ha1_sha256 = excluded.ha1_sha256,
			dnd = excluded.dnd, forward_to = excluded.forward_to, forward_mode = excluded.forward_mode, max_calls = excluded.max_calls`,
		u.Name, u.Domain, u.Realm, u.HA1MD5, u.HA1SHA256, u.DND, u.ForwardTo, u.ForwardMode, u.MaxCalls)
	if err != nil {
		return fmt.Errorf("put user %s: %w", u.AOR(), err)
	}
	return nil
}

func (s *Store) DeleteUser(ctx context.Context, name, domain string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM users WHERE name = ? AND domain = ?`, name, domain)
	if err != nil {
		return fmt.Errorf("delete user %s@%s: %w", name, domain, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (s *Store) ListUsers(ctx context.Context) ([]store.User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, domain, realm, ha1_md5, ha1_sha256, dnd, forward_to, forward_mode, max_calls FROM users ORDER BY domain, name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		var u store.User
		if err := rows.Scan(&u.Name, &u.Domain, &u.Realm, &u.HA1MD5, &u.HA1SHA256, &u.DND, &u.ForwardTo, &u.ForwardMode, &u.MaxCalls); err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func (s *Store) Bindings(ctx context.Context, aor string, now time.Time) ([]store.Binding, error) {
	return s.cache.Bindings(ctx, aor, now)
}

func (s *Store) AllBindings(ctx context.Context, now time.Time) ([]store.Binding, error) {
	return s.cache.AllBindings(ctx, now)
}

func (s *Store) Update(ctx context.Context, aor string, now time.Time, fn func([]store.Binding) ([]store.Binding, error)) ([]store.Binding, error) {
	return s.cache.UpdateThen(ctx, aor, now, fn, func(next []store.Binding) error {
		return s.writeBindings(ctx, aor, next)
	})
}

// writeBindings replaces the rows of aor, committed with the changes of other REGISTERs
// waiting at the same time (bindingWriter).
func (s *Store) writeBindings(ctx context.Context, aor string, bs []store.Binding) error {
	return s.writer.write(ctx, aor, bs)
}

func (s *Store) Expire(ctx context.Context, now time.Time) (int, error) {
	n, err := s.cache.Expire(ctx, now)
	if err != nil {
		return n, err
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM bindings WHERE expires_unix_ms <= ?`, now.UnixMilli()); err != nil {
		return n, fmt.Errorf("expire bindings: %w", err)
	}
	return n, nil
}

var (
	_ store.Users     = (*Store)(nil)
	_ store.Locations = (*Store)(nil)
)
