// Package diag explains a recorded call: how it ended (the outcome), who produced the
// final answer (a step of siplens, a branch and its contact, a timer), why in plain
// words, the messages that show it, and what to check next. It also draws the call as a
// ladder diagram: text for the terminal, Mermaid, JSON for the web page, and SVG.
//
// Everything here reads a trace.Call and nothing else, so a call recorded by the server
// and one imported from a capture are explained the same way. Decision events make the
// explanation precise (which ACL rule, which verdict of auth); without them the wire
// alone still tells most stories.
package diag

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/siplens/siplens/codes"
	"github.com/siplens/siplens/trace"
)

// Diagnosis is the explanation of one call.
type Diagnosis struct {
	CallID string `json:"call_id"`
	// Method is the method of the initial request.
	Method string `json:"method"`
	// From and To are the caller and callee ("user@host").
	From    string        `json:"from"`
	To      string        `json:"to"`
	Outcome trace.Outcome `json:"outcome"`
	// FinalCode is the final answer to the initial request (its last attempt), 0 if none;
	// Phrase the reason phrase as sent.
	FinalCode int      `json:"final_code"`
	Phrase    string   `json:"phrase,omitempty"`
	Producer  Producer `json:"producer"`
	// Cause says why, in one or two sentences.
	Cause    string     `json:"cause"`
	Evidence []Evidence `json:"evidence"`
	// Checks are what to look at next, most specific first.
	Checks []string `json:"checks"`
}

// Evidence is one fact from the record that shows the cause.
type Evidence struct {
	// Message is the index of the message in the call's sorted Messages, or -1 when the
	// evidence is a decision of siplens rather than a message.
	Message int    `json:"message"`
	Text    string `json:"text"`
}

// ProducerKind says what sort of thing produced the final answer.
type ProducerKind string

const (
	ByStep    ProducerKind = "step"    // a step of siplens (Step, maybe Rule)
	ByBranch  ProducerKind = "branch"  // a phone or server siplens forwarded to (Branch, Contact, Address)
	ByTimer   ProducerKind = "timer"   // a timer of siplens (Timer, and the branch it ran for)
	ByStack   ProducerKind = "stack"   // the SIP stack answered by itself (Detail)
	ByUnknown ProducerKind = "unknown" // nothing recorded tells
)

// Producer is who produced the final answer.
type Producer struct {
	Kind    ProducerKind `json:"kind"`
	Step    string       `json:"step,omitempty"`
	Rule    string       `json:"rule,omitempty"`
	Branch  int          `json:"branch,omitempty"`
	Contact string       `json:"contact,omitempty"`
	Address string       `json:"address,omitempty"`
	Timer   string       `json:"timer,omitempty"`
	Detail  string       `json:"detail,omitempty"`
}

func (p Producer) String() string {
	switch p.Kind {
	case ByStep:
		s := "siplens"
		if p.Step != "" {
			s += " step " + p.Step
		}
		if p.Rule != "" {
			s += " (rule " + p.Rule + ")"
		}
		return s
	case ByBranch:
		return p.branchText()
	case ByTimer:
		s := "siplens " + p.Timer
		if p.Branch > 0 {
			s += " on " + p.branchText()
		}
		return s
	case ByStack:
		s := "the SIP stack of siplens (sipgo)"
		if p.Detail != "" {
			s += ", " + p.Detail
		}
		return s
	}
	return "unknown"
}

func (p Producer) branchText() string {
	s := fmt.Sprintf("branch %d", p.Branch)
	if p.Contact != "" {
		s += " (" + p.Contact + ")"
	}
	if p.Address != "" {
		s += " at " + p.Address
	}
	return s
}

// Diagnose explains a call. The call is not changed.
func Diagnose(call *trace.Call) Diagnosis {
	c := call.Clone()
	c.Sort()
	an := analyze(c)
	d := Diagnosis{CallID: call.CallID, Evidence: []Evidence{}, Checks: []string{}}
	if an.first == nil {
		d.Outcome = trace.OutcomeUnanswered
		d.Producer = Producer{Kind: ByUnknown}
		d.Cause = "The record holds no SIP request, so there is nothing to explain: it was cut short, or only responses and decisions were recorded."
		return d
	}
	a := an.last()
	if a == nil {
		// Only requests inside a dialog (a To tag): the request that began the call is
		// not in this record, which a BYE of a call recorded before a restart, or pruned,
		// or a stray in-dialog request, all look like.
		d.Method = an.first.p.Method
		d.From, d.To = trace.AOR(an.first.p.Get("From")), trace.AOR(an.first.p.Get("To"))
		d.Outcome = trace.OutcomeUnanswered
		d.Producer = Producer{Kind: ByUnknown}
		d.Cause = fmt.Sprintf("The record starts inside a dialog: its first request, %s, already carries a To tag, and the request that set the call up is not in it (the recording or capture began after it, it was pruned, or the %s belongs to no call seen here).",
			an.first.p.Method, an.first.p.Method)
		d.Evidence = append(d.Evidence, Evidence{Message: an.first.index, Text: fmt.Sprintf("%s from %s with To tag %s", an.first.p.Method, an.first.m.From(), an.first.p.ToTag())})
		d.Checks = append(d.Checks, "Look for the call's INVITE under the same Call-ID in older records, or in a capture started before the call.")
		return d
	}
	d.Method = a.req.p.Method
	d.From, d.To = trace.AOR(an.first.p.Get("From")), trace.AOR(an.first.p.Get("To"))
	if a.final != nil {
		d.FinalCode, d.Phrase = a.final.p.Code, a.final.p.Phrase
	}
	x := &explainer{an: an, a: a, d: &d}
	d.Producer = x.producer()
	step := ""
	if d.Producer.Kind == ByStep {
		step = d.Producer.Step
	}
	d.Outcome = trace.ClassifyOutcome(d.FinalCode, step)
	x.explain()
	d.Checks = x.checks()
	return d
}

// explainer builds one diagnosis.
type explainer struct {
	an       *analysis
	a        *attempt
	d        *Diagnosis
	specific []string // checks for this cause, before the code's general ones
}

func (x *explainer) cause(format string, args ...any) {
	x.d.Cause = fmt.Sprintf(format, args...)
}

