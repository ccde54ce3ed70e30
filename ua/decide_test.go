package ua

import (
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// response builds a final response with extra header lines ("Name: value").
func response(code int, headers ...string) *sip.Response {
	res := sip.NewResponse(code, "")
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		value = strings.TrimSpace(value)
		if strings.EqualFold(name, "Contact") {
			for _, v := range strings.Split(value, ",") {
				var c sip.ContactHeader
				c.Params = sip.NewParams()
				if _, err := sip.ParseAddressValue(strings.TrimSpace(v), &c.Address, &c.Params); err != nil {
					panic(err)
				}
				res.AppendHeader(&c)
			}
			continue
		}
		res.AppendHeader(sip.NewHeader(name, value))
	}
	return res
}

func TestDecide(t *testing.T) {
	fresh := func() *attempt {
		return &attempt{maxRedirects: 2, maxRetryAfter: 10 * time.Second, tried: map[string]bool{"sip:bob@a.example:5060;": true}}
	}
	for _, c := range []struct {
		name    string
		res     *sip.Response
		edit    func(*attempt)
		act     action
		why     string
		wait    time.Duration
		targets string
	}{
		{name: "200", res: response(200), act: actAnswered},
		{name: "202 is a 2xx too", res: response(202), act: actAnswered},
		{name: "401", res: response(401, `WWW-Authenticate: Digest realm="x", nonce="n"`), act: actAuth},
		{name: "407", res: response(407, `Proxy-Authenticate: Digest realm="x", nonce="n"`), act: actAuth},
		{name: "302 one contact", res: response(302, "Contact: <sip:bob@b.example>"), act: actRedirect, targets: "sip:bob@b.example"},
		{name: "301 in q order", res: response(301, "Contact: <sip:bob@b.example>;q=0.1, <sip:bob@c.example>;q=0.7, <sip:bob@d.example>"),
			act: actRedirect, targets: "sip:bob@d.example sip:bob@c.example sip:bob@b.example"},
		{name: "302 skips what was tried", res: response(302, "Contact: <sip:bob@a.example>, <sip:bob@b.example:5070>"), act: actRedirect, targets: "sip:bob@b.example:5070"},
		{name: "302 loop", res: response(302, "Contact: <sip:bob@a.example:5060>"), act: actGiveUp, why: "redirect loop"},
		{name: "302 without Contact", res: response(302), act: actGiveUp, why: "no Contact"},
		{name: "302 with only a tel: Contact", res: response(302, "Contact: <tel:+15551234>"), act: actGiveUp, why: "no Contact"},
		{name: "302 over the hop limit", res: response(302, "Contact: <sip:bob@b.example>"), edit: func(a *attempt) { a.redirects = 2 },
			act: actGiveUp, why: "limit of 2 redirects"},
		{name: "305 is not followed", res: response(305, "Contact: <sip:proxy.example>"), act: actGiveUp},
		{name: "503 Retry-After 1", res: response(503, "Retry-After: 1"), act: actRetryAfter, wait: time.Second},
		{name: "503 Retry-After with comment and duration", res: response(503, "Retry-After: 5 (maintenance);duration=60"), act: actRetryAfter, wait: 5 * time.Second},
		{name: "503 Retry-After over the limit", res: response(503, "Retry-After: 30"), act: actGiveUp, why: "longer than the limit"},
		{name: "503 twice", res: response(503, "Retry-After: 1"), edit: func(a *attempt) { a.retriedAfter = true }, act: actGiveUp, why: "503 again"},
		{name: "503 without Retry-After", res: response(503), act: actGiveUp},
		{name: "503 garbage Retry-After", res: response(503, "Retry-After: soon"), act: actGiveUp},
		{name: "486", res: response(486), act: actGiveUp},
		{name: "486 with redirect targets left", res: response(486), edit: func(a *attempt) { a.pending = 1 }, act: actNextTarget},
		{name: "603 ends the search", res: response(603), edit: func(a *attempt) { a.pending = 1 }, act: actGiveUp, why: "global failure"},
		{name: "480 with Retry-After is not retried", res: response(480, "Retry-After: 1"), act: actGiveUp},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := fresh()
			if c.edit != nil {
				c.edit(st)
			}
			d := decide(c.res, st)
			if d.act != c.act {
				t.Fatalf("action %s, want %s (%s)", d.act, c.act, d.why)
			}
			if c.why != "" && !strings.Contains(d.why, c.why) {
				t.Errorf("why %q, want it to contain %q", d.why, c.why)
			}
			if d.wait != c.wait {
				t.Errorf("wait %v, want %v", d.wait, c.wait)
			}
			var got []string
			for _, u := range d.targets {
				got = append(got, u.String())
			}
			if strings.Join(got, " ") != c.targets {
				t.Errorf("targets %q, want %q", strings.Join(got, " "), c.targets)
			}
		})
	}
}

func TestOutcomeAndExit(t *testing.T) {
	for code, want := range map[int]int{200: 0, 302: 3, 404: 4, 486: 4, 500: 5, 503: 5, 600: 6, 603: 6} {
		if got := ExitCode(OutcomeOf(code)); got != want {
			t.Errorf("exit for %d = %d, want %d", code, got, want)
		}
	}
	for outcome, want := range map[string]int{OutcomeTimeout: 7, OutcomeCancelled: 8, OutcomeError: 1} {
		if got := ExitCode(outcome); got != want {
			t.Errorf("exit for %s = %d, want %d", outcome, got, want)
		}
	}
}

func TestRefreshIn(t *testing.T) {
	for expires, want := range map[int]time.Duration{3600: 3570 * time.Second, 60: 30 * time.Second, 10: 5 * time.Second, 120: 90 * time.Second} {
		if got := refreshIn(expires); got != want {
			t.Errorf("refreshIn(%d) = %v, want %v", expires, got, want)
		}
	}
}
