package locate_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/chain"
	"github.com/siplens/siplens/steps/locate"
	"github.com/siplens/siplens/steps/sanity"
	"github.com/siplens/siplens/store"
	"github.com/siplens/siplens/store/memory"
)

func parse(t *testing.T, raw string) *sip.Request {
	t.Helper()
	raw = strings.ReplaceAll(strings.TrimLeft(raw, "\n"), "\n", "\r\n")
	msg, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatalf("parse:\n%s\nerror: %v", raw, err)
	}
	req, ok := msg.(*sip.Request)
	if !ok {
		t.Fatalf("parse: %T is not a request", msg)
	}
	return req
}

var now = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	step    *locate.Step
	domains *chain.Domains
}

// newFixture: example.com with alice (three bindings, one expired), bob (none) and carol
// (only an expired binding).
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	users := memory.NewUsers()
	for _, name := range []string{"alice", "bob", "carol"} {
		if err := users.PutUser(ctx, store.User{Name: name, Domain: "example.com", Realm: "example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	loc := memory.NewLocations()
	bind := func(aor string, bs ...store.Binding) {
		t.Helper()
		for i := range bs {
			bs[i].AOR = aor
		}
		// Stored as the registrar stores them, before the clock moves on.
		if _, err := loc.Update(ctx, aor, now.Add(-time.Hour), func([]store.Binding) ([]store.Binding, error) { return bs, nil }); err != nil {
			t.Fatal(err)
		}
	}
	bind("alice@example.com",
		store.Binding{Contact: "sip:alice@10.0.0.1:5060", Q: 0.5, Expires: now.Add(time.Hour), Source: "203.0.113.1:40001", NAT: true, Transport: "UDP"},
		store.Binding{Contact: "sip:alice@10.0.0.2:5060;transport=tcp", Q: 1, Expires: now.Add(time.Hour), Source: "203.0.113.2:40002", NAT: true, Transport: "TCP"},
		store.Binding{Contact: "sip:alice@10.0.0.3:5060", Q: 0.8, Expires: now.Add(time.Hour), Source: "203.0.113.3:40003", NAT: true, Transport: "UDP"},
		store.Binding{Contact: "sip:alice@10.0.0.4:5060", Q: 1, Expires: now.Add(-time.Second), Source: "203.0.113.4:40004", NAT: true, Transport: "UDP"},
	)
	bind("carol@example.com",
		store.Binding{Contact: "sip:carol@10.0.0.9:5060", Q: 1, Expires: now, Source: "203.0.113.9:40009", NAT: true, Transport: "UDP"},
	)
	domains := chain.NewDomains([]string{"example.com", "192.0.2.1"})
	return &fixture{
		step:    &locate.Step{Users: users, Locations: loc, Now: func() time.Time { return now }, Allow: sanity.Allow},
		domains: domains,
	}
}

// run classifies the Request-URI as the server does and passes the request to the step.
func (f *fixture) run(t *testing.T, raw string) (*chain.Request, *chain.Recorder, error) {
	t.Helper()
	req := parse(t, raw)
	r := &chain.Request{SIP: req, Source: "198.51.100.7:5060", Transport: "UDP"}
	if d, ok := f.domains.Canonical(req.Recipient.Host); ok {
		r.Domain, r.ToServer = d, req.Recipient.User == ""
	}
	rec := &chain.Recorder{}
	err := f.step.Handle(context.Background(), chain.NewWriter(req, rec), r)
	return r, rec, err
}

// request builds a request of method to uri; extra lines go before Content-Length.
func request(method, uri string, extra ...string) string {
	lines := ""
	for _, l := range extra {
		lines += l + "\n"
	}
	return method + ` ` + uri + ` SIP/2.0
Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK776asdhds
Max-Forwards: 70
From: Dave <sip:dave@example.com>;tag=1928301774
To: <` + uri + `>
Call-ID: a84b4c76e66710@pc33.example.com
CSeq: 1 ` + method + `
` + lines + `Content-Length: 0

`
}

type target struct {
	uri, dest, transport string
	q                    float64
}

func TestHandle(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		// Passing: the target set (nil: untouched).
		targets []target
		// Answered: the response.
		status  int
		headers map[string]string
		// Rejected:
		code   int
		reason string
	}{
		{name: "registered user: targets by q, sent where the REGISTERs came from",
			msg: request("INVITE", "sip:alice@example.com"),
			targets: []target{
				{"sip:alice@10.0.0.2:5060;transport=tcp", "203.0.113.2:40002", "TCP", 1},
				{"sip:alice@10.0.0.3:5060", "203.0.113.3:40003", "UDP", 0.8},
				{"sip:alice@10.0.0.1:5060", "203.0.113.1:40001", "UDP", 0.5},
			}},
		{name: "alias domain", msg: request("MESSAGE", "sip:alice@192.0.2.1"),
			targets: []target{
				{"sip:alice@10.0.0.2:5060;transport=tcp", "203.0.113.2:40002", "TCP", 1},
				{"sip:alice@10.0.0.3:5060", "203.0.113.3:40003", "UDP", 0.8},
				{"sip:alice@10.0.0.1:5060", "203.0.113.1:40001", "UDP", 0.5},
			}},
		{name: "OPTIONS to a user is routed like any request", msg: request("OPTIONS", "sip:alice@example.com"),
			targets: []target{
				{"sip:alice@10.0.0.2:5060;transport=tcp", "203.0.113.2:40002", "TCP", 1},
				{"sip:alice@10.0.0.3:5060", "203.0.113.3:40003", "UDP", 0.8},
				{"sip:alice@10.0.0.1:5060", "203.0.113.1:40001", "UDP", 0.5},
			}},
		{name: "unknown user", msg: request("INVITE", "sip:mallory@example.com"), code: 404, reason: "mallory@example.com is not a user"},
		{name: "user without bindings", msg: request("INVITE", "sip:bob@example.com"), code: 480, reason: "bob@example.com exists but has no registered contact"},
		{name: "user whose bindings expired", msg: request("INVITE", "sip:carol@example.com"), code: 480},
		{name: "foreign domain: no open relay", msg: request("INVITE", "sip:bob@example.org"), code: 403, reason: `"example.org"`},
		{name: "OPTIONS to the server", msg: request("OPTIONS", "sip:example.com"), status: 200,
			headers: map[string]string{"Allow": sanity.Allow, "Accept": "application/sdp"}},
		{name: "OPTIONS to a server address", msg: request("OPTIONS", "sip:192.0.2.1:5060"), status: 200,
			headers: map[string]string{"Allow": sanity.Allow}},
		{name: "INVITE to the server", msg: request("INVITE", "sip:example.com"), code: 404, reason: "names siplens itself"},

		{name: "in-dialog request passes untouched",
			msg: strings.Replace(request("BYE", "sip:mallory@example.org"), "To: <sip:mallory@example.org>", "To: <sip:mallory@example.org>;tag=a6c85cf", 1)},
		{name: "in-dialog INVITE to a local user passes untouched",
			msg: strings.Replace(request("INVITE", "sip:alice@example.com"), "To: <sip:alice@example.com>", "To: <sip:alice@example.com>;tag=a6c85cf", 1)},
		{name: "REGISTER passes untouched", msg: request("REGISTER", "sip:example.com")},
		{name: "ACK passes untouched", msg: request("ACK", "sip:mallory@example.org")},
		{name: "CANCEL passes untouched", msg: request("CANCEL", "sip:bob@example.com")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, rec, err := newFixture(t).run(t, tt.msg)
			if tt.code != 0 {
				var rej *chain.Error
				if !errors.As(err, &rej) || rej.Code != tt.code {
					t.Fatalf("want %d, got %v", tt.code, err)
				}
				if !strings.Contains(rej.Reason, tt.reason) {
					t.Errorf("reason = %q, want it to contain %q", rej.Reason, tt.reason)
				}
				if len(rec.Responses) != 0 || r.Targets != nil {
					t.Errorf("rejected, yet wrote %d responses and set %d targets", len(rec.Responses), len(r.Targets))
				}
				return
			}
			if err != nil {
				t.Fatalf("want no error, got %v", err)
			}
			if tt.status != 0 {
				res := rec.Last()
				if res == nil || res.StatusCode != tt.status || len(rec.Responses) != 1 {
					t.Fatalf("responses %v, want one %d", rec.Responses, tt.status)
				}
				for name, value := range tt.headers {
					if h := res.GetHeader(name); h == nil || h.Value() != value {
						t.Errorf("%s = %v, want %q", name, h, value)
					}
				}
				if r.Targets != nil {
					t.Errorf("answered, yet set targets %+v", r.Targets)
				}
				return
			}
			if len(rec.Responses) != 0 {
				t.Errorf("passing, yet wrote %v", rec.Responses)
			}
			var got []target
			for _, tg := range r.Targets {
				got = append(got, target{tg.URI.String(), tg.Destination, tg.Transport, tg.Q})
			}
			if len(got) != len(tt.targets) {
				t.Fatalf("targets =\n %+v\nwant\n %+v", got, tt.targets)
			}
			for i := range got {
				if got[i] != tt.targets[i] {
					t.Errorf("target %d = %+v, want %+v", i, got[i], tt.targets[i])
				}
			}
		})
	}
}