func (x *explainer) evidence(m *msg, format string, args ...any) {
	idx := -1
	if m != nil {
		idx = m.index
	}
	x.d.Evidence = append(x.d.Evidence, Evidence{Message: idx, Text: fmt.Sprintf(format, args...)})
}

func (x *explainer) check(format string, args ...any) {
	x.specific = append(x.specific, fmt.Sprintf(format, args...))
}

// checks puts the specific checks first, then the knowledge base's for the code, without
// repeats, at most six. When the cause is known precisely (two specific checks or more),
// only two general ones follow: the rest would send the reader after causes the record
// has already ruled out.
func (x *explainer) checks() []string {
	out := slices.Clone(x.specific)
	general := 6
	if len(x.specific) >= 2 {
		general = 2
	}
	if x.d.FinalCode >= 300 {
		for _, c := range codes.Lookup(x.d.FinalCode).Checks {
			if general == 0 {
				break
			}
			if !slices.Contains(out, c) {
				out = append(out, c)
				general--
			}
		}
	}
	if len(out) > 6 {
		out = out[:6]
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// producer names who sent the final answer: from siplens' answer event when there is
// one, else from the wire.
func (x *explainer) producer() Producer {
	a := x.a
	if a.final == nil {
		return Producer{Kind: ByUnknown}
	}
	code := a.final.p.Code
	var p Producer
	if ev := a.answer(); ev != nil {
		p = x.named(ev.Producer)
		// The forward step names the branch whose timer ran out; the timer is the producer.
		if code == 408 {
			switch {
			case a.event(trace.KindTimer, trace.TimerC) != nil || strings.Contains(ev.Reason, "Timer C"):
				p.Kind, p.Timer = ByTimer, "Timer C"
			case a.event(trace.KindTimer, trace.TimerB) != nil || strings.Contains(ev.Reason, "Timer B"):
				p.Kind, p.Timer = ByTimer, "Timer B"
			}
		}
		return p
	}
	switch b := x.branchAnswering(code); {
	case code == 487 && a.cancel != nil && a.cancel.time().Compare(a.final.time()) <= 0:
		return Producer{Kind: ByStack, Detail: "answering the caller's CANCEL"}
	case b != nil:
		return branchProducer(b)
	case code == 408 && x.timerCBranch() != nil:
		p = branchProducer(x.timerCBranch())
		p.Kind, p.Timer = ByTimer, "Timer C"
		return p
	case code == 408 && x.silentBranch() != nil:
		p = branchProducer(x.silentBranch())
		p.Kind, p.Timer = ByTimer, "Timer B"
		return p
	case code == 100:
		return Producer{Kind: ByStack}
	}
	return Producer{Kind: ByStep}
}

var branchLabel = regexp.MustCompile(`^branch (\d+) \((.*)\)$`)

// named reads a producer as the log and the events write it.
func (x *explainer) named(name string) Producer {
	if m := branchLabel.FindStringSubmatch(name); m != nil {
		n, _ := strconv.Atoi(m[1])
		p := Producer{Kind: ByBranch, Branch: n, Contact: m[2]}
		if b := x.a.branchNumbered(n); b != nil {
			p.Address = b.dest
		}
		return p
	}
	switch strings.ToLower(name) {
	case "timer c":
		return Producer{Kind: ByTimer, Timer: "Timer C"}
	case "timer b":
		return Producer{Kind: ByTimer, Timer: "Timer B"}
	case "caller cancel":
		return Producer{Kind: ByStack, Detail: "answering the caller's CANCEL"}
	case "":
		return Producer{Kind: ByUnknown}
	}
	p := Producer{Kind: ByStep, Step: name}
	if ev := x.a.event(trace.KindACL, trace.Denied); ev != nil && name == "acl" {
		p.Rule = ev.Rule
	}
	if ev := x.a.event(trace.KindRateLimit); ev != nil && name == "ratelimit" {
		p.Rule = ev.Rule
	}
	return p
}

func branchProducer(b *branch) Producer {
	return Producer{Kind: ByBranch, Branch: b.index, Contact: b.target, Address: b.dest}
}

// branchAnswering is the branch whose final answer is the caller's: the same code, or a
// 503 that siplens turned into 500, or a challenge it passed on.
func (x *explainer) branchAnswering(code int) *branch {
	for _, b := range x.a.branches {
		if b.final == nil || b.final.time().After(x.a.final.time()) {
			continue
		}
		if c := b.final.p.Code; c == code || (code == 500 && c == 503) {
			return b
		}
	}
	return nil
}

// producerBranch is the branch the producer names, if any.
func (x *explainer) producerBranch() *branch {
	if x.d.Producer.Branch > 0 {
		return x.a.branchNumbered(x.d.Producer.Branch)
	}
	return nil
}

// timerCBranch is a branch that rang and that siplens then cancelled.
func (x *explainer) timerCBranch() *branch {
	if ev := x.a.event(trace.KindTimer, trace.TimerC); ev != nil {
		if b := x.a.branchFor(ev); b != nil {
			return b
		}
	}
	for _, b := range x.a.branches {
		if b.ringing != nil && b.cancel != nil && (b.final == nil || b.final.p.Code == 487) {
			return b
		}
	}
	return nil
}

// silentBranch is a branch that never answered anything.
func (x *explainer) silentBranch() *branch {
	for _, b := range x.a.branches {
		if b.any == nil {
			return b
		}
	}
	return nil
}

// explain picks the story by the final code.
func (x *explainer) explain() {
	code := x.d.FinalCode
	switch {
	case x.a.final == nil:
		x.unanswered()
	case code < 300:
		x.answered()
	case code < 400:
		x.redirected()
	case code == 401 || code == 407:
		x.challengedToTheEnd()
	case code == 403:
		x.forbidden()
	case code == 404 || code == 604:
		x.notFound()
	case code == 480:
		x.unavailable()
	case code == 486 || code == 600:
		x.busy()
	case code == 603:
		x.declined()
	case code == 408:
		x.timedOut()
	case code == 487:
		x.cancelled()
	case code == 503 || code == 429:
		x.refusedForLoad()
	case code == 500:
		x.serverError()
	case code == 400:
		x.badRequest()
	case code == 482 || code == 483:
		x.loop()
	default:
		x.generic()
	}
	if code >= 300 {
		x.earlierChallenges()
	}
	x.earlierRedirects()
}

// earlierRedirects notes that the last attempt followed a redirect of an earlier one.
func (x *explainer) earlierRedirects() {
	for _, at := range x.an.attempts[:len(x.an.attempts)-1] {
		if c := at.code(); c >= 300 && c < 400 {
			x.d.Cause += fmt.Sprintf(" This attempt followed a %d that redirected %s to %s.", c, at.req.p.URI, x.a.req.p.URI)
			x.evidence(at.final, "%s redirected %s, Contact %s", at.final.p.Label(), at.req.p.URI, trace.URIOf(at.final.p.Get("Contact")))
			return
		}
	}
}

// callee is how the cause names the callee: "bob@localhost". After a redirect it is
// the target the caller followed it to, whom the last attempt called.
func (x *explainer) callee() string {
	if x.redirectedAttempt() != nil {
		if aor := trace.AOR(x.a.req.p.URI); aor != "" {
			return aor
		}
	}
	if x.d.To != "" {
		return x.d.To
	}
	return "the callee"
}

// redirectedAttempt is the earlier attempt whose 3xx the last attempt followed, if any.
func (x *explainer) redirectedAttempt() *attempt {
	for _, at := range x.an.attempts[:len(x.an.attempts)-1] {
		if c := at.code(); c >= 300 && c < 400 && at.req.p.URI != x.a.req.p.URI {
			return at
		}
	}
	return nil
}

// answerText describes the final answer as evidence.
func (x *explainer) answerText() string {
	f := x.a.final
	s := fmt.Sprintf("%s sent to %s", f.p.Label(), f.m.To())
	if ev := x.a.answer(); ev != nil && ev.Producer != "" {
		s += " by " + ev.Producer
		if ev.Reason != "" {
			s += ": " + ev.Reason
		}
	}
	return s
}

// branchAnswerText describes a branch's answer: "486 Busy Here from 127.0.0.1:5070
// (branch 1, sip:bob@...)".
func branchAnswerText(b *branch, m *msg) string {
	return fmt.Sprintf("%s from %s (branch %d, %s)", m.p.Label(), m.m.From(), b.index, b.target)
}

func (x *explainer) reason() string {
	if ev := x.a.answer(); ev != nil {
		return ev.Reason
	}
	return ""
}

// sentence makes a reason from the log into the end of a sentence.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (x *explainer) unanswered() {
	a := x.a
	if ev := a.event(trace.KindAnswer); ev != nil && ev.Code == 0 {
		x.cause("siplens dropped the %s without answering: %s", a.req.p.Method, strings.TrimSuffix(ev.Reason, "."))
		x.evidence(a.req, "%s %s from %s", a.req.p.Method, a.req.p.URI, a.req.m.From())
		x.evidence(nil, "%s decided: %s", ev.Producer, ev.Reason)
		x.check("Check the software at %s: a request that cannot be answered (no usable Via) is malformed at the source.", a.req.m.From())
		return
	}
	last := x.an.msgs[len(x.an.msgs)-1]
	switch {
	case len(a.branches) > 0:
		x.cause("siplens forwarded the %s to %d contact(s) and the record ends %s later without a final answer: the call was still ringing when it was read, or the record was cut short.",
			a.req.p.Method, len(a.branches), seconds(last.time().Sub(a.req.time())))
		for _, b := range a.branches {
			state := "no answer yet"
			if b.any != nil {
				state = "last answer " + b.any.p.Label()
				if b.ringing != nil {
					state = "ringing since " + seconds(b.ringing.time().Sub(a.req.time())) + " after the request"
				}
			}
			x.evidence(b.req, "%s sent to %s (%s): %s", a.req.p.Method, b.dest, b.target, state)
		}
	default:
		x.cause("siplens received the %s and the record shows no answer to it: the request was still being handled, or it was lost before the chain answered.", a.req.p.Method)
		x.evidence(a.req, "%s %s from %s", a.req.p.Method, a.req.p.URI, a.req.m.From())
	}
	x.check("Read the call again once it has ended; if it stays without an answer, check siplens' log for this Call-ID.")
}

func (x *explainer) answered() {
	a := x.a
	f := a.final
	b := x.producerBranch()
	switch {
	case a.req.p.Method == "REGISTER":
		x.cause("The registration of %s succeeded: siplens' registrar stored the binding and answered %s.", x.d.To, f.p.Label())
	case a.req.p.Method == "INVITE" && b != nil:
		ring := ""
		if b.ringing != nil {
			ring = fmt.Sprintf(" after ringing for %s", seconds(b.final.time().Sub(b.ringing.time())))
		}
		x.cause("The call was answered by %s at %s (branch %d, %s)%s.", x.callee(), b.dest, b.index, b.target, ring)
	default:
		x.cause("The %s succeeded with %s, sent by %s.", a.req.p.Method, f.p.Label(), x.d.Producer)
	}
	if b != nil && b.final != nil {
		x.evidence(b.final, "%s", branchAnswerText(b, b.final))
	} else {
		x.evidence(f, "%s", x.answerText())
	}
	note := x.routineChallenges()
	if a.req.p.Method == "INVITE" {
		if problems := x.mediaProblems(); len(problems) > 0 {
			x.d.Cause = strings.TrimSuffix(x.d.Cause, ".") + ", but " + lowerFirst(problems[0].text)
			if len(problems) > 1 {
				x.d.Cause += " Also: " + lowerFirst(problems[1].text)
			}
			for _, p := range problems {
				x.d.Evidence = append(x.d.Evidence, p.evidence...)
				x.specific = append(x.specific, p.checks...)
			}
			return
		}
	}
	if note != "" {
		x.d.Cause += " " + note
	}
}

// routineChallenges notes the 401/407 and stale nonces before a success: they are how
// digest authentication works, not failures. It returns the note for the cause.
func (x *explainer) routineChallenges() string {
	var codesSeen []string
	challenges := 0
	stale := false
	for i, a := range x.an.attempts[:len(x.an.attempts)-1] {
		c := a.code()
		if c != 401 && c != 407 {
			continue
		}
		challenges++
		if code := strconv.Itoa(c); !slices.Contains(codesSeen, code) {
			codesSeen = append(codesSeen, code)
		}
		switch {
		case isStale(a.final):
			stale = true
			x.evidence(a.final, "%s with stale=true: the nonce had expired and a fresh one was sent", a.final.p.Label())
		case i == 0:
			x.evidence(a.final, "%s: digest challenge to the first attempt (CSeq %d)", a.final.p.Label(), a.req.cseq)
		default:
			x.evidence(a.final, "%s: digest challenge to attempt %d (CSeq %d)", a.final.p.Label(), i+1, a.req.cseq)
		}
	}
	switch {
	case challenges == 0:
		return ""
	case stale:
		return "The challenge before it renewed an expired nonce (stale=true), which is routine: not a failure."
	case challenges > 1:
		return fmt.Sprintf("The %s challenges before it were the usual digest challenges (a request without credentials is challenged first), not failures.", strings.Join(codesSeen, " and "))
	}
	return fmt.Sprintf("The %s before it was the usual digest challenge (a first request carries no credentials), not a failure.", codesSeen[0])
}

// earlierChallenges mentions, for a failure after a successful login, that the
// challenges are not the cause.
func (x *explainer) earlierChallenges() {
	code := x.d.FinalCode
	if code == 401 || code == 407 || code == 403 || len(x.an.attempts) < 2 {
		return
	}
	first := x.an.attempts[0]
	if c := first.code(); c == 401 || c == 407 {
		x.d.Cause += fmt.Sprintf(" (The %d to the first attempt was the usual digest challenge, answered on the next try: not the cause.)", c)
	}
}

func isStale(m *msg) bool {
	if m == nil {
		return false
	}
	for _, name := range []string{"WWW-Authenticate", "Proxy-Authenticate"} {
		for _, v := range m.p.Values(name) {
			if strings.EqualFold(authParam(v, "stale"), "true") {
				return true
			}
		}
	}
	return false
}

// authParam reads a parameter of a Digest challenge or credentials header, whose
// parameters are separated by commas: `Digest realm="x", nonce="y", stale=true`.
func authParam(v, name string) string {
	_, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
	for _, p := range trace.SplitList(rest) {
		k, val, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.Trim(strings.TrimSpace(val), `"`)
		}
	}
	return ""
}

