package trace

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// ErrNotFound is returned for a call a sink does not hold.
var ErrNotFound = errors.New("trace: call not found")

// Sink stores call records. The Tracer's writer is the only caller of Write and Prune,
// one call at a time; Call and Calls may be called concurrently with them (the admin API
// reads while the server records).
type Sink interface {
	// Write stores a batch: new messages and events, appended to their calls, and the
	// current summaries of the calls they belong to, replacing the stored ones. The
	// Tracer reuses the batch's slices once Write returns: a sink keeps copies of the
	// Message, Event and Summary values (it may keep the Raw bytes), never the slices.
	Write(ctx context.Context, b Batch) error
	// Call returns everything stored for one call, sorted, or ErrNotFound.
	Call(ctx context.Context, callID string) (*Call, error)
	// Calls lists the summaries that match q, the most recent first.
	Calls(ctx context.Context, q Query) ([]Summary, error)
	// Prune removes whole calls beyond the retention and says how many it removed.
	Prune(ctx context.Context, r Retention, now time.Time) (int, error)
}

// Batch is what the writer hands to a sink at once.
type Batch struct {
	Messages  []Message
	Events    []Event
	Summaries []Summary
}

// Len is the number of entries (messages and events) in the batch.
func (b *Batch) Len() int { return len(b.Messages) + len(b.Events) }

// Retention bounds what a sink keeps. A zero field means no bound of that kind.
type Retention struct {
	// MaxCalls keeps at most this many calls: those first recorded earliest go first.
	MaxCalls int
	// MaxAge removes calls whose last activity is older than this.
	MaxAge time.Duration
}

// Query filters a list of calls. Zero fields match everything.
type Query struct {
	CallID string
	// CallIDs matches any of these Call-IDs.
	CallIDs []string
	// Code matches the final code exactly; Class its first digit (4 for 4xx).
	Code  int
	Class int
	// User matches From or To: "bob" matches "bob@example.com", and "bob@example.com"
	// matches exactly.
	User string
	// Since and Until bound the time of the call's first entry (Until excluded).
	Since, Until time.Time
	Outcome      Outcome
	Method       string
	// Limit caps the number of results; 0 means DefaultLimit.
	Limit int
}

// DefaultLimit is the number of calls a query returns when it sets no limit.
const DefaultLimit = 100

func (q Query) limit() int {
	if q.Limit <= 0 {
		return DefaultLimit
	}
	return q.Limit
}

// Match reports whether a summary passes the filter; sinks without a query language use
// it, and the SQLite sink's SQL says the same.
func (q Query) Match(s Summary) bool {
	switch {
	case q.CallID != "" && s.CallID != q.CallID,
		len(q.CallIDs) > 0 && !slices.Contains(q.CallIDs, s.CallID),
		q.Code != 0 && s.Code != q.Code,
		q.Class != 0 && s.Code/100 != q.Class,
		q.Outcome != "" && s.Outcome != q.Outcome,
		q.Method != "" && !strings.EqualFold(s.Method, q.Method),
		!q.Since.IsZero() && s.First.Before(q.Since),
		!q.Until.IsZero() && !s.First.Before(q.Until),
		q.User != "" && !userMatches(s.From, q.User) && !userMatches(s.To, q.User):
		return false
	}
	return true
}

func userMatches(aor, user string) bool {
	if strings.Contains(user, "@") {
		return strings.EqualFold(aor, user)
	}
	name, _, _ := strings.Cut(aor, "@")
	return strings.EqualFold(name, user)
}
