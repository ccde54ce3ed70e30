package ua

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Behaviour is how the answering phone treats one incoming call.
type Behaviour struct {
	// Ring is how long the phone rings (180 Ringing) before its final answer; 0 answers at
	// once without a 180.
	Ring time.Duration
	// Final is the final response: 200 answers (with SDP), 300-699 reject; 0 never answers
	// (the phone rings until the caller cancels or the phone stops, then 480).
	Final int
	// Hangup ends an answered call with BYE after this long; 0 waits for the caller's BYE.
	Hangup time.Duration
	// RetryAfter adds Retry-After (seconds) to a rejection (e.g. 503 or 486).
	RetryAfter int
	// Contact is the target of a 3xx (required for 300-399).
	Contact string
	// Early rings with 183 Session Progress carrying the SDP answer (early media)
	// instead of 180 Ringing.
	Early bool
}

// String describes the behaviour in the script's own words.
func (b Behaviour) String() string {
	var parts []string
	parts = append(parts, "ring="+b.Ring.String())
	if b.Final == 0 {
		parts = append(parts, "then=noanswer")
	} else {
		parts = append(parts, "then="+strconv.Itoa(b.Final))
	}
	if b.Hangup > 0 {
		parts = append(parts, "hangup="+b.Hangup.String())
	}
	if b.RetryAfter > 0 {
		parts = append(parts, "retry-after="+strconv.Itoa(b.RetryAfter))
	}
	if b.Contact != "" {
		parts = append(parts, "contact="+b.Contact)
	}
	if b.Early {
		parts = append(parts, "early=yes")
	}
	return strings.Join(parts, " ")
}

// Validate checks the combination of values.
func (b Behaviour) Validate() error {
	switch {
	case b.Final == 0, b.Final == 200:
	case b.Final >= 300 && b.Final <= 399:
		if b.Contact == "" {
			return fmt.Errorf("then=%d needs contact=URI (where the caller is redirected)", b.Final)
		}
		if _, err := ParseTarget(b.Contact, ""); err != nil {
			return fmt.Errorf("contact: %v", err)
		}
	case b.Final >= 400 && b.Final <= 699:
	default:
		return fmt.Errorf("then=%d: use 200, a code from 300 to 699, or noanswer", b.Final)
	}
	if b.Ring < 0 || b.Hangup < 0 || b.RetryAfter < 0 {
		return fmt.Errorf("durations must not be negative")
	}
	return nil
}

// ParseFinal reads a --then value: a status code or "noanswer" (0).
func ParseFinal(s string) (int, error) {
	if strings.EqualFold(s, "noanswer") || strings.EqualFold(s, "none") {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a status code or noanswer", s)
	}
	return n, nil
}

// Script gives a behaviour per caller or per call number. Its format is one rule per
// line, "SELECTOR BEHAVIOUR", where the first matching rule decides:
//
//	# comments and blank lines are ignored
//	call 1        ring=1s then=486
//	call 2-3      then=200 hangup=2s
//	from alice    ring=0 then=603
//	from bob@example.com then=noanswer
//	*             ring=2s then=200
//
// Selectors: "call N" or "call N-M" (the order of arrival, from 1), "from USER" or "from
// USER@DOMAIN" (the caller's From URI), "*" (every call). The behaviour is key=value words:
// ring=DURATION, then=CODE|noanswer, hangup=DURATION, retry-after=SECONDS, contact=URI
// (for 3xx), early=yes|no (ring with 183 and early media). Keys not given take the values of the command line (--ring, --then). A call
// no rule matches gets the command line's behaviour.
type Script struct {
	Rules []Rule
}

// Rule is one line of a script.
type Rule struct {
	Line     int
	Selector string // as written
	callFrom int
	callTo   int
	from     string // user or user@host, lower-cased host
	any      bool
	set      map[string]string
}

// ParseScript reads a script; errors name the line.
func ParseScript(r io.Reader, name string) (*Script, error) {
	s := &Script{}
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "#"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		rule, err := parseRule(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, n, err)
		}
		rule.Line = n
		s.Rules = append(s.Rules, rule)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return s, nil
}