func (x *explainer) redirected() {
	a := x.a
	contacts := a.final.p.Values("Contact")
	to := "an address it does not name"
	if len(contacts) > 0 {
		uris := make([]string, len(contacts))
		for i, c := range contacts {
			uris[i] = trace.URIOf(c)
		}
		to = strings.Join(uris, ", ")
	}
	who := x.d.Producer.String()
	if ev := a.event(trace.KindLocate, trace.Forwarded); ev != nil {
		who = "a forwarding rule of " + ev.User
		if ev.Target != "" && len(contacts) == 0 {
			to = ev.Target
		}
	}
	x.cause("The call was redirected: %s sent the caller to %s with %s.", who, to, a.final.p.Label())
	x.evidence(a.final, "%s with Contact %s", a.final.p.Label(), to)
	followed := false
	for _, m := range x.an.msgs {
		if m.retrans || !m.isRequest(a.req.p.Method) || m.m.Direction != x.an.dir || !m.time().After(a.final.time()) {
			continue
		}
		if len(contacts) > 0 && m.p.URI == trace.URIOf(contacts[0]) {
			followed = true
			x.evidence(m, "the caller followed it: %s %s", m.p.Method, m.p.URI)
			break
		}
	}
	if !followed {
		x.d.Cause += " The caller did not follow it within this call (following it with a new Call-ID would be another record)."
	}
	x.check("Check that %s is where calls for %s should go, and whether the caller's phone follows redirects.", to, x.callee())
}

