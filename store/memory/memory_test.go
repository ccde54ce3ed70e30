package memory

import (
	"testing"

	"github.com/siplens/siplens/store"
	"github.com/siplens/siplens/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, reopen bool) (store.Users, store.Locations) {
		return NewUsers(), NewLocations()
	}, false)
}