// Equal q-values keep the order the store returns (SliceStable).
func TestEqualQKeepsOrder(t *testing.T) {
	ctx := context.Background()
	users := memory.NewUsers()
	_ = users.PutUser(ctx, store.User{Name: "alice", Domain: "example.com"})
	loc := memory.NewLocations()
	var bs []store.Binding
	for _, host := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"} {
		bs = append(bs, store.Binding{AOR: "alice@example.com", Contact: "sip:alice@" + host, Q: 1, Expires: now.Add(time.Hour), Source: host + ":5060"})
	}
	if _, err := loc.Update(ctx, "alice@example.com", now, func([]store.Binding) ([]store.Binding, error) { return bs, nil }); err != nil {
		t.Fatal(err)
	}
	s := &locate.Step{Users: users, Locations: loc, Now: func() time.Time { return now }, Allow: sanity.Allow}
	req := parse(t, request("INVITE", "sip:alice@example.com"))
	r := &chain.Request{SIP: req, Domain: "example.com"}
	if err := s.Handle(ctx, chain.NewWriter(req, &chain.Recorder{}), r); err != nil {
		t.Fatal(err)
	}
	for i, tg := range r.Targets {
		if want := "sip:" + bs[i].Contact[len("sip:"):]; tg.URI.String() != want || tg.Destination != "" {
			t.Fatalf("target %d = %s (destination %q), want %s resolved from the Contact (store order, no NAT)", i, tg.URI.String(), tg.Destination, want)
		}
	}
}

func TestName(t *testing.T) {
	if got := (&locate.Step{}).Name(); got != "locate" {
		t.Fatalf("Name() = %q", got)
	}
}