func parseRule(line string) (Rule, error) {
	f := strings.Fields(line)
	var r Rule
	var rest []string
	switch strings.ToLower(f[0]) {
	case "*":
		r.any = true
		r.Selector = "*"
		rest = f[1:]
	case "call":
		if len(f) < 2 {
			return r, fmt.Errorf("\"call\" needs a number or a range, e.g. call 2 or call 2-4")
		}
		a, b, isRange := strings.Cut(f[1], "-")
		from, err := strconv.Atoi(a)
		if err != nil || from < 1 {
			return r, fmt.Errorf("call %q: want a call number from 1", f[1])
		}
		to := from
		if isRange {
			to, err = strconv.Atoi(b)
			if err != nil || to < from {
				return r, fmt.Errorf("call %q: want a range such as 2-4", f[1])
			}
		}
		r.callFrom, r.callTo = from, to
		r.Selector = "call " + f[1]
		rest = f[2:]
	case "from":
		if len(f) < 2 {
			return r, fmt.Errorf("\"from\" needs a user or user@domain")
		}
		who := strings.TrimPrefix(strings.TrimPrefix(f[1], "sip:"), "sips:")
		if user, host, ok := strings.Cut(who, "@"); ok {
			if user == "" || host == "" {
				return r, fmt.Errorf("from %q: want USER or USER@DOMAIN", f[1])
			}
			who = user + "@" + strings.ToLower(host)
		}
		r.from = who
		r.Selector = "from " + f[1]
		rest = f[2:]
	default:
		return r, fmt.Errorf("unknown selector %q: use call N, call N-M, from USER[@DOMAIN] or *", f[0])
	}
	if len(rest) == 0 {
		return r, fmt.Errorf("%s: no behaviour (e.g. ring=1s then=486)", r.Selector)
	}
	r.set = map[string]string{}
	for _, kv := range rest {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" {
			return r, fmt.Errorf("%q: want KEY=VALUE (ring, then, hangup, retry-after, contact, early)", kv)
		}
		k = strings.ToLower(k)
		switch k {
		case "ring", "hangup":
			if _, err := time.ParseDuration(v); err != nil {
				if _, err2 := strconv.Atoi(v); err2 != nil || v != "0" {
					return r, fmt.Errorf("%s=%q is not a duration such as 2s or 500ms", k, v)
				}
			}
		case "then":
			if _, err := ParseFinal(v); err != nil {
				return r, fmt.Errorf("then: %v", err)
			}
		case "retry-after":
			if n, err := strconv.Atoi(v); err != nil || n < 0 {
				return r, fmt.Errorf("retry-after=%q is not a number of seconds", v)
			}
		case "contact":
		case "early":
			if _, err := strconv.ParseBool(yesNo(v)); err != nil {
				return r, fmt.Errorf("early=%q: want yes or no", v)
			}
		default:
			return r, fmt.Errorf("unknown key %q (ring, then, hangup, retry-after, contact, early)", k)
		}
		r.set[k] = v
	}
	// Check the combination against a neutral base.
	if _, err := r.apply(Behaviour{Final: 200}); err != nil {
		return r, err
	}
	return r, nil
}

func (r Rule) matches(n int, from sip.Uri) bool {
	switch {
	case r.any:
		return true
	case r.callFrom > 0:
		return n >= r.callFrom && n <= r.callTo
	case strings.Contains(r.from, "@"):
		return strings.EqualFold(r.from, from.User+"@"+strings.ToLower(from.Host))
	default:
		return r.from == from.User
	}
}

func (r Rule) apply(b Behaviour) (Behaviour, error) {
	for k, v := range r.set {
		switch k {
		case "ring":
			b.Ring = parseDur(v)
		case "hangup":
			b.Hangup = parseDur(v)
		case "then":
			b.Final, _ = ParseFinal(v)
		case "retry-after":
			b.RetryAfter, _ = strconv.Atoi(v)
		case "contact":
			b.Contact = v
		case "early":
			b.Early, _ = strconv.ParseBool(yesNo(v))
		}
	}
	return b, b.Validate()
}

func yesNo(v string) string {
	switch strings.ToLower(v) {
	case "yes", "on":
		return "true"
	case "no", "off":
		return "false"
	}
	return v
}

func parseDur(v string) time.Duration {
	if v == "0" {
		return 0
	}
	d, _ := time.ParseDuration(v)
	return d
}

// For returns the behaviour for call number n from the caller from: the first matching
// rule applied over def, or def. The rule is returned too (nil: none matched).
func (s *Script) For(n int, from sip.Uri, def Behaviour) (Behaviour, *Rule) {
	if s == nil {
		return def, nil
	}
	for i := range s.Rules {
		if s.Rules[i].matches(n, from) {
			b, err := s.Rules[i].apply(def)
			if err != nil {
				return def, nil
			}
			return b, &s.Rules[i]
		}
	}
	return def, nil
}
