package trace

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go, no cgo)
)

// SQLiteSink stores calls in SQLite: one table of call summaries, for lists and filters,
// and one table of entries (messages and events) for the records themselves. The tables
// are prefixed trace_ so that they can live in the same file as users and bindings.
type SQLiteSink struct {
	db     *sql.DB
	ownsDB bool
}

const sqliteSchema = `
CREATE TABLE IF NOT EXISTS trace_calls (
	call_id TEXT PRIMARY KEY,
	first_us INTEGER NOT NULL,
	last_us INTEGER NOT NULL,
	method TEXT NOT NULL,
	from_aor TEXT NOT NULL,
	to_aor TEXT NOT NULL,
	code INTEGER NOT NULL,
	outcome TEXT NOT NULL,
	producer TEXT NOT NULL,
	reason TEXT NOT NULL,
	messages INTEGER NOT NULL,
	events INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS trace_calls_first ON trace_calls (first_us);
CREATE INDEX IF NOT EXISTS trace_calls_last ON trace_calls (last_us);
CREATE TABLE IF NOT EXISTS trace_entries (
	id INTEGER PRIMARY KEY,
	call_id TEXT NOT NULL,
	seq INTEGER NOT NULL,
	time_us INTEGER NOT NULL,
	kind INTEGER NOT NULL,      -- 1: message, 2: event
	direction INTEGER NOT NULL, -- messages: 1 in, 2 out
	transport TEXT NOT NULL,
	local_addr TEXT NOT NULL,
	remote_addr TEXT NOT NULL,
	raw BLOB,                   -- messages: the bytes as on the wire
	event TEXT                  -- events: the Event as JSON
);
CREATE INDEX IF NOT EXISTS trace_entries_call ON trace_entries (call_id, time_us, seq);
`

const (
	entryMessage = 1
	entryEvent   = 2
)

// OpenSQLite opens (creating if needed) a database file for traces. Close closes it.
func OpenSQLite(path string) (*SQLiteSink, error) {
	// WAL lets the admin API read while the writer writes; busy_timeout makes a second
	// process (the CLI) wait for the lock instead of failing.
	dsn := "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open trace database %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one connection: SQLite serialises writes anyway
	s, err := NewSQLiteSink(context.Background(), db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open trace database %s: %w", path, err)
	}
	s.ownsDB = true
	return s, nil
}

// NewSQLiteSink uses a database the caller opened (the store's file, say) and creates
// the tables if they are missing. Close then leaves the database open.
func NewSQLiteSink(ctx context.Context, db *sql.DB) (*SQLiteSink, error) {
	if _, err := db.ExecContext(ctx, sqliteSchema); err != nil {
		return nil, fmt.Errorf("create trace tables: %w", err)
	}
	return &SQLiteSink{db: db}, nil
}

// Close closes the database if OpenSQLite opened it.
func (s *SQLiteSink) Close() error {
	if !s.ownsDB {
		return nil
	}
	return s.db.Close()
}

