package trace

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go, no cgo)
)

// SQLiteSink stores calls in SQLite: one table of call summaries, for lists and filters,
// and one table of entry chunks for the records themselves: each batch adds one row per
// call it touches, holding that call's new messages and events in a compact binary form
// (codec.go). The tables are prefixed trace_ so that they can live in the same file as
// users and bindings.
type SQLiteSink struct {
	db     *sql.DB
	ownsDB bool

	// The writer's statements, prepared once (per connection, by database/sql) and reused
	// by every batch; and its scratch space. Write is called by one goroutine at a time
	// (Sink), mu only makes a misuse safe.
	mu      sync.Mutex
	stmts   map[stmtKey]*sql.Stmt
	groups  map[string]int
	chunks  []chunk
	args    []any
	returns map[string]int64
	packBuf []byte   // the packed chunks of the batch (packChunks)
	packed  [][]byte // one per chunk, nil for a chunk without entries
}

type stmtKey struct {
	kind byte // 'u' upsert summaries, 'c' insert chunks
	rows int
}

// chunk is what one batch adds to one call.
type chunk struct {
	callID  string
	summary int // index in Batch.Summaries, or -1
	data    []byte
	msgs    []Message // only for a call without a summary in the batch (never the tracer's)
	evs     []Event
}

const sqliteSchema = `
CREATE TABLE IF NOT EXISTS trace_calls (
	id INTEGER PRIMARY KEY,
	call_id TEXT NOT NULL UNIQUE,
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
-- No index on last_us: every batch rewrites the summaries it touches, and an index
-- there costs each of those writes; Prune scans the table once a minute instead.
DROP INDEX IF EXISTS trace_calls_last;
CREATE TABLE IF NOT EXISTS trace_chunks (
	id INTEGER PRIMARY KEY,
	call INTEGER NOT NULL, -- trace_calls.id
	data BLOB NOT NULL     -- entries in the binary form of codec.go
);
CREATE INDEX IF NOT EXISTS trace_chunks_call ON trace_chunks (call);
`

// oldSchema drops the tables of the first layout (one row per entry), which this one
// does not read: traces are diagnostics, not worth a migration.
const oldSchema = `
DROP TABLE IF EXISTS trace_entries;
DROP TABLE IF EXISTS trace_calls;
`

const (
	entryMessage = 1
	entryEvent   = 2
)

