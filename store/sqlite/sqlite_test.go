package sqlite

import (
	"testing"

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
