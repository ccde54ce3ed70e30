package memory

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/siplens/siplens/store"
)

// BenchmarkLocationLookup: the bindings of one user among 100,000 registered ones.
func BenchmarkLocationLookup(b *testing.B) {
	ctx := context.Background()
	now := time.Now()
	loc := NewLocations()
	for i := 0; i < 100_000; i++ {
		aor := fmt.Sprintf("user%d@example.com", i)
		loc.Load([]store.Binding{{AOR: aor, Contact: "sip:" + aor, Q: 1, Expires: now.Add(time.Hour), Source: "192.0.2.1:5060", Transport: "UDP"}})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bs, err := loc.Bindings(ctx, "user4242@example.com", now)
		if err != nil || len(bs) != 1 {
			b.Fatal(bs, err)
		}
	}
}
