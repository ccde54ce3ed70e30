package e2e

import (
	"os"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TestMain shortens SIP's T1 for this test binary, before any sipgo goroutine runs (sipgo's
// timers are process-wide and read unsynchronised): Timer B, which ends an INVITE nobody
// answers at all, is 64*T1 = 6.4 s here instead of 32 s, so that case can be tested on
// real traffic in reasonable time. Loopback loses nothing, so the faster retransmissions
// change no other outcome.
func TestMain(m *testing.M) {
	sip.SetTimers(100*time.Millisecond, 4*time.Second, 5*time.Second)
	os.Exit(m.Run())
}