// Write implements Sink: one transaction per batch.
func (s *SQLiteSink) Write(ctx context.Context, b Batch) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("write trace batch: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if err := s.insertEntries(ctx, tx, b); err != nil {
		return err
	}
	upsert, err := tx.PrepareContext(ctx, `INSERT INTO trace_calls
		(call_id, first_us, last_us, method, from_aor, to_aor, code, outcome, producer, reason, messages, events)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (call_id) DO UPDATE SET first_us = excluded.first_us, last_us = excluded.last_us,
			method = excluded.method, from_aor = excluded.from_aor, to_aor = excluded.to_aor,
			code = excluded.code, outcome = excluded.outcome, producer = excluded.producer,
			reason = excluded.reason, messages = excluded.messages, events = excluded.events`)
	if err != nil {
		return fmt.Errorf("write trace batch: %w", err)
	}
	defer upsert.Close()
	for _, sum := range b.Summaries {
		if _, err := upsert.ExecContext(ctx, sum.CallID, sum.First.UnixMicro(), sum.Last.UnixMicro(), sum.Method,
			sum.From, sum.To, sum.Code, string(sum.Outcome), sum.Producer, sum.Reason, sum.Messages, sum.Events); err != nil {
			return fmt.Errorf("write summary of call %q: %w", sum.CallID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit trace batch: %w", err)
	}
	return nil
}

// rowsPerInsert is how many entries one INSERT statement writes: SQLite's cost is per
// statement as much as per row, so the writer sends them in groups.
const rowsPerInsert = 32

const insertColumns = 10

func insertStatement(rows int) string {
	row := "(?" + strings.Repeat(", ?", insertColumns-1) + ")"
	return `INSERT INTO trace_entries
		(call_id, seq, time_us, kind, direction, transport, local_addr, remote_addr, raw, event)
		VALUES ` + row + strings.Repeat(", "+row, rows-1)
}

// insertEntries writes the batch's messages and events, rowsPerInsert at a time.
func (s *SQLiteSink) insertEntries(ctx context.Context, tx *sql.Tx, b Batch) error {
	args := make([]any, 0, rowsPerInsert*insertColumns)
	for i := range b.Messages {
		m := &b.Messages[i]
		args = append(args, m.CallID, int64(m.Seq), m.Time.UnixMicro(), entryMessage,
			int(m.Direction), m.Transport, m.Local, m.Remote, m.Raw, nil)
	}
	for i := range b.Events {
		ev := &b.Events[i]
		data, err := marshalEvent(ev)
		if err != nil {
			return err
		}
		args = append(args, ev.CallID, int64(ev.Seq), ev.Time.UnixMicro(), entryEvent, 0, "", "", "", nil, string(data))
	}
	var full *sql.Stmt
	for len(args) > 0 {
		rows := min(len(args)/insertColumns, rowsPerInsert)
		chunk := args[:rows*insertColumns]
		args = args[rows*insertColumns:]
		var err error
		if rows == rowsPerInsert {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, insertStatement(rowsPerInsert)); err != nil {
					return fmt.Errorf("write trace entries: %w", err)
				}
				defer full.Close()
			}
			_, err = full.ExecContext(ctx, chunk...)
		} else {
			_, err = tx.ExecContext(ctx, insertStatement(rows), chunk...)
		}
		if err != nil {
			return fmt.Errorf("write trace entries: %w", err)
		}
	}
	return nil
}

// Call implements Sink.
func (s *SQLiteSink) Call(ctx context.Context, callID string) (*Call, error) {
	var exists int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM trace_calls WHERE call_id = ?`, callID).Scan(&exists)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read call %q: %w", callID, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT seq, time_us, kind, direction, transport, local_addr, remote_addr, raw, event
		FROM trace_entries WHERE call_id = ? ORDER BY time_us, seq, id`, callID)
	if err != nil {
		return nil, fmt.Errorf("read call %q: %w", callID, err)
	}
	defer rows.Close()
	c := &Call{CallID: callID}
	for rows.Next() {
		var (
			seq, timeUS             int64
			kind, dir               int
			transport, local, remot string
			raw                     []byte
			event                   sql.NullString
		)
		if err := rows.Scan(&seq, &timeUS, &kind, &dir, &transport, &local, &remot, &raw, &event); err != nil {
			return nil, fmt.Errorf("read call %q: %w", callID, err)
		}
		at := time.UnixMicro(timeUS).UTC()
		switch kind {
		case entryMessage:
			c.Messages = append(c.Messages, Message{CallID: callID, Seq: uint64(seq), Time: at,
				Direction: Direction(dir), Transport: transport, Local: local, Remote: remot, Raw: raw})
		case entryEvent:
			var ev Event
			if err := json.Unmarshal([]byte(event.String), &ev); err != nil {
				return nil, fmt.Errorf("read an event of call %q: %w", callID, err)
			}
			ev.CallID, ev.Seq, ev.Time = callID, uint64(seq), at
			c.Events = append(c.Events, ev)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read call %q: %w", callID, err)
	}
	return c, nil
}

