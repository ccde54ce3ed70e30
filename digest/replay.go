package digest

import "sync"

// DefaultMaxTrackedNonces bounds the replay table when Options leaves it 0.
// An entry costs about 40 bytes of map space, so this is ~40 MiB at most.
const DefaultMaxTrackedNonces = 1 << 20

// replayShards spreads lock contention; REGISTER storms from many user
// agents hit different nonces, hence different shards. Power of two.
const replayShards = 64

// replayVerdict is what the table says about a (nonce, nc) pair.
type replayVerdict uint8

const (
	ncFresh     replayVerdict = iota // nc above everything seen: recorded
	ncReplay                         // nc <= highest seen for this nonce
	ncForgotten                      // nonce evicted under memory pressure
)

// replayTable remembers, per nonce, the highest nonce-count accepted, so
// that a captured request cannot be replayed (RFC 7616 §3.4: the nc "allows
// the server to detect request replays"; §5.10 on replay attacks).
//
// Only nonces whose response has been verified are recorded, so entries
// come from authenticated users, and each entry lives at most one nonce
// lifetime plus one sweep interval: shards are swept lazily, on use, when
// their sweep deadline has passed. A per-shard cap bounds memory even under
// an authenticated flood: when a shard is full, its older half is dropped
// and the shard's floor raised, and any nonce issued at or before the floor
// that is not in the table is reported as forgotten (the caller answers
// stale=true) rather than as fresh, so eviction never opens a replay window.
type replayTable struct {
	lifetime    int64 // ns
	maxPerShard int
	shards      [replayShards]replayShard
}

type replayShard struct {
	mu        sync.Mutex
	m         map[nonceID]replayEntry
	nextSweep int64    // Unix ns
	floor     int64    // Unix ns; see replayTable
	_         [64]byte // keep neighbouring shards' locks off one cache line
}

type replayEntry struct {
	issued int64 // Unix ns, from the nonce
	nc     uint32
}

func newReplayTable(lifetime int64, maxEntries int) *replayTable {
	t := &replayTable{lifetime: lifetime, maxPerShard: max(1, maxEntries/replayShards)}
	for i := range t.shards {
		t.shards[i].m = make(map[nonceID]replayEntry)
		t.shards[i].floor = -1 << 63
	}
	return t
}

// observe records nc for nonce id (issued at issued) if it is higher than
// every nc accepted so far for that nonce. Check and update happen under
// one lock, so of two concurrent requests with the same nc exactly one
// wins.
func (t *replayTable) observe(id nonceID, issued int64, nc uint32, now int64) replayVerdict {
	// The random half of the id is uniformly distributed; use it to pick the
	// shard.
	sh := &t.shards[id[nonceTSLen]&(replayShards-1)]
	sh.mu.Lock()
	defer sh.mu.Unlock()

	if now >= sh.nextSweep {
		sh.sweep(now - t.lifetime)
		// Sweeping every half lifetime keeps expired entries at most 1.5
		// lifetimes old while costing O(1) amortized per request.
		sh.nextSweep = now + max(t.lifetime/2, 1)
	}
	if e, ok := sh.m[id]; ok {
		if nc <= e.nc {
			return ncReplay
		}
		e.nc = nc
		sh.m[id] = e
		return ncFresh
	}
	if issued <= sh.floor {
		return ncForgotten
	}
	if len(sh.m) >= t.maxPerShard {
		sh.sweep(now - t.lifetime)
		if len(sh.m) >= t.maxPerShard {
			sh.evictOlderHalf()
			if issued <= sh.floor {
				return ncForgotten
			}
		}
	}
	sh.m[id] = replayEntry{issued: issued, nc: nc}
	return ncFresh
}

// sweep deletes entries of nonces issued at or before cutoff, i.e. expired.
func (sh *replayShard) sweep(cutoff int64) {
	for id, e := range sh.m {
		if e.issued <= cutoff {
			delete(sh.m, id)
		}
	}
}

// evictOlderHalf drops the entries issued at or before the midpoint of the
// shard's issue times and raises the floor to that midpoint. Two linear
// passes per eviction of about half the shard: O(1) amortized.
func (sh *replayShard) evictOlderHalf() {
	lo, hi := int64(1<<63-1), int64(-1<<63)
	for _, e := range sh.m {
		lo, hi = min(lo, e.issued), max(hi, e.issued)
	}
	cutoff := lo + (hi-lo)/2
	sh.sweep(cutoff)
	sh.floor = max(sh.floor, cutoff)
}

// len returns the number of tracked nonces (tests).
func (t *replayTable) len() int {
	n := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}
