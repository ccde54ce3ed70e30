package analyze_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/siplens/siplens/analyze"
	"github.com/siplens/siplens/capture"
	"github.com/siplens/siplens/trace/tracetest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the current output")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./analyze -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test ./analyze -update if the change is intended)\ngot:\n%s", path, got)
	}
}

// mixed is a small capture: calls of every kind through the proxy, one retransmitted
// INVITE, two legs of a B2BUA call, a REGISTER, and a message with no Call-ID.
func mixed() []capture.Record {
	var recs []capture.Record
	add := func(rs []capture.Record, shift time.Duration) {
		for _, r := range rs {
			r.Time = r.Time.Add(shift)
			recs = append(recs, r)
		}
	}
	add(records(relayed("answered-1", 200)), 0)
	add(records(relayed("answered-2", 200)), 100*time.Millisecond)
	add(records(relayed("busy-1", 486)), 200*time.Millisecond)
	add(records(relayed("busy-2", 486)), 300*time.Millisecond)
	add(records(answeredLocally("offline-1", 480)), 400*time.Millisecond)
	add(records(answeredLocally("unknown-1", 404)), 500*time.Millisecond)
	{
		f := newFlow("retransmitted")
		req := f.Invite(alice, "alice", "carol")
		f.After(500 * time.Millisecond).Again(req)
		res := f.After(time.Millisecond).Reply(req, 480)
		f.After(time.Millisecond).AckFailure(req, res)
		add(records(f.Call()), 600*time.Millisecond)
	}
	{
		f := newFlow("b2bua-b")
		req := f.Invite(alice, "alice", "bob", tracetest.Header("X-CID", "answered-1"))
		res := f.After(time.Millisecond).Reply(req, 486)
		f.After(time.Millisecond).AckFailure(req, res)
		add(records(f.Call()), 700*time.Millisecond)
	}
	{
		f := newFlow("register-1")
		req := f.NewRequest("REGISTER", "sip:localhost", alice, "sip:alice@localhost", "sip:alice@localhost", 1)
		f.Record(1, alice, req)
		f.After(time.Millisecond).Reply(req, 200)
		add(records(f.Call()), 800*time.Millisecond)
	}
	recs = append(recs, capture.Record{Time: t0.Add(time.Second), Transport: "UDP", Src: alice, Dst: proxy,
		Raw: []byte("OPTIONS sip:pbx SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n")})
	return recs
}

func TestSummaryGolden(t *testing.T) {
	names := map[string]string{"10.0.0.5": "pbx"}
	var calls []*analyze.Call
	an := analyze.New(analyze.Options{Names: names, OnCall: func(c *analyze.Call) { calls = append(calls, c) }})
	for _, r := range mixed() {
		an.Add(r)
	}
	an.Close()
	s := an.Summary()
	s.Finish(len(mixed()), capture.Problems{capture.NotSIP: 3})
	var b bytes.Buffer
	if err := s.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "summary.txt", b.Bytes())

	b.Reset()
	if err := s.WriteStats(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "stats.txt", b.Bytes())

	b.Reset()
	for _, c := range calls {
		if c.ID != "busy-1" && c.ID != "offline-1" && c.ID != "b2bua-b" {
			continue
		}
		if err := c.WriteText(&b); err != nil {
			t.Fatal(err)
		}
		b.WriteString("\n")
		if err := c.Ladder(names, false).WriteText(&b); err != nil {
			t.Fatal(err)
		}
		b.WriteString("\n")
	}
	golden(t, "calls.txt", b.Bytes())
}
