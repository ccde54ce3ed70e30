package ua

import (
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func TestScript(t *testing.T) {
	s, err := ParseScript(strings.NewReader(`
# the first matching rule decides
call 1            ring=1s then=486   # busy first
call 3-4          then=200 hangup=2s
from alice        ring=0 then=603
from bob@Example.COM then=noanswer
from carol        then=503 retry-after=5
from dave         then=302 contact=sip:dave@192.0.2.1:5070
*                 ring=250ms
`), "calls.txt")
	if err != nil {
		t.Fatal(err)
	}
	def := Behaviour{Ring: 2 * time.Second, Final: 200}
	u := func(user, host string) sip.Uri { return sip.Uri{Scheme: "sip", User: user, Host: host} }
	for _, c := range []struct {
		n    int
		from sip.Uri
		want Behaviour
		line int
	}{
		{1, u("alice", "example.com"), Behaviour{Ring: time.Second, Final: 486}, 3},
		{2, u("alice", "example.com"), Behaviour{Ring: 0, Final: 603}, 5},
		{3, u("alice", "example.com"), Behaviour{Ring: 2 * time.Second, Final: 200, Hangup: 2 * time.Second}, 4},
		{5, u("bob", "example.com"), Behaviour{Ring: 2 * time.Second, Final: 0}, 6},
		{5, u("bob", "other.example"), Behaviour{Ring: 250 * time.Millisecond, Final: 200}, 9},
		{6, u("carol", "x"), Behaviour{Ring: 2 * time.Second, Final: 503, RetryAfter: 5}, 7},
		{7, u("dave", "x"), Behaviour{Ring: 2 * time.Second, Final: 302, Contact: "sip:dave@192.0.2.1:5070"}, 8},
	} {
		got, rule := s.For(c.n, c.from, def)
		if got != c.want {
			t.Errorf("call %d from %s: %+v, want %+v", c.n, c.from.String(), got, c.want)
		}
		if rule == nil || rule.Line != c.line {
			t.Errorf("call %d from %s: rule %+v, want line %d", c.n, c.from.String(), rule, c.line)
		}
	}
	var none *Script
	if got, rule := none.For(1, u("x", "y"), def); got != def || rule != nil {
		t.Errorf("no script: %+v %+v", got, rule)
	}
}

func TestScriptErrors(t *testing.T) {
	for _, c := range []struct{ text, err string }{
		{"call x then=486", "calls.txt:1: call \"x\""},
		{"\n\ncall 3-1 then=486", "calls.txt:3: call \"3-1\""},
		{"call 1", "no behaviour"},
		{"from", "needs a user"},
		{"from @x then=200", "want USER or USER@DOMAIN"},
		{"somebody then=200", `unknown selector "somebody"`},
		{"* then=99", "then=99"},
		{"* then=busy", "not a status code"},
		{"* ring=soon", "not a duration"},
		{"* volume=11", `unknown key "volume"`},
		{"* then", "want KEY=VALUE"},
		{"* then=301", "needs contact=URI"},
		{"* then=302 contact=nobody", "contact:"},
		{"* retry-after=-1", "not a number of seconds"},
	} {
		_, err := ParseScript(strings.NewReader(c.text), "calls.txt")
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("script %q: error %v, want %q", c.text, err, c.err)
		}
	}
}

func TestParseFinal(t *testing.T) {
	for in, want := range map[string]int{"200": 200, "486": 486, "noanswer": 0, "NoAnswer": 0} {
		if got, err := ParseFinal(in); err != nil || got != want {
			t.Errorf("ParseFinal(%q) = %d, %v", in, got, err)
		}
	}
	if _, err := ParseFinal("busy"); err == nil {
		t.Error("busy accepted")
	}
}
