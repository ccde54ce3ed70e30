package analyze_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/siplens/siplens/analyze"
	"github.com/siplens/siplens/capture"
	"github.com/siplens/siplens/trace"
)

// FuzzAnalyze: whatever messages a capture holds, the analysis finishes every call
// without panicking. The input is messages separated by "\x00", sent back and forth
// between two hosts.
func FuzzAnalyze(f *testing.F) {
	for _, r := range records(relayed("fz", 486)) {
		f.Add(r.Raw)
	}
	var all [][]byte
	for _, r := range records(relayed("fz2", 200)) {
		all = append(all, r.Raw)
	}
	f.Add(bytes.Join(all, []byte{0}))
	f.Fuzz(func(t *testing.T, b []byte) {
		an := analyze.New(analyze.Options{Quiet: time.Second, OnCall: func(c *analyze.Call) {
			_ = c.Ladder(nil, true)
			_ = c.ProducerText()
		}})
		for i, raw := range bytes.Split(b, []byte{0}) {
			src, dst := alice, proxy
			if i%2 == 1 {
				src, dst = dst, src
			}
			an.Add(capture.Record{Time: t0.Add(time.Duration(i) * time.Second), Transport: "UDP", Src: src, Dst: dst, Raw: raw, CallID: trace.CallIDOf(raw)})
		}
		an.Close()
	})
}
