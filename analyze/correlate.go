package analyze

import (
	"slices"
	"strings"
	"time"
)

// correlator ties the legs of one call across a B2BUA. A B2BUA starts a new dialog,
// with a new Call-ID, towards the callee; the legs can be matched only by what it
// copies across: an X-CID header naming the other leg's Call-ID (a common B2BUA
// habit), or the Session-ID of RFC 7989, which stays the same end to end.
//
// Keys live while any leg that carries them is in flight, and for a while after the
// last one finished (linger), so that a leg that finishes later still finds the others.
type correlator struct {
	linger time.Duration
	legs   map[string][]string // key -> Call-IDs that carry it
	ended  map[string]int      // key -> how many of those have finished
	done   map[string]time.Time
	scan   time.Time
}

func newCorrelator(linger time.Duration) *correlator {
	return &correlator{linger: linger, legs: map[string][]string{}, ended: map[string]int{}, done: map[string]time.Time{}}
}

// keys adds the correlation keys of a message of call id to have.
func (c *correlator) keys(have []string, id string, f facts) []string {
	add := func(k string) {
		if slices.Contains(have, k) {
			return
		}
		have = append(have, k)
		if !slices.Contains(c.legs[k], id) {
			c.legs[k] = append(c.legs[k], id)
		}
	}
	if f.xcid != "" {
		add("cid:" + f.xcid)
		add("cid:" + id)
	}
	for _, s := range []string{f.sessionID, f.remoteID} {
		if s != "" && s != nullSession {
			add("sid:" + s)
		}
	}
	return have
}

// finish returns the other legs that share a key with call id, and lets its keys
// linger.
func (c *correlator) finish(id string, keys []string, now time.Time) []string {
	var out []string
	// The first leg does not name the second; the second names it (X-CID).
	if legs, ok := c.legs["cid:"+id]; ok && !slices.Contains(legs, id) {
		c.legs["cid:"+id] = append(legs, id)
		if !slices.Contains(keys, "cid:"+id) {
			keys = append(keys, "cid:"+id)
		}
	}
	for _, k := range keys {
		// X-CID names the other leg outright, whether or not it is in the input.
		if other, ok := strings.CutPrefix(k, "cid:"); ok && other != id && !slices.Contains(out, other) {
			out = append(out, other)
		}
		for _, other := range c.legs[k] {
			if other != id && !slices.Contains(out, other) {
				out = append(out, other)
			}
		}
		if c.ended[k]++; c.ended[k] >= len(c.legs[k]) {
			c.done[k] = now // the last leg with this key: it may now linger and go
		}
	}
	slices.Sort(out)
	return out
}

// expire forgets keys whose calls finished long enough ago.
func (c *correlator) expire(now time.Time) {
	if now.Sub(c.scan) < time.Second {
		return
	}
	c.scan = now
	for k, t := range c.done {
		if now.Sub(t) > c.linger {
			delete(c.done, k)
			delete(c.legs, k)
			delete(c.ended, k)
		}
	}
}
