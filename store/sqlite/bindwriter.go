package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/siplens/siplens/store"
)

// bindingWriter writes binding changes to the file with group commit: each REGISTER
// still waits until its change is committed before it is answered, but the changes
// queued meanwhile share one transaction. A transaction of its own per REGISTER
// (begin, statements prepared again, commit) was half of siplens' CPU under REGISTER
// load; with this, and prepared statements, a burst of REGISTERs costs about one commit.
type bindingWriter struct {
	db       *sql.DB
	del, ins *sql.Stmt
	queue    chan bindingWrite
	stop     chan struct{}
	stopped  chan struct{}
}

type bindingWrite struct {
	aor  string
	bs   []store.Binding
	done chan error
}

// maxGroup bounds the changes committed together; gatherWindow is how long the writer
// waits for more under load (see gather).
const (
	maxGroup     = 256
	gatherWindow = time.Millisecond
)

var errWriterClosed = errors.New("the binding writer is closed")

func newBindingWriter(db *sql.DB) (*bindingWriter, error) {
	del, err := db.Prepare(`DELETE FROM bindings WHERE aor = ?`)
	if err != nil {
		return nil, fmt.Errorf("prepare binding statements: %w", err)
	}
	ins, err := db.Prepare(`INSERT INTO bindings (aor, contact, q, expires_unix_ms, call_id, cseq, source, behind_nat, transport, user_agent, updated_unix_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		del.Close()
		return nil, fmt.Errorf("prepare binding statements: %w", err)
	}
	w := &bindingWriter{db: db, del: del, ins: ins, queue: make(chan bindingWrite, maxGroup),
		stop: make(chan struct{}), stopped: make(chan struct{})}
	go w.run()
	return w, nil
}

// write replaces the rows of aor with bs and returns once they are committed. ctx bounds
// the wait for a place in the queue; once queued, the change is waited for, so that the
// caller never reports a failure for a change that then lands in the file.
func (w *bindingWriter) write(ctx context.Context, aor string, bs []store.Binding) error {
	done := make(chan error, 1)
	select {
	case w.queue <- bindingWrite{aor: aor, bs: bs, done: done}:
	case <-ctx.Done():
		return fmt.Errorf("store bindings of %s: %w", aor, ctx.Err())
	case <-w.stop:
		return fmt.Errorf("store bindings of %s: %w", aor, errWriterClosed)
	}
	return <-done
}

func (w *bindingWriter) run() {
	defer close(w.stopped)
	group := make([]bindingWrite, 0, maxGroup)
	gather := time.NewTimer(time.Hour)
	gather.Stop()
	var lastCommit time.Time
	for {
		select {
		case first := <-w.queue:
			group = append(group[:0], first)
			if time.Since(lastCommit) < gatherWindow {
				group = w.gather(group, gather)
			} else {
				group = w.drain(group)
			}
			w.commitGroup(group)
			lastCommit = time.Now()
		case <-w.stop:
			for {
				select {
				case next := <-w.queue:
					w.commitGroup([]bindingWrite{next})
				default:
					return
				}
			}
		}
	}
}

// drain adds to group the changes queued now.
func (w *bindingWriter) drain(group []bindingWrite) []bindingWrite {
	for len(group) < maxGroup {
		select {
		case next := <-w.queue:
			group = append(group, next)
		default:
			return group
		}
	}
	return group
}

// gather adds to group the changes that arrive within gatherWindow. Under load one
// commit per change dominated: at 5,000 REGISTER/s the writer was idle between changes,
// so each came alone, and commits (writing the changed pages to the WAL) plus the
// statements of each change took about a third of siplens' CPU. Waiting a millisecond
// when the last commit was less than a millisecond ago lets a burst share its commit; a
// REGISTER now and then is committed at once.
func (w *bindingWriter) gather(group []bindingWrite, t *time.Timer) []bindingWrite {
	t.Reset(gatherWindow)
	defer t.Stop()
	for len(group) < maxGroup {
		select {
		case next := <-w.queue:
			group = append(group, next)
		case <-t.C:
			return group
		}
	}
	return group
}

// commitGroup commits the group in one transaction and tells each writer. If that
// fails, each change is tried alone, so that one bad change fails only its REGISTER.
func (w *bindingWriter) commitGroup(group []bindingWrite) {
	err := w.commit(group)
	if err != nil && len(group) > 1 {
		for _, g := range group {
			g.done <- w.commit([]bindingWrite{g})
		}
		return
	}
	for _, g := range group {
		g.done <- err
	}
}

func (w *bindingWriter) commit(group []bindingWrite) error {
	tx, err := w.db.Begin()
	if err != nil {
		return fmt.Errorf("store bindings: %w", err)
	}
	defer tx.Rollback()
	del, ins := tx.Stmt(w.del), tx.Stmt(w.ins)
	for _, g := range group {
		if _, err := del.Exec(g.aor); err != nil {
			return fmt.Errorf("store bindings of %s: %w", g.aor, err)
		}
		for _, b := range g.bs {
			if _, err := ins.Exec(g.aor, b.Contact, b.Q, b.Expires.UnixMilli(), b.CallID, b.CSeq, b.Source, b.NAT,
				b.Transport, b.UserAgent, b.Updated.UnixMilli()); err != nil {
				return fmt.Errorf("store binding %s of %s: %w", b.Contact, g.aor, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store bindings: %w", err)
	}
	return nil
}

// close commits what is queued and stops the writer.
func (w *bindingWriter) close() {
	select {
	case <-w.stop:
		return
	default:
	}
	close(w.stop)
	<-w.stopped
	w.del.Close()
	w.ins.Close()
}