// OpenSQLite opens (creating if needed) a database file for traces. Close closes it.
func OpenSQLite(path string) (*SQLiteSink, error) {
	// WAL lets the admin API read while the writer writes; busy_timeout makes a second
	// process (the CLI) wait for the lock instead of failing. synchronous=OFF: the trace
	// file is a diagnostic store of its own, and SQLite never calls fsync for it. A crash
	// of siplens loses nothing (the WAL is in the OS's cache); a power loss or kernel crash
	// may lose the last batches written before it, which is acceptable for call records,
	// and costs nothing on every commit and checkpoint.
	dsn := "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)"
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
	var old int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'trace_entries'`).Scan(&old); err != nil {
		return nil, fmt.Errorf("create trace tables: %w", err)
	}
	if old > 0 {
		if _, err := db.ExecContext(ctx, oldSchema); err != nil {
			return nil, fmt.Errorf("drop old trace tables: %w", err)
		}
	}
	if _, err := db.ExecContext(ctx, sqliteSchema); err != nil {
		return nil, fmt.Errorf("create trace tables: %w", err)
	}
	return &SQLiteSink{db: db, stmts: map[stmtKey]*sql.Stmt{}, groups: map[string]int{}, returns: map[string]int64{}}, nil
}

// Close closes the database if OpenSQLite opened it.
func (s *SQLiteSink) Close() error {
	s.mu.Lock()
	for _, st := range s.stmts {
		st.Close()
	}
	clear(s.stmts)
	s.mu.Unlock()
	if !s.ownsDB {
		return nil
	}
	return s.db.Close()
}

// maxRows is the most rows one statement writes: SQLite's cost is per statement as much
// as per row. A batch uses statements of 64, 32, ... 1 rows, so at most 7 of each kind
// are ever prepared.
const maxRows = 64

const summaryColumns = "call_id, first_us, last_us, method, from_aor, to_aor, code, outcome, producer, reason, messages, events"

// prepare prepares the writer's statements, the first time. It must run outside a
// transaction: the database may have one connection only, which the transaction holds.
func (s *SQLiteSink) prepare(ctx context.Context) error {
	if len(s.stmts) > 0 {
		return nil
	}
	for rows := maxRows; rows >= 1; rows /= 2 {
		for _, kind := range []byte{'u', 'c'} {
			if err := s.prepareOne(ctx, stmtKey{kind, rows}); err != nil {
				return err
			}
		}
	}
	return s.prepareOne(ctx, stmtKey{'k', 1})
}

// stmt is a prepared statement in tx.
func (s *SQLiteSink) stmt(ctx context.Context, tx *sql.Tx, key stmtKey) (*sql.Stmt, error) {
	st, ok := s.stmts[key]
	if !ok {
		return nil, fmt.Errorf("statement %c%d not prepared", key.kind, key.rows)
	}
	return tx.StmtContext(ctx, st), nil
}

func (s *SQLiteSink) prepareOne(ctx context.Context, key stmtKey) error {
	{
		var q string
		switch key.kind {
		case 'u':
			row := "(?" + strings.Repeat(", ?", 11) + ")"
			q = `INSERT INTO trace_calls (` + summaryColumns + `) VALUES ` + row + strings.Repeat(", "+row, key.rows-1) + `
				ON CONFLICT (call_id) DO UPDATE SET first_us = excluded.first_us, last_us = excluded.last_us,
					method = excluded.method, from_aor = excluded.from_aor, to_aor = excluded.to_aor,
					code = excluded.code, outcome = excluded.outcome, producer = excluded.producer,
					reason = excluded.reason, messages = excluded.messages, events = excluded.events
				RETURNING id, call_id`
		case 'c':
			q = `INSERT INTO trace_chunks (call, data) VALUES (?, ?)` + strings.Repeat(", (?, ?)", key.rows-1)
		case 'k':
			// A call with entries but no summary in the batch: created with a summary of
			// what the batch holds if new, left as it is otherwise.
			q = `INSERT INTO trace_calls (` + summaryColumns + `) VALUES (?` + strings.Repeat(", ?", 11) + `)
				ON CONFLICT (call_id) DO UPDATE SET call_id = call_id RETURNING id, call_id`
		}
		st, err := s.db.PrepareContext(ctx, q)
		if err != nil {
			clear(s.stmts)
			return fmt.Errorf("prepare trace statements: %w", err)
		}
		s.stmts[key] = st
	}
	return nil
}

func summaryArgs(args []any, sum *Summary) []any {
	return append(args, sum.CallID, sum.First.UnixMicro(), sum.Last.UnixMicro(), sum.Method,
		sum.From, sum.To, sum.Code, string(sum.Outcome), sum.Producer, sum.Reason, sum.Messages, sum.Events)
}

// Write implements Sink: one transaction per batch, one summary and one chunk row per
// call.
func (s *SQLiteSink) Write(ctx context.Context, b Batch) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.reset()
	// Group the entries by call.
	for i := range b.Summaries {
		s.group(b.Summaries[i].CallID, i)
	}
	for i := range b.Messages {
		m := &b.Messages[i]
		c := s.group(m.CallID, -1)
		c.data = appendMessage(c.data, m)
		if c.summary < 0 {
			c.msgs = append(c.msgs, *m)
		}
	}
	for i := range b.Events {
		ev := &b.Events[i]
		c := s.group(ev.CallID, -1)
		c.data = appendEvent(c.data, ev)
		if c.summary < 0 {
			c.evs = append(c.evs, *ev)
		}
	}

	if err := s.prepare(ctx); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("write trace batch: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	// The summaries first: their upsert returns the id the chunks refer to.
	for rest := b.Summaries; len(rest) > 0; {
		n := rowsFor(len(rest))
		st, err := s.stmt(ctx, tx, stmtKey{'u', n})
		if err != nil {
			return fmt.Errorf("write trace summaries: %w", err)
		}
		args := s.args[:0]
		for i := range rest[:n] {
			args = summaryArgs(args, &rest[i])
		}
		s.args = args
		if err := s.returning(ctx, st, args); err != nil {
			return fmt.Errorf("write trace summaries: %w", err)
		}
		rest = rest[n:]
	}
	for i := range s.chunks {
		c := &s.chunks[i]
		if c.summary >= 0 || len(c.data) <= 1 {
			continue
		}
		sum := Summarize(&Call{CallID: c.callID, Messages: c.msgs, Events: c.evs})
		st, err := s.stmt(ctx, tx, stmtKey{'k', 1})
		if err != nil {
			return fmt.Errorf("write trace summaries: %w", err)
		}
		if err := s.returning(ctx, st, summaryArgs(s.args[:0], &sum)); err != nil {
			return fmt.Errorf("write trace summaries: %w", err)
		}
	}
	// Then one chunk per call with entries, packed.
	s.packed = s.packed[:0]
	for i := range s.chunks {
		if d := s.chunks[i].data; len(d) > 1 {
			s.packed = append(s.packed, d)
		}
	}
	s.packBuf, s.packed = packChunks(s.packBuf, s.packed)
	packed := s.packed
	rest := s.chunks
	for len(rest) > 0 {
		args := s.args[:0]
		n := 0
		for len(rest) > 0 && n < maxRows {
			c := &rest[0]
			rest = rest[1:]
			if len(c.data) <= 1 {
				continue // a summary without entries
			}
			id, ok := s.returns[c.callID]
			if !ok {
				return fmt.Errorf("write trace entries: no id for call %q", c.callID)
			}
			args = append(args, id, packed[0])
			packed = packed[1:]
			n++
		}
		s.args = args
		for len(args) > 0 {
			rows := rowsFor(len(args) / 2)
			st, err := s.stmt(ctx, tx, stmtKey{'c', rows})
			if err != nil {
				return fmt.Errorf("write trace entries: %w", err)
			}
			if _, err := st.ExecContext(ctx, args[:2*rows]...); err != nil {
				return fmt.Errorf("write trace entries: %w", err)
			}
			args = args[2*rows:]
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit trace batch: %w", err)
	}
	return nil
}

// rowsFor is the size of the statement that writes the next rows of n: the largest power
// of two up to maxRows.
func rowsFor(n int) int {
	r := maxRows
	for r > n {
		r /= 2
	}
	return r
}

// returning runs an upsert and notes the ids it returns.
func (s *SQLiteSink) returning(ctx context.Context, st *sql.Stmt, args []any) error {
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id     int64
			callID sql.RawBytes
		)
		if err := rows.Scan(&id, &callID); err != nil {
			return err
		}
		if g, ok := s.groups[string(callID)]; ok {
			s.returns[s.chunks[g].callID] = id
		}
	}
	return rows.Err()
}

// group returns the chunk of a call in the batch being written.
func (s *SQLiteSink) group(callID string, summary int) *chunk {
	if g, ok := s.groups[callID]; ok {
		return &s.chunks[g]
	}
	s.groups[callID] = len(s.chunks)
	if len(s.chunks) < cap(s.chunks) {
		s.chunks = s.chunks[:len(s.chunks)+1]
	} else {
		s.chunks = append(s.chunks, chunk{})
	}
	c := &s.chunks[len(s.chunks)-1]
	c.callID, c.summary = callID, summary
	c.data = append(c.data[:0], chunkVersion)
	c.msgs, c.evs = c.msgs[:0], c.evs[:0]
	return c
}

// reset forgets the batch, keeping the memory for the next one (but not big buffers
// a batch of huge messages left behind).
func (s *SQLiteSink) reset() {
	for i := range s.chunks {
		c := &s.chunks[i]
		c.callID = ""
		if cap(c.data) > 64<<10 {
			c.data = nil
		}
		clear(c.msgs)
		clear(c.evs)
	}
	s.chunks = s.chunks[:0]
	clear(s.groups)
	clear(s.returns)
	clear(s.args)
	s.args = s.args[:0]
	clear(s.packed)
	s.packed = s.packed[:0]
	if cap(s.packBuf) > 4<<20 {
		s.packBuf = nil
	}
}

// Call implements Sink.
func (s *SQLiteSink) Call(ctx context.Context, callID string) (*Call, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT id FROM trace_calls WHERE call_id = ?`, callID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read call %q: %w", callID, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT data FROM trace_chunks WHERE call = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("read call %q: %w", callID, err)
	}
	defer rows.Close()
	c := &Call{CallID: callID}
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("read call %q: %w", callID, err)
		}
		if err := decodeChunk(c, data); err != nil {
			return nil, fmt.Errorf("read call %q: %w", callID, err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read call %q: %w", callID, err)
	}
	// Chunks are read in the order they were written, and the sort is stable: entries
	// with the same time and Seq (from before and after a restart) stay in that order.
	c.Sort()
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
		// One parameter whatever the number of Call-IDs: the statement text stays the same.
		ids, err := json.Marshal(q.CallIDs)
		if err != nil {
			return nil, fmt.Errorf("list calls: %w", err)
		}
		add("call_id IN (SELECT value FROM json_each(?))", string(ids))
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

// CountCalls returns the number of calls stored (the metrics' siplens_trace_store_calls).
func (s *SQLiteSink) CountCalls(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM trace_calls`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count trace calls: %w", err)
	}
	return n, nil
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
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS trace_prune_ids (id INTEGER PRIMARY KEY)`); err != nil {
		return 0, fmt.Errorf("prune traces: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM trace_prune_ids`); err != nil {
		return 0, fmt.Errorf("prune traces: %w", err)
	}
	if r.MaxAge > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO trace_prune_ids SELECT id FROM trace_calls WHERE last_us < ?`,
			now.Add(-r.MaxAge).UnixMicro()); err != nil {
			return 0, fmt.Errorf("prune traces by age: %w", err)
		}
	}
	if r.MaxCalls > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO trace_prune_ids
			SELECT id FROM trace_calls ORDER BY id DESC LIMIT -1 OFFSET ?`, r.MaxCalls); err != nil {
			return 0, fmt.Errorf("prune traces by count: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM trace_chunks WHERE call IN (SELECT id FROM trace_prune_ids)`); err != nil {
		return 0, fmt.Errorf("prune trace entries: %w", err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM trace_calls WHERE id IN (SELECT id FROM trace_prune_ids)`)
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
