package capture_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/siplens/siplens/capture"
)

// benchCapture is a pcap of n proxied calls (UDP or TCP), built once per benchmark.
func benchCapture(b *testing.B, n int, transport string) ([]byte, int) {
	b.Helper()
	var buf bytes.Buffer
	w, err := capture.NewWriter(&buf)
	if err != nil {
		b.Fatal(err)
	}
	msgs := 0
	for i := range n {
		c := proxied(fmt.Sprintf("bench-%d", i), transport, "10.0.0.5:5060", fmt.Sprintf("10.0.1.%d:5060", 1+i%200), fmt.Sprintf("10.0.2.%d:5060", 1+i%200))
		shift := time.Duration(i) * 4 * time.Second
		for j := range c.Messages {
			m := c.Messages[j]
			m.Time = m.Time.Add(shift)
			if err := w.WriteMessage(&m); err != nil {
				b.Fatal(err)
			}
			msgs++
		}
	}
	return buf.Bytes(), msgs
}

// BenchmarkReader: frames to SIP records, the whole reading path (pcap reader, link
// and IP decoding, UDP or TCP reassembly, Call-ID).
func BenchmarkReader(b *testing.B) {
	for _, transport := range []string{"UDP", "TCP"} {
		b.Run(transport, func(b *testing.B) {
			file, msgs := benchCapture(b, 2000, transport)
			b.SetBytes(int64(len(file)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				rd, err := capture.NewReader(bytes.NewReader(file))
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for {
					_, err := rd.Next()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != msgs {
					b.Fatalf("read %d messages, wrote %d", n, msgs)
				}
			}
			b.ReportMetric(float64(msgs)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
