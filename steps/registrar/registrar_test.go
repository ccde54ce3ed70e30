package registrar_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/chain"
	"github.com/siplens/siplens/steps/registrar"
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

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	step    *registrar.Step
	loc     *memory.Locations
	domains *chain.Domains
	clock   *clock
}

// newFixture is a registrar for example.com (alias 192.0.2.1) with users alice and bob,
// the config's default expiry limits and at most 3 contacts per user.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	users := memory.NewUsers()
	for _, name := range []string{"alice", "bob"} {
		if err := users.PutUser(context.Background(), store.User{Name: name, Domain: "example.com", Realm: "example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	clk := &clock{now: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)}
	loc := memory.NewLocations()
	domains := chain.NewDomains([]string{"example.com", "192.0.2.1"})
	return &fixture{
		step: &registrar.Step{
			Domains: domains, Users: users, Locations: loc,
			MinExpires: 60, MaxExpires: 7200, DefaultExpires: 3600, MaxContacts: 3,
			Now: clk.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		},
		loc: loc, domains: domains, clock: clk,
	}
}

// sent is one REGISTER as the chain hands it to the registrar.
type sent struct {
	msg       string
	authUser  string
	source    string // default 198.51.100.7:5062
	transport string // default UDP
}

// run classifies the Request-URI as the server does and passes the request to the step.
func (f *fixture) run(t *testing.T, s sent) (*sip.Response, error) {
	t.Helper()
	req := parse(t, s.msg)
	r := &chain.Request{SIP: req, Source: s.source, Transport: s.transport, AuthUser: s.authUser, Received: f.clock.Now()}
	if r.Source == "" {
		r.Source = "198.51.100.7:5062"
	}
	if r.Transport == "" {
		r.Transport = "UDP"
	}
	if d, ok := f.domains.Canonical(req.Recipient.Host); ok {
		r.Domain, r.ToServer = d, req.Recipient.User == ""
	}
	rec := &chain.Recorder{}
	err := f.step.Handle(context.Background(), chain.NewWriter(req, rec), r)
	if err != nil && len(rec.Responses) > 0 {
		t.Errorf("the step returned %v and wrote %d responses", err, len(rec.Responses))
	}
	return rec.Last(), err
}

// reg builds Alice's REGISTER with the given Call-ID, CSeq and extra header lines
// (Contact, Expires, ...).
func reg(callID string, cseq int, lines ...string) string {
	return regFor("alice", callID, cseq, lines...)
}

func regFor(user, callID string, cseq int, lines ...string) string {
	extra := ""
	for _, l := range lines {
		extra += l + "\n"
	}
	return `
REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKnashds7
Max-Forwards: 70
From: <sip:` + user + `@example.com>;tag=456248
To: <sip:` + user + `@example.com>
Call-ID: ` + callID + `
CSeq: ` + strconv.Itoa(cseq) + ` REGISTER
User-Agent: softphone/1.0
` + extra + `Content-Length: 0

`
}

func contacts(res *sip.Response) []string {
	var out []string
	for _, h := range res.GetHeaders("Contact") {
		out = append(out, h.Value())
	}
	return out
}

func TestHandle(t *testing.T) {
	tests := []struct {
		name   string
		before []sent // each must get a 200
		req    sent
		// For a 200: the Contact values of the response, in order.
		contacts []string
		// For a rejection:
		code    int
		phrase  string
		reason  string
		headers map[string]string
	}{
		{name: "first REGISTER, default expiry",
			req:      sent{msg: reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>")},
			contacts: []string{"<sip:alice@10.0.0.1:5060>;expires=3600"}},
		{name: "Expires header",
			req:      sent{msg: reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>", "Expires: 1800")},
			contacts: []string{"<sip:alice@10.0.0.1:5060>;expires=1800"}},
		{name: "contact expires param wins over Expires header",
			req:      sent{msg: reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>;expires=600, <sip:alice@10.0.0.2:5060>", "Expires: 1800")},
			contacts: []string{"<sip:alice@10.0.0.1:5060>;expires=600", "<sip:alice@10.0.0.2:5060>;expires=1800"}},
		{name: "several contacts listed by q",
			req: sent{msg: reg("c1", 1,
				"Contact: <sip:alice@10.0.0.1:5060>;q=0.5",
				"Contact: <sip:alice@10.0.0.2:5060>",
				"Contact: <sip:alice@10.0.0.3:5060;transport=tcp>;q=0.8")},
			contacts: []string{
				"<sip:alice@10.0.0.2:5060>;expires=3600",
				"<sip:alice@10.0.0.3:5060;transport=tcp>;expires=3600;q=0.8",
				"<sip:alice@10.0.0.1:5060>;expires=3600;q=0.5",
			}},
		{name: "expires at the minimum",
			req:      sent{msg: reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>;expires=60")},
			contacts: []string{"<sip:alice@10.0.0.1:5060>;expires=60"}},
		{name: "expires below the minimum", code: 423, phrase: "Interval Too Brief", reason: "below the minimum of 60",
			req:     sent{msg: reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>", "Expires: 30")},
			headers: map[string]string{"Min-Expires": "60"}},
		{name: "contact expires below the minimum", code: 423,
			req:     sent{msg: reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>;expires=59")},
			headers: map[string]string{"Min-Expires": "60"}},
		{name: "expires above the maximum is capped",
			req:      sent{msg: reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>", "Expires: 86400")},
			contacts: []string{"<sip:alice@10.0.0.1:5060>;expires=7200"}},
		{name: "refresh from the same Call-ID",
			before:   []sent{{msg: reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>", "Expires: 600")}},
			req:      sent{msg: reg("c1", 2, "Contact: <sip:alice@10.0.0.1:5060>", "Expires: 1200")},
			contacts: []string{"<sip:alice@10.0.0.1:5060>;expires=1200"}},
		{name: "Expires: 0 removes one contact",
			before:   []sent{{msg: reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>, <sip:alice@10.0.0.2:5060>")}},
			req:      sent{msg: reg("c1", 2, "Contact: <sip:alice@10.0.0.1:5060>", "Expires: 0")},
			contacts: []string{"<sip:alice@10.0.0.2:5060>;expires=3600"}},
		{name: "expires=0 param removes one contact",
			before:   []sent{{msg: reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>, <sip:alice@10.0.0.2:5060>")}},
			req:      sent{msg: reg("c1", 2, "Contact: <sip:alice@10.0.0.2:5060>;expires=0")},
			contacts: []string{"<sip:alice@10.0.0.1:5060>;expires=3600"}},
		{name: "removing a contact that is not bound",
			before:   []sent{{msg: reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>")}},
			req:      sent{msg: reg("c1", 2, "Contact: <sip:alice@10.0.0.9:5060>", "Expires: 0")},
			contacts: []string{"<sip:alice@10.0.0.1:5060>;expires=3600"}},
		{name: "Contact: * with Expires: 0 removes all",
			before: []sent{
				{msg: reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>, <sip:alice@10.0.0.2:5060>")},
				{msg: reg("other", 7, "Contact: <sip:alice@10.0.0.3:5060>")},
			},
			req:      sent{msg: reg("c1", 2, "Contact: *", "Expires: 0")},
			contacts: nil},
		{name: "query without Contact lists the bindings",
			before:   []sent{{msg: reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>")}},
			req:      sent{msg: reg("c1", 2)},
			contacts: []string{"<sip:alice@10.0.0.1:5060>;expires=3600"}},
		{name: "different Call-ID replaces the binding, whatever its CSeq",
			before:   []sent{{msg: reg("c1", 50, "Contact: <sip:alice@10.0.0.1:5060>", "Expires: 600")}},
			req:      sent{msg: reg("c2", 1, "Contact: <sip:alice@10.0.0.1:5060>", "Expires: 1200")},
			contacts: []string{"<sip:alice@10.0.0.1:5060>;expires=1200"}},
		{name: "contacts up to the limit",
			req:      sent{msg: reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>, <sip:alice@10.0.0.2:5060>, <sip:alice@10.0.0.3:5060>")},
			contacts: []string{"<sip:alice@10.0.0.1:5060>;expires=3600", "<sip:alice@10.0.0.2:5060>;expires=3600", "<sip:alice@10.0.0.3:5060>;expires=3600"}},
		{name: "alias domain in To registers the canonical AOR",
			req:      sent{msg: strings.Replace(reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>"), "To: <sip:alice@example.com>", "To: <sip:alice@192.0.2.1>", 1)},
			contacts: []string{"<sip:alice@10.0.0.1:5060>;expires=3600"}},
		{name: "authenticated as the AOR",
			req:      sent{msg: reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>"), authUser: "alice@example.com"},
			contacts: []string{"<sip:alice@10.0.0.1:5060>;expires=3600"}},

		{name: "Contact: * with Expires: 3600", code: 400, phrase: "Bad wildcard Contact",
			req: sent{msg: reg("c1", 1, "Contact: *", "Expires: 3600")}},
		{name: "Contact: * without Expires", code: 400, phrase: "Bad wildcard Contact",
			req: sent{msg: reg("c1", 1, "Contact: *")}},
		{name: "Contact: * with another contact", code: 400, phrase: "Bad wildcard Contact",
			req: sent{msg: reg("c1", 1, "Contact: *", "Contact: <sip:alice@10.0.0.1:5060>", "Expires: 0")}},
		{name: "out-of-order CSeq, same Call-ID", code: 500, reason: "out-of-order",
			before:  []sent{{msg: reg("c1", 5, "Contact: <sip:alice@10.0.0.1:5060>")}},
			req:     sent{msg: reg("c1", 4, "Contact: <sip:alice@10.0.0.1:5060>")},
			headers: map[string]string{"Retry-After": "1"}},
		{name: "repeated CSeq, same Call-ID", code: 500, reason: "out-of-order",
			before: []sent{{msg: reg("c1", 5, "Contact: <sip:alice@10.0.0.1:5060>")}},
			req:    sent{msg: reg("c1", 5, "Contact: <sip:alice@10.0.0.1:5060>", "Expires: 0")}},
		{name: "out-of-order wildcard removal", code: 500, reason: "out-of-order",
			before:  []sent{{msg: reg("c1", 5, "Contact: <sip:alice@10.0.0.1:5060>")}},
			req:     sent{msg: reg("c1", 3, "Contact: *", "Expires: 0")},
			headers: map[string]string{"Retry-After": "1"}},
		{name: "too many contacts in one REGISTER", code: 403, reason: "above the limit of 3",
			req: sent{msg: reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>, <sip:alice@10.0.0.2:5060>, <sip:alice@10.0.0.3:5060>, <sip:alice@10.0.0.4:5060>")}},
		{name: "too many contacts with the existing ones", code: 403, reason: "would have 4 contacts",
			before: []sent{{msg: reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>, <sip:alice@10.0.0.2:5060>, <sip:alice@10.0.0.3:5060>")}},
			req:    sent{msg: reg("c2", 1, "Contact: <sip:alice@10.0.0.4:5060>")}},
		{name: "authenticated as someone else", code: 403, reason: "authenticated as bob@example.com but trying to register alice@example.com",
			req: sent{msg: reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>"), authUser: "bob@example.com"}},
		{name: "unknown user, not authenticated", code: 404, reason: "carol@example.com is not a user",
			req: sent{msg: regFor("carol", "c1", 1, "Contact: <sip:carol@10.0.0.1:5060>")}},
		{name: "Request-URI domain not served", code: 403, reason: `"example.org"`,
			req: sent{msg: strings.Replace(reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>"), "REGISTER sip:example.com", "REGISTER sip:example.org", 1)}},
		{name: "To domain not served", code: 403, reason: `the To header names "example.org"`,
			req: sent{msg: strings.Replace(reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>"), "To: <sip:alice@example.com>", "To: <sip:alice@example.org>", 1)}},
		{name: "To without user", code: 400, phrase: "Missing user in To",
			req: sent{msg: strings.Replace(reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>"), "To: <sip:alice@example.com>", "To: <sip:example.com>", 1)}},
		{name: "Expires not a number", code: 400, phrase: "Bad Expires header",
			req: sent{msg: reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>", "Expires: soon")}},
		{name: "negative Expires", code: 400, phrase: "Bad Expires header",
			req: sent{msg: reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>", "Expires: -5")}},
		{name: "contact expires not a number", code: 400, phrase: "Bad Contact expires",
			req: sent{msg: reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>;expires=soon")}},
		{name: "q above 1", code: 400, phrase: "Bad Contact q-value",
			req: sent{msg: reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>;q=2")}},
		{name: "q not a number", code: 400, phrase: "Bad Contact q-value",
			req: sent{msg: reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>;q=high")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			for i, b := range tt.before {
				if res, err := f.run(t, b); err != nil || res == nil || res.StatusCode != 200 {
					t.Fatalf("before[%d]: %v, %v", i, res, err)
				}
			}
			res, err := f.run(t, tt.req)
			if tt.code == 0 {
				if err != nil {
					t.Fatalf("want 200, got %v", err)
				}
				if res == nil || res.StatusCode != 200 {
					t.Fatalf("want 200, got %v", res)
				}
				if got := contacts(res); !slices.Equal(got, tt.contacts) {
					t.Errorf("Contact =\n %q\nwant\n %q", got, tt.contacts)
				}
				if res.GetHeader("Date") == nil {
					t.Error("200 without Date")
				}
				return
			}
			var rej *chain.Error
			if !errors.As(err, &rej) {
				t.Fatalf("want %d, got %v, response %v", tt.code, err, res)
			}
			if rej.Code != tt.code {
				t.Errorf("code = %d (%s), want %d", rej.Code, rej.Reason, tt.code)
			}
			if tt.phrase != "" && rej.StatusPhrase() != tt.phrase {
				t.Errorf("phrase = %q, want %q", rej.StatusPhrase(), tt.phrase)
			}
			if !strings.Contains(rej.Reason, tt.reason) {
				t.Errorf("reason = %q, want it to contain %q", rej.Reason, tt.reason)
			}
			for name, value := range tt.headers {
				found := false
				for _, h := range rej.Headers {
					found = found || (h.Name() == name && h.Value() == value)
				}
				if !found {
					t.Errorf("no %s: %s in %v", name, value, rej.Headers)
				}
			}
		})
	}
}

// A rejected REGISTER changes nothing.
func TestRejectionKeepsBindings(t *testing.T) {
	f := newFixture(t)
	if _, err := f.run(t, sent{msg: reg("c1", 5, "Contact: <sip:alice@10.0.0.1:5060>")}); err != nil {
		t.Fatal(err)
	}
	for _, msg := range []string{
		reg("c1", 4, "Contact: *", "Expires: 0"), // 500
		reg("c2", 1, "Contact: <sip:alice@10.0.0.2:5060>, <sip:alice@10.0.0.3:5060>, <sip:alice@10.0.0.4:5060>"), // 403
		reg("c1", 6, "Contact: <sip:alice@10.0.0.1:5060>", "Expires: 10"),                                        // 423
	} {
		if _, err := f.run(t, sent{msg: msg}); err == nil {
			t.Fatalf("REGISTER accepted:\n%s", msg)
		}
	}
	bs, _ := f.loc.Bindings(context.Background(), "alice@example.com", f.clock.Now())
	if len(bs) != 1 || bs[0].Contact != "sip:alice@10.0.0.1:5060" || bs[0].CSeq != 5 {
		t.Fatalf("bindings after rejections = %+v", bs)
	}
}

// The binding keeps where the REGISTER really came from, so that requests reach a phone
// behind NAT, and what identifies the registration.
func TestBindingRecord(t *testing.T) {
	f := newFixture(t)
	req := sent{
		msg:    reg("call-77", 9, "Contact: <sip:alice@10.0.0.1:5060;transport=tcp>;q=0.7;expires=600"),
		source: "203.0.113.50:40123", transport: "TCP",
	}
	if _, err := f.run(t, req); err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now()
	bs, err := f.loc.Bindings(context.Background(), "alice@example.com", now)
	if err != nil || len(bs) != 1 {
		t.Fatalf("bindings = %+v, %v", bs, err)
	}
	want := store.Binding{
		AOR: "alice@example.com", Contact: "sip:alice@10.0.0.1:5060;transport=tcp", Q: 0.7,
		Expires: now.Add(600 * time.Second), CallID: "call-77", CSeq: 9,
		Source: "203.0.113.50:40123", NAT: true, Transport: "TCP", UserAgent: "softphone/1.0", Updated: now,
	}
	if bs[0] != want {
		t.Errorf("binding =\n %+v\nwant\n %+v", bs[0], want)
	}
}

// Bindings expire on the registrar's clock: a query shows the time left, and an expired
// binding is gone from the store and from the next 200.
func TestBindingsExpire(t *testing.T) {
	f := newFixture(t)
	steps := []struct {
		advance time.Duration
		msg     string
		want    []string
	}{
		{0, reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>;expires=60", "Contact: <sip:alice@10.0.0.2:5060>;expires=120"),
			[]string{"<sip:alice@10.0.0.1:5060>;expires=60", "<sip:alice@10.0.0.2:5060>;expires=120"}},
		{30 * time.Second, reg("c1", 2), []string{"<sip:alice@10.0.0.1:5060>;expires=30", "<sip:alice@10.0.0.2:5060>;expires=90"}},
		{30 * time.Second, reg("c1", 3), []string{"<sip:alice@10.0.0.2:5060>;expires=60"}},
		{60 * time.Second, reg("c1", 4), nil},
		// Once expired, the same Call-ID may register again even with an old CSeq.
		{0, reg("c1", 1, "Contact: <sip:alice@10.0.0.1:5060>"), []string{"<sip:alice@10.0.0.1:5060>;expires=3600"}},
	}
	for i, s := range steps {
		f.clock.Advance(s.advance)
		res, err := f.run(t, sent{msg: s.msg})
		if err != nil || res == nil {
			t.Fatalf("step %d: %v, %v", i, res, err)
		}
		if got := contacts(res); !slices.Equal(got, s.want) {
			t.Errorf("step %d: Contact = %q, want %q", i, got, s.want)
		}
		bs, _ := f.loc.Bindings(context.Background(), "alice@example.com", f.clock.Now())
		if len(bs) != len(s.want) {
			t.Errorf("step %d: store has %d bindings, want %d", i, len(bs), len(s.want))
		}
	}
}

// Other users' bindings are untouched by a REGISTER.
func TestUsersAreSeparate(t *testing.T) {
	f := newFixture(t)
	for _, msg := range []string{
		reg("a", 1, "Contact: <sip:alice@10.0.0.1:5060>"),
		regFor("bob", "b", 1, "Contact: <sip:bob@10.0.0.2:5060>"),
		reg("a", 2, "Contact: *", "Expires: 0"),
	} {
		if _, err := f.run(t, sent{msg: msg}); err != nil {
			t.Fatal(err)
		}
	}
	all, _ := f.loc.AllBindings(context.Background(), f.clock.Now())
	if len(all) != 1 || all[0].AOR != "bob@example.com" {
		t.Fatalf("bindings = %+v, want only bob's", all)
	}
}

func TestNonRegisterPasses(t *testing.T) {
	f := newFixture(t)
	msg := strings.NewReplacer("REGISTER sip:example.com", "INVITE sip:alice@example.com", "CSeq: 1 REGISTER", "CSeq: 1 INVITE").
		Replace(reg("c1", 1, "Contact: <sip:bob@10.0.0.2:5060>"))
	res, err := f.run(t, sent{msg: msg})
	if err != nil || res != nil {
		t.Fatalf("INVITE: %v, %v; want untouched", res, err)
	}
	if all, _ := f.loc.AllBindings(context.Background(), f.clock.Now()); len(all) != 0 {
		t.Fatalf("INVITE made bindings %+v", all)
	}
}

func TestName(t *testing.T) {
	if got := (&registrar.Step{}).Name(); got != "registrar" {
		t.Fatalf("Name() = %q", got)
	}
}
