// Command gen writes a pcap of many SIP calls through one proxy, for the benchmark of
// `siplens analyze` against `tshark -z sip,stat` (bench/analyze/run).
//
// Calls start every -every of capture time and overlap; their outcomes mix answered
// calls (with BYE), a callee's 486, the proxy's own 404 and 480, a caller's CANCEL
// (487) and some retransmitted INVITEs, in fixed proportions, so that runs compare.
//
//	go run ./bench/analyze/gen -calls 100000 -o calls.pcap
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/siplens/siplens/capture"
	"github.com/siplens/siplens/trace"
	"github.com/siplens/siplens/trace/tracetest"
)

const (
	proxy = "10.0.0.5:5060"
)

func main() {
	calls := flag.Int("calls", 100000, "number of calls")
	out := flag.String("o", "calls.pcap", "output file")
	every := flag.Duration("every", 10*time.Millisecond, "capture time between call starts")
	flag.Parse()
	if err := run(*calls, *out, *every); err != nil {
		log.Fatal(err)
	}
}

func run(n int, path string, every time.Duration) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	w, err := capture.NewWriter(bw)
	if err != nil {
		return err
	}
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	// Calls overlap: messages are put in time order through a window of pending ones.
	var pending []trace.Message
	flushBefore := func(t time.Time) error {
		sortMessages(pending)
		i := 0
		for ; i < len(pending) && pending[i].Time.Before(t); i++ {
			if err := w.WriteMessage(&pending[i]); err != nil {
				return err
			}
		}
		pending = append(pending[:0], pending[i:]...)
		return nil
	}
	messages := 0
	for i := range n {
		at := start.Add(time.Duration(i) * every)
		c := call(i, at)
		messages += len(c.Messages)
		pending = append(pending, c.Messages...)
		if i%64 == 0 {
			// No call lasts longer than 10 s: everything before at-10s is final.
			if err := flushBefore(at.Add(-10 * time.Second)); err != nil {
				return err
			}
		}
	}
	if err := flushBefore(start.Add(time.Duration(n)*every + time.Hour)); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s: %d calls, %d SIP messages\n", path, n, messages)
	return nil
}

func sortMessages(ms []trace.Message) {
	c := trace.Call{Messages: ms}
	c.Sort()
}

// call builds call i, starting at at, as the proxy's record of it.
func call(i int, at time.Time) *trace.Call {
	id := fmt.Sprintf("bench-%d@10.0.0.1", i)
	f := tracetest.New(id, at)
	f.Self = proxy
	caller := fmt.Sprintf("10.0.1.%d:5060", 1+i%200)
	callee := fmt.Sprintf("10.0.2.%d:5060", 1+i%200)
	target := "sip:bob@" + callee
	req := f.Invite(caller, fmt.Sprintf("u%d", i%1000), "bob")
	if i%17 == 0 {
		f.After(500 * time.Millisecond).Again(req) // the caller retransmits
	}
	f.After(time.Millisecond).Reply(req, 100)
	switch k := i % 20; {
	case k < 14: // answered
		out := f.After(time.Millisecond).Forward(req, target, callee)
		f.After(5*time.Millisecond).Reply(out, 100)
		ring := f.After(20*time.Millisecond).Reply(out, 180)
		f.Relay(ring, req)
		ok := f.After(2*time.Second).Reply(out, 200, tracetest.SDP(tracetest.Offer("10.0.2.9", 40000)))
		f.Relay(ok, req)
		f.After(10*time.Millisecond).InDialog(trace.In, caller, "ACK", caller, req, ok, 1)
		f.InDialog(trace.Out, callee, "ACK", proxy, req, ok, 1)
		bye := f.After(3*time.Second).InDialog(trace.In, caller, "BYE", caller, req, ok, 2)
		fwd := f.After(time.Millisecond).InDialog(trace.Out, callee, "BYE", proxy, req, ok, 2)
		f.After(5*time.Millisecond).Reply(fwd, 200)
		f.Reply(bye, 200)
	case k < 16: // busy
		out := f.After(time.Millisecond).Forward(req, target, callee)
		res := f.After(time.Second).Reply(out, 486)
		f.AckFailure(out, res)
		f.Relay(res, req)
		f.After(5*time.Millisecond).AckFailure(req, res)
	case k < 17: // not found, by the proxy
		res := f.Reply(req, 404)
		f.After(5*time.Millisecond).AckFailure(req, res)
	case k < 18: // no registered phone
		res := f.Reply(req, 480)
		f.After(5*time.Millisecond).AckFailure(req, res)
	default: // the caller gives up
		out := f.After(time.Millisecond).Forward(req, target, callee)
		ring := f.After(20*time.Millisecond).Reply(out, 180)
		f.Relay(ring, req)
		cancel := f.After(4 * time.Second).Cancel(req)
		f.Reply(cancel, 200)
		bc := f.CancelBranch(out)
		f.After(5*time.Millisecond).Reply(bc, 200)
		res := f.Reply(out, 487)
		f.AckFailure(out, res)
		f.Relay(res, req)
		f.After(5*time.Millisecond).AckFailure(req, res)
	}
	return f.Call()
}