// Calls implements Sink.
func (s *SQLiteSink) Calls(ctx context.Context, q Query) ([]Summary, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if q.CallID != "" {
		add("call_id = ?", q.CallID)
	}
	if len(q.CallIDs) > 0 {
		add("call_id IN (?"+strings.Repeat(", ?", len(q.CallIDs)-1)+")", anys(q.CallIDs)...)
	}
	if q.Code != 0 {
		add("code = ?", q.Code)
	}
	if q.Class != 0 {
		add("code >= ? AND code < ?", q.Class*100, q.Class*100+100)
	}
	if q.Outcome != "" {
		add("outcome = ?", string(q.Outcome))
	}
	if q.Method != "" {
		add("method = ? COLLATE NOCASE", q.Method)
	}
	if !q.Since.IsZero() {
		add("first_us >= ?", q.Since.UnixMicro())
	}
	if !q.Until.IsZero() {
		add("first_us < ?", q.Until.UnixMicro())
	}
	if q.User != "" {
		if strings.Contains(q.User, "@") {
			add("(from_aor = ? COLLATE NOCASE OR to_aor = ? COLLATE NOCASE)", q.User, q.User)
		} else {
			// "bob" matches the user part of "bob@host"; LIKE's wildcards in the name are
			// escaped so that "b_b" does not match "bob".
			pattern := escapeLike(q.User) + "@%"
			add(`(from_aor LIKE ? ESCAPE '\' OR to_aor LIKE ? ESCAPE '\' OR from_aor = ? COLLATE NOCASE OR to_aor = ? COLLATE NOCASE)`,
				pattern, pattern, q.User, q.User)
		}
	}
	query := `SELECT call_id, first_us, last_us, method, from_aor, to_aor, code, outcome, producer, reason, messages, events
		FROM trace_calls`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY first_us DESC, call_id LIMIT ?"
	args = append(args, q.limit())
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list calls: %w", err)
	}
	defer rows.Close()
	var out []Summary
	for rows.Next() {
		var (
			sum         Summary
			first, last int64
			outcome     string
		)
		if err := rows.Scan(&sum.CallID, &first, &last, &sum.Method, &sum.From, &sum.To, &sum.Code, &outcome,
			&sum.Producer, &sum.Reason, &sum.Messages, &sum.Events); err != nil {
			return nil, fmt.Errorf("list calls: %w", err)
		}
		sum.First, sum.Last = time.UnixMicro(first).UTC(), time.UnixMicro(last).UTC()
		sum.Duration = sum.Last.Sub(sum.First)
		sum.Outcome = Outcome(outcome)
		out = append(out, sum)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list calls: %w", err)
	}
	return out, nil
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// Prune implements Sink.
func (s *SQLiteSink) Prune(ctx context.Context, r Retention, now time.Time) (removed int, err error) {
	if r.MaxAge <= 0 && r.MaxCalls <= 0 {
		return 0, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("prune traces: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	// The victims go into a temporary table first, so that entries and summaries are
	// deleted for exactly the same calls.
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS trace_prune (call_id TEXT PRIMARY KEY)`); err != nil {
		return 0, fmt.Errorf("prune traces: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM trace_prune`); err != nil {
		return 0, fmt.Errorf("prune traces: %w", err)
	}
	if r.MaxAge > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO trace_prune SELECT call_id FROM trace_calls WHERE last_us < ?`,
			now.Add(-r.MaxAge).UnixMicro()); err != nil {
			return 0, fmt.Errorf("prune traces by age: %w", err)
		}
	}
	if r.MaxCalls > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO trace_prune
			SELECT call_id FROM trace_calls ORDER BY last_us DESC, call_id DESC LIMIT -1 OFFSET ?`, r.MaxCalls); err != nil {
			return 0, fmt.Errorf("prune traces by count: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM trace_entries WHERE call_id IN (SELECT call_id FROM trace_prune)`); err != nil {
		return 0, fmt.Errorf("prune trace entries: %w", err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM trace_calls WHERE call_id IN (SELECT call_id FROM trace_prune)`)
	if err != nil {
		return 0, fmt.Errorf("prune trace calls: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune trace calls: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit trace pruning: %w", err)
	}
	return int(n), nil
}