func (x *explainer) challengedToTheEnd() {
	a := x.a
	f := a.final
	header := "WWW-Authenticate"
	if f.p.Code == 407 {
		header = "Proxy-Authenticate"
	}
	realm := authParam(f.p.Get(header), "realm")
	user := credentialsUser(a.req)
	if ev := a.event(trace.KindAuth); ev != nil && ev.User != "" {
		user = ev.User
	}
	if user == "" {
		user = x.d.From
	}
	refused := 0
	for _, at := range x.an.attempts {
		if c := at.code(); (c == 401 || c == 407) && at.hasCredentials() && !isStale(at.final) {
			refused++
		}
	}
	switch {
	case isStale(f):
		x.cause("siplens answered with a fresh challenge marked stale=true: the nonce the phone used had expired, which is routine, but the phone did not try again with the new nonce.")
		x.evidence(f, "%s with stale=true in %s", f.p.Label(), header)
		x.check("Check that the phone retries with the new nonce after stale=true (RFC 7616); update its firmware if it does not.")
	case a.hasCredentials() || a.event(trace.KindAuth, trace.WrongPassword) != nil:
		x.cause("The phone answered siplens' challenge %s and was challenged again each time: the password (or user name) it uses for %s does not match what siplens has for realm %q.",
			times(max(refused, 1)), user, realm)
		x.evidence(a.req, "%s with credentials (username %q) from %s", a.req.p.Method, credentialsUser(a.req), a.req.m.From())
		x.evidence(f, "%s again, without stale=true: the credentials were refused", f.p.Label())
		if ev := a.event(trace.KindAuth, trace.WrongPassword); ev != nil {
			x.evidence(nil, "auth decided: %s", ev.Reason)
		}
		x.check("Re-enter the password configured on the phone for %s; reset it on siplens with `siplens user add %s --password ...` if unsure.", user, userPart(user))
		x.check("Check the user name and the realm (%q) the phone is configured with.", realm)
		x.check("Repeated failures lock %s out (403): stop the phone from retrying with the wrong password.", user)
	default:
		x.cause("siplens challenged the %s with %s and the phone never answered the challenge: it has no credentials for realm %q, or it gave up.", a.req.p.Method, f.p.Label(), realm)
		x.evidence(f, "%s with %s realm %q; no retry with credentials followed", f.p.Label(), header, realm)
		x.check("Configure the phone with the user name and password of %s for realm %q.", user, realm)
	}
}

func credentialsUser(m *msg) string {
	for _, name := range []string{"Authorization", "Proxy-Authorization"} {
		if v := m.p.Get(name); v != "" {
			return authParam(v, "username")
		}
	}
	return ""
}

func userPart(aor string) string {
	u, _, _ := strings.Cut(aor, "@")
	return u
}

