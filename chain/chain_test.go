package chain

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func request(t *testing.T) *sip.Request {
	t.Helper()
	raw := "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
	msg, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return msg.(*sip.Request)
}

type stepFunc struct {
	name string
	fn   func(ResponseWriter, *Request) error
}

func (s stepFunc) Name() string { return s.name }
func (s stepFunc) Handle(_ context.Context, w ResponseWriter, r *Request) error {
	return s.fn(w, r)
}

// TestPanicBecomesError: a panicking step does not take the caller down; the chain returns
// a PanicError naming the step (the server answers 500).
func TestPanicBecomesError(t *testing.T) {
	c := New(stepFunc{"boom", func(ResponseWriter, *Request) error { panic("nil map") }})
	req := request(t)
	err := c.Serve(context.Background(), NewWriter(req, &Recorder{}), &Request{SIP: req})
	var p *PanicError
	if !errors.As(err, &p) || p.Step != "boom" || !strings.Contains(string(p.Stack), "chain_test.go") {
		t.Fatalf("got %v, want a PanicError from step boom with its stack", err)
	}
}

// TestChainStopsAtFinalAndNamesTheStep: the first final answer ends the chain; a rejection
// carries the step that made it.
func TestChainStopsAtFinalAndNamesTheStep(t *testing.T) {
	ran := []string{}
	step := func(name string, fn func(ResponseWriter, *Request) error) Step {
		return stepFunc{name, func(w ResponseWriter, r *Request) error { ran = append(ran, name); return fn(w, r) }}
	}
	pass := func(ResponseWriter, *Request) error { return nil }
	answer := func(w ResponseWriter, _ *Request) error { return w.Reply(200, "") }
	reject := func(ResponseWriter, *Request) error { return Reject(480, "nobody home") }

	req := request(t)
	rec := &Recorder{}
	if err := New(step("a", pass), step("b", answer), step("c", pass)).Serve(context.Background(), NewWriter(req, rec), &Request{SIP: req}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(ran, ",") != "a,b" || rec.Last().StatusCode != 200 {
		t.Fatalf("ran %v, last response %v", ran, rec.Last())
	}
	ran = nil
	err := New(step("a", pass), step("b", reject), step("c", pass)).Serve(context.Background(), NewWriter(req, &Recorder{}), &Request{SIP: req})
	var rej *Error
	if !errors.As(err, &rej) || rej.Step != "b" || rej.Code != 480 || strings.Join(ran, ",") != "a,b" {
		t.Fatalf("got %v, ran %v", err, ran)
	}
}

// TestOneToTagPerRequest: every local response to one request carries the same To-tag
// (RFC 3261 8.2.6.2), which sipgo alone would draw anew each time; 100 Trying has none.
func TestOneToTagPerRequest(t *testing.T) {
	req := request(t)
	rec := &Recorder{}
	w := NewWriter(req, rec)
	for _, code := range []int{100, 180, 486} {
		if err := w.Reply(code, ""); err != nil {
			t.Fatal(err)
		}
	}
	tag := func(i int) string { v, _ := rec.Responses[i].To().Params.Get("tag"); return v }
	if tag(0) != "" {
		t.Errorf("100 Trying carries a To-tag %q", tag(0))
	}
	if tag(1) == "" || tag(1) != tag(2) {
		t.Fatalf("180 has tag %q and 486 has %q: want one shared tag", tag(1), tag(2))
	}
	if !w.Final() || w.Status() != 486 {
		t.Fatalf("writer state: final %v status %d", w.Final(), w.Status())
	}
}
