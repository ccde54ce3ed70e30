package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/siplens/siplens/ua"
)

// uaEvents collects a phone's events for assertions and prints them when a test fails.
type uaEvents struct {
	mu   sync.Mutex
	list []ua.Event
}

func (e *uaEvents) add(ev ua.Event) {
	e.mu.Lock()
	e.list = append(e.list, ev)
	e.mu.Unlock()
}

func (e *uaEvents) all() []ua.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]ua.Event(nil), e.list...)
}

func (e *uaEvents) String() string {
	var b strings.Builder
	for _, ev := range e.all() {
		b.WriteString(ev.Line())
		b.WriteByte('\n')
	}
	return b.String()
}

// uaNewPhone makes a phone for user@localhost on a free loopback port, with proxy as its
// outbound proxy ("" for none). It is closed when the test ends.
func uaNewPhone(t *testing.T, user, proxy, transport string) (*ua.Phone, *uaEvents) {
	t.Helper()
	aor, err := ua.ParseAOR(user + "@localhost")
	if err != nil {
		t.Fatal(err)
	}
	ev := &uaEvents{}
	p, err := ua.New(ua.Config{AOR: aor, Password: passwords[user], Proxy: proxy, Transport: transport,
		Listen: "127.0.0.1:0", OnEvent: ev.add, UserAgent: "siplens-test " + user})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Close()
		if t.Failed() {
			t.Logf("%s's events:\n%s", user, ev)
		}
	})
	return p, ev
}

// uaRegister registers p for ten minutes and fails the test unless the registrar accepts.
func uaRegister(t *testing.T, p *ua.Phone) *ua.RegisterResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := p.Register(ctx, 600)
	if !r.OK() {
		aor := p.AOR()
		t.Fatalf("register %s: %s (%s)", aor.String(), r.Outcome, r.Text)
	}
	return r
}

// uaAnswering makes p answer calls with b; the returned channel gets each call's result.
func uaAnswering(t *testing.T, p *ua.Phone, b ua.Behaviour, script *ua.Script) <-chan *ua.AnswerResult {
	t.Helper()
	ch := make(chan *ua.AnswerResult, 16)
	if err := p.Answer(ua.AnswerOptions{Default: b, Script: script, OnCall: func(r *ua.AnswerResult) { ch <- r }}); err != nil {
		t.Fatal(err)
	}
	return ch
}

// uaNextCall waits for the next finished incoming call.
func uaNextCall(t *testing.T, ch <-chan *ua.AnswerResult, within time.Duration) *ua.AnswerResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(within):
		t.Fatalf("no incoming call finished within %v", within)
		return nil
	}
}

// uaFlow is the list of messages of a result's events: "→ INVITE", "← 180 Ringing", ...
func uaFlow(evs []ua.Event) []string {
	var out []string
	for _, e := range evs {
		if !e.IsMessage() {
			continue
		}
		s := e.Arrow() + " "
		if e.Code != 0 {
			s += fmt.Sprintf("%d", e.Code)
			if e.Method != "INVITE" {
				s += " " + e.Method
			}
		} else {
			s += e.Method
		}
		out = append(out, s)
	}
	return out
}

// uaRequireFlow fails unless want appears in got in order (other messages may come between).
func uaRequireFlow(t *testing.T, got []string, want ...string) {
	t.Helper()
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	if i < len(want) {
		t.Fatalf("message flow %q does not contain %q in order (missing %q)", got, want, want[i])
	}
}

func uaCountFlow(got []string, what string) int {
	n := 0
	for _, g := range got {
		if g == what {
			n++
		}
	}
	return n
}

func uaHasNote(evs []ua.Event, part string) bool {
	for _, e := range evs {
		if strings.Contains(e.Text, part) {
			return true
		}
	}
	return false
}

func uaStringsReader(s string) *strings.Reader { return strings.NewReader(s) }
