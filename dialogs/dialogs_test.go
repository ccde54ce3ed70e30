package dialogs

import (
	"testing"
	"time"
)

func TestTable(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	tab := New(time.Hour)
	tab.Start("bob@x", "c1", t0)
	tab.Start("bob@x", "c2", t0)
	tab.Start("carol@x", "c3", t0)
	if n := tab.Count("bob@x", t0); n != 2 {
		t.Fatalf("bob in %d calls, want 2", n)
	}
	tab.End("c1")
	tab.End("c1") // twice is harmless
	tab.End("unknown")
	if n := tab.Count("bob@x", t0); n != 1 {
		t.Fatalf("after one BYE: %d, want 1", n)
	}
	if n := tab.Count("bob@x", t0.Add(2*time.Hour)); n != 0 {
		t.Fatalf("a call older than MaxAge still counts: %d", n)
	}
	if n := tab.Count("carol@x", t0); n != 1 {
		t.Fatalf("carol: %d", n)
	}
	if n := tab.Total(t0); n != 1 {
		t.Fatalf("total: %d, want 1 (carol's)", n)
	}
	if n := tab.Total(t0.Add(2 * time.Hour)); n != 0 || len(tab.byUser) != 0 {
		t.Fatalf("total after MaxAge: %d, users %v", n, tab.byUser)
	}
}