func times(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

func (x *explainer) forbidden() {
	a := x.a
	f := a.final
	switch {
	case a.event(trace.KindACL, trace.Denied) != nil:
		ev := a.event(trace.KindACL, trace.Denied)
		rule := ev.Rule
		x.d.Producer.Kind, x.d.Producer.Step, x.d.Producer.Rule = ByStep, "acl", rule
		if rule != "" {
			x.cause("siplens refused the request by policy: its source %s matched the ACL rule %q.", a.req.m.From(), rule)
			x.evidence(nil, "acl decided: %s", firstNonEmpty(ev.Reason, "rule "+rule+" denies "+a.req.m.From()))
			x.check("Check the ACL rules in the config (rule %q) and whether %s should be allowed.", rule, a.req.m.From())
		} else {
			x.cause("siplens refused the request by policy: the ACL does not let its source %s in.", a.req.m.From())
			x.evidence(nil, "acl decided: %s", firstNonEmpty(ev.Reason, "the ACL denies "+a.req.m.From()))
			x.check("Check the ACL rules in the config (acl.allow, acl.deny, the domain's own rules) and whether %s should be allowed.", a.req.m.From())
		}
		x.evidence(f, "%s", x.answerText())
	case a.event(trace.KindAuth, trace.LockedOut) != nil || strings.Contains(strings.ToLower(f.p.Phrase), "locked out"):
		who := x.d.From
		if ev := a.event(trace.KindAuth, trace.LockedOut); ev != nil && ev.User != "" {
			who = ev.User
		}
		x.d.Producer.Kind, x.d.Producer.Step = ByStep, "auth"
		retry := f.p.Get("Retry-After")
		x.cause("%s is locked out after too many failed authentications: siplens refuses every attempt with 403 until the lockout ends%s.", who, inSeconds(retry))
		if refused := x.refusedAttempts(); refused > 0 {
			x.d.Cause += fmt.Sprintf(" This call alone made %d attempt(s) with refused credentials first.", refused)
		}
		x.evidence(f, "%s%s", f.p.Label(), headerNote("Retry-After", retry))
		if r := x.reason(); r != "" {
			x.evidence(nil, "auth decided: %s", r)
		}
		x.check("Fix the password configured on the phone of %s, then wait for the lockout to end%s.", who, inSeconds(retry))
		x.check("If nobody owns that phone, look for password guessing from %s in siplens' log.", a.req.m.From())
	case a.event(trace.KindLocate, trace.NotServed) != nil || strings.Contains(x.reason(), "relay"):
		_, host := trace.UserHost(a.req.p.URI)
		x.d.Producer.Kind, x.d.Producer.Step = ByStep, "locate"
		x.cause("The request is for %s, a domain siplens does not serve, and siplens does not relay to other domains (it is not an open relay).", host)
		x.evidence(a.req, "%s %s: Request-URI host %s", a.req.p.Method, a.req.p.URI, host)
		x.evidence(f, "%s", x.answerText())
		x.check("Check the domain the phone dials (%s): add it to `domains` if siplens should serve it, or fix the phone's dial plan.", host)
	case a.event(trace.KindAuth, trace.Impersonation) != nil:
		ev := a.event(trace.KindAuth, trace.Impersonation)
		x.cause("The caller authenticated as one user but put another in From: siplens refuses to let %s call as someone else. %s", ev.User, sentence(ev.Reason))
		x.evidence(f, "%s", x.answerText())
		x.check("Make the From user on the phone match its authentication user.")
	case x.d.Producer.Kind == ByBranch:
		b := x.producerBranch()
		x.cause("The far side refused the call: %s answered 403 Forbidden, and siplens passed that on.", x.d.Producer)
		if b != nil && b.final != nil {
			x.evidence(b.final, "%s", branchAnswerText(b, b.final))
		}
		x.check("Ask the owner of %s why it refuses calls from %s.", x.d.Producer.Address, x.d.From)
	default:
		x.cause("siplens refused the request with 403. %s", sentence(firstNonEmpty(x.reason(), "The record does not say which rule refused it.")))
		x.evidence(f, "%s", x.answerText())
	}
}

func (x *explainer) refusedAttempts() int {
	n := 0
	for _, at := range x.an.attempts {
		if c := at.code(); (c == 401 || c == 407) && at.hasCredentials() && !isStale(at.final) {
			n++
		}
	}
	return n
}

func inSeconds(retryAfter string) string {
	if retryAfter == "" {
		return ""
	}
	n, _, _ := strings.Cut(retryAfter, ";")
	return " (in " + strings.TrimSpace(n) + " s, says Retry-After)"
}

func headerNote(name, value string) string {
	if value == "" {
		return ""
	}
	return "; " + name + ": " + value
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func (x *explainer) notFound() {
	a := x.a
	if b := x.producerBranch(); b != nil && b.final != nil {
		x.cause("%s answered %s: the phone or server there does not know %s. siplens found a binding and forwarded the call, so the user exists here but not there.",
			x.d.Producer, b.final.p.Label(), b.target)
		x.evidence(b.final, "%s", branchAnswerText(b, b.final))
		x.check("Check the contact %s registered for %s: its user part must be one the phone answers to.", b.target, x.callee())
		return
	}
	if a.event(trace.KindLocate, trace.NoSuchUser) != nil || x.d.Producer.Step == "locate" || len(a.branches) == 0 {
		x.cause("%s is not a user of siplens, so siplens answered %d itself; no phone was tried.", x.callee(), x.d.FinalCode)
		x.evidence(a.req, "%s %s from %s", a.req.p.Method, a.req.p.URI, a.req.m.From())
		x.evidence(a.final, "%s", x.answerText())
		x.check("Check the number or name dialled: the Request-URI was %s.", a.req.p.URI)
		x.check("List the users with `siplens user list`; add the user with `siplens user add %s --password ...` if it should exist.", userPart(x.callee()))
		return
	}
	x.generic()
}

func (x *explainer) unavailable() {
	a := x.a
	switch {
	case a.event(trace.KindLocate, trace.DoNotDisturb) != nil:
		x.cause("%s has do-not-disturb on, so siplens answered 480 without ringing any phone.", x.callee())
		x.evidence(nil, "locate decided: %s", firstNonEmpty(a.event(trace.KindLocate, trace.DoNotDisturb).Reason, x.callee()+" is set to do not disturb"))
		x.evidence(a.final, "%s", x.answerText())
		x.check("Turn do-not-disturb off for %s if calls should ring.", x.callee())
	case x.d.Producer.Kind == ByBranch:
		b := x.producerBranch()
		x.cause("%s answered 480: the phone is registered but says it cannot take calls now (its own do-not-disturb, or nobody logged in).", x.d.Producer)
		if b != nil && b.final != nil {
			x.evidence(b.final, "%s", branchAnswerText(b, b.final))
		}
		x.check("Check the do-not-disturb setting on the phone at %s itself.", x.d.Producer.Address)
	default:
		x.cause("%s is a user of siplens but has no registered phone right now, so siplens answered 480 without ringing anything.", x.callee())
		if ev := a.event(trace.KindLocate, trace.NoBinding); ev != nil {
			x.evidence(nil, "locate decided: %s", firstNonEmpty(ev.Reason, x.callee()+" has no binding"))
		}
		x.evidence(a.final, "%s", x.answerText())
		x.check("Check that %s's phone is switched on and registered: look for its REGISTER and the 200 answer in siplens' log.", userPart(x.callee()))
		x.check("If the registration keeps expiring, check the phone's registration interval and its NAT keep-alives.")
	}
}

func (x *explainer) busy() {
	b := x.producerBranch()
	if b == nil || b.final == nil {
		x.generic()
		return
	}
	if x.d.FinalCode == 600 {
		x.cause("The phone at %s (branch %d, %s) answered 600 Busy Everywhere: %s is busy on every device, so siplens stopped the search, as a 6xx requires, and cancelled %s.",
			b.dest, b.index, b.target, x.callee(), x.otherBranches(b))
	} else {
		x.cause("%s's phone at %s (branch %d, %s) answered 486 Busy Here: it is on another call, or its user rejected the call as busy. siplens passed that answer on.",
			x.callee(), b.dest, b.index, b.target)
	}
	x.evidence(b.final, "%s", branchAnswerText(b, b.final))
	x.branchesEvidence(b)
	x.check("Nothing is broken in siplens: %s was busy. Try again later, or set up call waiting or forwarding on busy for %s.", x.callee(), userPart(x.callee()))
}

// otherBranches says what happened to the branches other than b.
func (x *explainer) otherBranches(b *branch) string {
	n := 0
	for _, o := range x.a.branches {
		if o != b && o.cancel != nil {
			n++
		}
	}
	switch n {
	case 0:
		return "no other branch (there was none still ringing)"
	case 1:
		return "the other branch"
	}
	return fmt.Sprintf("the %d other branches", n)
}

// branchesEvidence adds what the other branches answered.
func (x *explainer) branchesEvidence(except *branch) {
	for _, o := range x.a.branches {
		if o == except {
			continue
		}
		switch {
		case o.final != nil:
			x.evidence(o.final, "%s", branchAnswerText(o, o.final))
		case o.any == nil:
			x.evidence(o.req, "%s sent to %s (branch %d, %s): no answer", o.req.p.Method, o.dest, o.index, o.target)
		}
	}
}

func (x *explainer) declined() {
	b := x.producerBranch()
	if b == nil || b.final == nil {
		x.generic()
		return
	}
	x.cause("%s declined the call: the phone at %s (branch %d, %s) answered 603 Decline, which means its user pressed reject. A 6xx ends the search, so siplens cancelled %s.",
		x.callee(), b.dest, b.index, b.target, x.otherBranches(b))
	x.evidence(b.final, "%s", branchAnswerText(b, b.final))
	x.branchesEvidence(b)
	x.check("Nothing is broken: the callee refused the call. If nobody pressed reject, check the phone's call-rejection rules (anonymous calls, block lists).")
}

// timerBranch is the branch a timer ended (found, else the producer's branch), which
// becomes the producer under that timer's name. Without one it gives the generic
// explanation and returns nil.
func (x *explainer) timerBranch(found *branch, timer string) *branch {
	b := found
	if b == nil {
		b = x.producerBranch()
	}
	if b == nil {
		x.generic()
		return nil
	}
	p := branchProducer(b)
	p.Kind, p.Timer = ByTimer, timer
	x.d.Producer = p
	return b
}

func (x *explainer) timedOut() {
	a := x.a
	switch {
	case x.d.Producer.Timer == "Timer C" || x.timerCBranch() != nil && x.d.Producer.Kind != ByBranch:
		b := x.timerBranch(x.timerCBranch(), "Timer C")
		if b == nil {
			return
		}
		end := a.final.time()
		if ev := a.event(trace.KindTimer, trace.TimerC); ev != nil {
			end = ev.Time
		} else if b.cancel != nil {
			end = b.cancel.time()
		}
		rang := "never got an answer"
		if b.ringing != nil {
			rang = "rang for " + seconds(end.Sub(b.ringing.time()))
		}
		x.cause("%s's phone at %s (branch %d, %s) %s and nobody answered: Timer C (proxy.no_answer_timeout) ran out, so siplens cancelled the branch and answered 408.",
			x.callee(), b.dest, b.index, b.target, rang)
		if b.ringing != nil {
			x.evidence(b.ringing, "%s", branchAnswerText(b, b.ringing))
		}
		if ev := a.event(trace.KindTimer, trace.TimerC); ev != nil {
			x.evidence(nil, "Timer C fired on branch %d after %s", b.index, seconds(ev.Duration))
		}
		if b.cancel != nil {
			x.evidence(b.cancel, "CANCEL sent to %s", b.dest)
		}
		x.evidence(a.final, "%s", x.answerText())
		x.check("Nothing is broken: nobody picked up. Set up voicemail or forwarding on no answer, or lengthen proxy.no_answer_timeout if callers need more time.")
	case x.d.Producer.Timer == "Timer B" || x.silentBranch() != nil:
		b := x.timerBranch(x.silentBranch(), "Timer B")
		if b == nil {
			return
		}
		// From the first copy to the moment siplens gave up (Timer B, 64*T1).
		end := a.final.time()
		if ev := a.event(trace.KindTimer, trace.TimerB); ev != nil {
			end = ev.Time
		}
		span := end.Sub(b.req.time())
		x.cause("The contact at %s (branch %d, %s) never answered at all, not even 100 Trying: siplens sent the %s %s over %s and gave up. The phone is switched off or unreachable, or a firewall or NAT drops the packets.",
			b.dest, b.index, b.target, a.req.p.Method, times(b.req.copies), seconds(span))
		x.evidence(b.req, "%s sent to %s %s (%s), no response", a.req.p.Method, b.dest, times(b.req.copies), b.req.m.Transport)
		if b.failed != nil && b.failed.Reason != "" {
			x.evidence(nil, "forward decided: %s", b.failed.Reason)
		}
		x.evidence(a.final, "%s", x.answerText())
		x.check("Check that something answers at %s over %s (the phone is on, the address is current).", b.dest, b.req.m.Transport)
		x.check("Check firewalls and NAT between siplens and %s; a binding left by a phone that went away stays until it expires.", b.dest)
	case x.d.Producer.Kind == ByBranch:
		b := x.producerBranch()
		x.cause("%s answered 408 itself: the far side timed out on its own request (for example a gateway that got no answer further on).", x.d.Producer)
		if b != nil && b.final != nil {
			x.evidence(b.final, "%s", branchAnswerText(b, b.final))
		}
	default:
		x.generic()
	}
}

func (x *explainer) cancelled() {
	a := x.a
	if a.cancel == nil {
		x.generic()
		return
	}
	x.d.Producer = Producer{Kind: ByStack, Detail: "answering the caller's CANCEL"}
	n := len(a.branches)
	if a.ringing != nil {
		x.cause("The caller hung up after %s of ringing, before anyone answered: it sent CANCEL, siplens answered 487 and cancelled %s. Nothing failed.",
			seconds(a.cancel.time().Sub(a.ringing.time())), plural(n, "branch", "branches"))
		x.evidence(a.ringing, "%s sent to the caller", a.ringing.p.Label())
	} else {
		x.cause("The caller cancelled %s after its %s, before any phone rang: siplens answered 487 and cancelled %s.",
			seconds(a.cancel.time().Sub(a.req.time())), a.req.p.Method, plural(n, "branch", "branches"))
	}
	x.evidence(a.cancel, "CANCEL from %s", a.cancel.m.From())
	for _, b := range a.branches {
		if b.cancel != nil {
			x.evidence(b.cancel, "CANCEL sent to %s (branch %d)", b.dest, b.index)
		}
	}
	x.evidence(a.final, "%s", x.answerText())
	x.check("Nothing is broken by itself. If callers give up often, check that the callee's phone really rings (a 180 from its branch) and how long it rings before someone answers.")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "the " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func (x *explainer) refusedForLoad() {
	a := x.a
	f := a.final
	retry := f.p.Get("Retry-After")
	ev := a.event(trace.KindRateLimit)
	switch {
	case ev != nil && ev.Verdict == trace.Overloaded:
		x.d.Producer = Producer{Kind: ByStep, Step: "ratelimit", Rule: ev.Rule}
		x.d.Outcome = trace.OutcomeRejected
		x.cause("siplens was over its capacity and shed the request with %d before doing any work for it.", f.p.Code)
		if retry != "" {
			x.d.Cause += fmt.Sprintf(" It asked the caller to retry later%s.", inSeconds(retry))
		}
		x.evidence(nil, "ratelimit decided: %s", firstNonEmpty(ev.Reason, "overloaded"))
		x.evidence(f, "%s%s", f.p.Label(), headerNote("Retry-After", retry))
		x.check("Check siplens' load (calls per second, CPU) at %s; raise its capacity or spread the load.", f.time().Format("15:04:05"))
	case ev != nil || x.d.Producer.Step == "ratelimit":
		rule := ""
		if ev != nil {
			rule = ev.Rule
			x.d.Producer.Rule = rule
		}
		x.d.Producer.Kind, x.d.Producer.Step = ByStep, "ratelimit"
		x.d.Outcome = trace.OutcomeRejected
		x.cause("siplens refused the request because %s sent more than its rate limit allows%s; it asked the caller to retry later%s.",
			a.req.m.From(), ruleNote(rule), inSeconds(retry))
		if ev != nil {
			x.evidence(nil, "ratelimit decided: %s", firstNonEmpty(ev.Reason, "bucket "+rule+" empty"))
		}
		x.evidence(f, "%s%s", f.p.Label(), headerNote("Retry-After", retry))
		x.check("Check what makes %s send so many requests (a registration storm, a retry loop, a scanner).", a.req.m.From())
		x.check("Raise the rate limit for %s if the traffic is legitimate.", a.req.m.From())
	case len(a.branches) == 0 && x.d.Producer.Kind != ByBranch:
		x.cause("siplens itself answered %d without trying any phone%s. %s", f.p.Code, inSeconds(retry), sentence(x.reason()))
		x.evidence(f, "%s%s", x.answerText(), headerNote("Retry-After", retry))
	default:
		x.generic()
	}
}

func ruleNote(rule string) string {
	if rule == "" {
		return ""
	}
	return " (rule " + rule + ")"
}

func (x *explainer) serverError() {
	a := x.a
	b := x.producerBranch()
	if b == nil {
		b = x.branchAnswering(500)
	}
	if b != nil && b.final != nil && b.final.p.Code == 503 {
		x.d.Producer = branchProducer(b)
		x.cause("The phone or gateway at %s (branch %d, %s) answered 503 Service Unavailable. A proxy must not pass a 503 on, since the caller would take siplens itself to be down (RFC 3261 16.7), so siplens answered 500 instead.",
			b.dest, b.index, b.target)
		x.evidence(b.final, "%s%s%s", branchAnswerText(b, b.final), headerNote("Retry-After", b.final.p.Get("Retry-After")), headerNote("Warning", b.final.p.Get("Warning")))
		x.evidence(a.final, "%s sent to %s", a.final.p.Label(), a.final.m.To())
		x.check("Check the device at %s: why it is out of service (overloaded, its trunk down, in maintenance).", b.dest)
		return
	}
	if b != nil && b.final != nil {
		x.cause("%s answered %s and siplens passed it on: the failure is on that side.", x.d.Producer, b.final.p.Label())
		x.evidence(b.final, "%s", branchAnswerText(b, b.final))
		return
	}
	x.cause("siplens failed internally while handling the request. %s", sentence(firstNonEmpty(x.reason(), "The record does not say why; siplens' log has the error for this Call-ID.")))
	x.evidence(a.final, "%s", x.answerText())
	x.check("Look up this Call-ID in siplens' log: an internal failure is logged with its error (and a stack for a panic).")
}

var headerInPhrase = regexp.MustCompile(`^(?:Missing|Bad) (.+?)(?: header)?$`)

func (x *explainer) badRequest() {
	a := x.a
	f := a.final
	warning := f.p.Get("Warning")
	detail := warningText(warning)
	if detail == "" {
		detail = x.reason()
	}
	if x.d.Producer.Kind == ByStep && x.d.Producer.Step == "" && x.a.answer() == nil {
		// No step recorded an answer: sipgo or the datagram prefilter answered before the chain.
		x.d.Producer = Producer{Kind: ByStack, Detail: "before the request reached siplens' steps"}
	}
	hdr := ""
	what := "its reason phrase says " + strconv.Quote(f.p.Phrase)
	if m := headerInPhrase.FindStringSubmatch(f.p.Phrase); m != nil {
		hdr = m[1]
		if strings.HasPrefix(f.p.Phrase, "Missing") {
			what = "it has no " + hdr + " header"
			if strings.HasSuffix(hdr, " tag") {
				what = "it has no " + hdr
			}
		} else {
			what = "its " + hdr + " header is malformed"
		}
	}
	x.cause("siplens refused the request as malformed: %s.", what)
	if detail != "" && !strings.Contains(strings.ToLower(detail), strings.ToLower(strings.TrimPrefix(what, "it has "))) {
		x.d.Cause += " " + sentence(detail)
	}
	x.evidence(f, "%s%s", f.p.Label(), headerNote("Warning", warning))
	if hdr != "" {
		name := trace.CanonicalName(strings.TrimSuffix(hdr, " tag"))
		if v := a.req.p.Get(name); v != "" {
			x.evidence(a.req, "the request's %s: %s", name, v)
		} else {
			x.evidence(a.req, "the request has no %s header", name)
		}
		x.check("Check the %s header that %s sends%s.", hdr, a.req.m.From(), agentNote(a.req))
	}
}

func agentNote(m *msg) string {
	if ua := m.p.Get("User-Agent"); ua != "" {
		return " (User-Agent: " + ua + ")"
	}
	return ""
}

// warningText is the text of a Warning header: `399 siplens "the detail"`.
func warningText(w string) string {
	if i := strings.IndexByte(w, '"'); i >= 0 {
		return strings.Trim(w[i:], `"`)
	}
	return ""
}

func (x *explainer) loop() {
	a := x.a
	viaChain := func(m *msg) (string, int) {
		vias := m.p.Values("Via")
		hops := make([]string, len(vias))
		for i, v := range vias {
			sentBy, received, _ := trace.ViaSentBy(v)
			hops[i] = sentBy
			if received != "" {
				hops[i] += " (received " + received + ")"
			}
		}
		return strings.Join(hops, " <- "), len(vias)
	}
	chain, n := viaChain(a.req)
	if x.d.FinalCode == 483 {
		x.cause("The request arrived with Max-Forwards %s: it had used up its hops after passing %d hop(s). That is nearly always a routing loop between proxies that send it back to each other.",
			firstNonEmpty(a.req.p.Get("Max-Forwards"), "0"), n)
		x.evidence(a.req, "Max-Forwards: %s; Via chain (last hop first): %s", firstNonEmpty(a.req.p.Get("Max-Forwards"), "absent"), chain)
	} else {
		looped := x.loopedCopy()
		switch r := x.reason(); {
		case strings.Contains(r, "points back"):
			x.cause("The contact siplens would forward to points back at siplens itself, so the request would only come back here. %s", sentence(r))
			x.evidence(a.req, "Via chain (last hop first): %s", chain)
		case looped != nil:
			// siplens forwarded the request, and it came back: the copy that came back
			// carries the whole circle in its Vias.
			lchain, ln := viaChain(looped)
			via := "another hop"
			switch b := x.producerBranch(); {
			case b != nil:
				via = b.dest
			case len(x.a.branches) > 0:
				via = x.a.branches[0].dest
			case x.d.Producer.Contact != "":
				via = x.d.Producer.Contact // (the record holds the branch's answer, not its request)
			}
			x.cause("The request went round in a loop: siplens forwarded it to %s, and it came back to siplens from %s after %d hops, with siplens' own Via already in it, so the loop was stopped with 482.",
				via, looped.m.From(), ln-n)
			x.evidence(a.req, "Via chain as it first arrived (last hop first): %s", chain)
			x.evidence(looped, "Via chain as it came back (last hop first): %s", lchain)
		default:
			x.cause("The request came back to siplens unchanged: its Vias already hold siplens' own entry, so it has gone round in a loop.")
			x.evidence(a.req, "Via chain (last hop first): %s", chain)
		}
	}
	x.evidence(a.final, "%s", x.answerText())
	x.check("Follow the Via chain: find which proxy, forwarding rule or registered contact sends requests for %s back towards siplens.", x.callee())
}

// loopedCopy is the request of this attempt that came back to siplens after it forwarded
// it: the same method, CSeq and direction as the original, with more Vias. Of several
// copies, the one with the most Vias has gone round the furthest.
func (x *explainer) loopedCopy() *msg {
	a := x.a
	base := len(a.req.p.Values("Via"))
	var best *msg
	for _, m := range x.an.msgs {
		if m == a.req || m.retrans || !m.isRequest(a.req.p.Method) || m.m.Direction != x.an.dir || m.cseq != a.req.cseq {
			continue
		}
		if n := len(m.p.Values("Via")); n > base && (best == nil || n > len(best.p.Values("Via"))) {
			best = m
		}
	}
	return best
}

func (x *explainer) generic() {
	a := x.a
	f := a.final
	info := codes.Lookup(f.p.Code)
	switch b := x.producerBranch(); {
	case b != nil && b.final != nil:
		x.cause("%s answered %s and siplens passed it on. %s", x.d.Producer, f.p.Label(), info.Meaning)
		x.evidence(b.final, "%s", branchAnswerText(b, b.final))
	default:
		x.cause("%s answered %s. %s", capital(x.d.Producer.String()), f.p.Label(), firstNonEmpty(sentence(x.reason()), info.Meaning))
		x.evidence(f, "%s", x.answerText())
	}
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
