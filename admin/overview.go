package admin

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/siplens/siplens/codes"
	"github.com/siplens/siplens/trace"
)

// Counters is what the SIP server has in progress right now, as it counts it itself.
type Counters struct {
	// Calls is the number of calls set up or being set up.
	Calls int `json:"calls"`
	// Transactions is the number of open SIP transactions.
	Transactions int `json:"transactions"`
}

// Overview is the answer of GET /api/overview: the traffic of a recent window, as
// figures an operator compares from day to day. Only calls (INVITE) count towards the
// call figures; ResponseClasses counts every recorded request (REGISTER, OPTIONS, ...).
// docs/web.md defines each figure.
type Overview struct {
	From  time.Time `json:"from"`
	Until time.Time `json:"until"`
	// Window and Bucket are in seconds: the span looked at and the width of one bar of
	// PerBucket.
	Window int64 `json:"window_s"`
	Bucket int64 `json:"bucket_s"`
	// Calls is the number of INVITE calls that started in the window; InProgress those
	// of them without a final answer yet.
	Calls      int `json:"calls"`
	InProgress int `json:"in_progress"`
	// Seizures are the calls with a final answer: the denominator of ASR and NER.
	Seizures int `json:"seizures"`
	Answered int `json:"answered"`
	// Effective are the calls that reached the user (Answered plus the user's own "no":
	// busy, declined, unavailable, cancelled while ringing): NER's numerator.
	Effective int `json:"effective"`
	// ASR and NER are ratios from 0 to 1; null when there was no seizure.
	ASR *float64 `json:"asr"`
	NER *float64 `json:"ner"`
	// Outcomes counts the calls by outcome.
	Outcomes map[trace.Outcome]int `json:"outcomes"`
	// PerBucket counts the calls by outcome, one entry per Bucket seconds, oldest first.
	PerBucket []Bucket `json:"per_bucket"`
	// ResponseClasses counts the final answers of every recorded request by class
	// ("2xx"), "none" for requests without one; Codes counts them by code.
	ResponseClasses map[string]int `json:"response_classes"`
	Codes           []CodeCount    `json:"codes"`
	// PDD is the post-dial delay: from the caller's INVITE to the first 18x sent back.
	PDD PDD `json:"pdd"`
	// Active is what is in progress now.
	Active Active `json:"active"`
	// Truncated is true when the window held more records than one overview reads
	// (OverviewMaxCalls): the figures then cover the most recent ones.
	Truncated bool `json:"truncated"`
}

// Bucket is one bar of the calls chart.
type Bucket struct {
	Start    time.Time             `json:"start"`
	Outcomes map[trace.Outcome]int `json:"outcomes"`
}

// CodeCount is how often a final code was answered.
type CodeCount struct {
	Code   int    `json:"code"`
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// PDD summarises post-dial delays, in milliseconds, over the most recent calls whose
// record was read (at most OverviewMaxRecords).
type PDD struct {
	Samples int      `json:"samples"`
	Median  *float64 `json:"median_ms"`
	P90     *float64 `json:"p90_ms"`
	Max     *float64 `json:"max_ms"`
}

// Active is what is in progress. Calls and Transactions come from the server's own
// counters when it gives them (Source "server"); otherwise Calls is estimated from the
// records (Source "records") and Transactions is null.
type Active struct {
	Calls        int    `json:"calls"`
	Transactions *int   `json:"transactions"`
	Source       string `json:"source"`
	// SettingUp and Established split the estimate from the records: INVITEs without
	// a final answer that were active within SetupHorizon, and answered calls in the
	// window whose BYE is not recorded.
	SettingUp   int `json:"setting_up"`
	Established int `json:"established"`
}

// Bounds of one overview, so that a large store cannot make it slow.
const (
	// OverviewMaxCalls is the most call summaries an overview reads.
	OverviewMaxCalls = 20000
	// OverviewMaxRecords is the most full call records an overview reads (for PDD and
	// the calls still up).
	OverviewMaxRecords = 200
	// MaxWindow is the longest window an overview covers.
	MaxWindow = 24 * time.Hour
	// SetupHorizon: an INVITE without a final answer whose record has been quiet for
	// longer than this no longer counts as being set up (Timer C, 3 minutes, has ended it
	// or the record is incomplete).
	SetupHorizon = 3*time.Minute + 5*time.Second
)

// nerOutcomes are the outcomes where the network did its job and the user decided
// (ITU-T E.425's "answer, user busy, ring no answer, terminal rejection"); see
// docs/web.md.
var nerOutcomes = []trace.Outcome{trace.OutcomeAnswered, trace.OutcomeBusy, trace.OutcomeDeclined,
	trace.OutcomeUnavailable, trace.OutcomeCancelled}

// overview: GET /api/overview.
func (a *api) overview(w http.ResponseWriter, r *http.Request) {
	params, err := checkParams(r.URL.Query(), "window")
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	window := time.Hour
	if s := params.Get("window"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < time.Minute || d > MaxWindow {
			writeError(w, http.StatusBadRequest, "window: %q is not a duration from 1m to %s (15m, 1h, 24h)", s, MaxWindow)
			return
		}
		window = d
	}
	if a.o.Traces == nil {
		writeError(w, http.StatusServiceUnavailable, "call recording is off (trace.enabled: false in the server's config)")
		return
	}
	o, err := buildOverview(r.Context(), a.o.Traces, a.o.Now(), window)
	if err != nil {
		a.storeError(w, r, "overview", err)
		return
	}
	if a.o.Counters != nil {
		c := a.o.Counters()
		o.Active.Calls, o.Active.Transactions, o.Active.Source = c.Calls, &c.Transactions, "server"
	}
	writeJSON(w, http.StatusOK, o)
}

func buildOverview(ctx context.Context, sink trace.Sink, now time.Time, window time.Duration) (*Overview, error) {
	from := now.Add(-window)
	bucket := max(time.Minute, (window / 120).Truncate(time.Minute))
	o := &Overview{
		From: from, Until: now, Window: int64(window / time.Second), Bucket: int64(bucket / time.Second),
		Outcomes: map[trace.Outcome]int{}, ResponseClasses: map[string]int{}, Codes: []CodeCount{},
		Active: Active{Source: "records"},
	}
	// Bars start on whole buckets, so that the chart does not shift by seconds on each
	// refresh.
	first := from.Truncate(bucket)
	for t := first; !t.After(now); t = t.Add(bucket) {
		o.PerBucket = append(o.PerBucket, Bucket{Start: t, Outcomes: map[trace.Outcome]int{}})
	}
	list, err := sink.Calls(ctx, trace.Query{Since: from, Limit: OverviewMaxCalls + 1})
	if err != nil {
		return nil, err
	}
	if len(list) > OverviewMaxCalls {
		list, o.Truncated = list[:OverviewMaxCalls], true
	}
	codeCounts := map[int]int{}
	var invites []trace.Summary // newest first, as listed
	for _, s := range list {
		if s.Code >= 100 {
			o.ResponseClasses[fmt.Sprintf("%dxx", s.Code/100)]++
			codeCounts[s.Code]++
		} else {
			o.ResponseClasses["none"]++
		}
		if s.Method != "INVITE" {
			continue
		}
		invites = append(invites, s)
		o.Calls++
		o.Outcomes[s.Outcome]++
		if i := int(s.First.Sub(first) / bucket); i >= 0 && i < len(o.PerBucket) {
			o.PerBucket[i].Outcomes[s.Outcome]++
		}
		if s.Code < 200 {
			o.InProgress++
			if now.Sub(s.Last) <= SetupHorizon {
				o.Active.SettingUp++
			}
			continue
		}
		o.Seizures++
		if s.Outcome == trace.OutcomeAnswered {
			o.Answered++
		}
		if slices.Contains(nerOutcomes, s.Outcome) {
			o.Effective++
		}
	}
	if o.Seizures > 0 {
		asr := float64(o.Answered) / float64(o.Seizures)
		ner := float64(o.Effective) / float64(o.Seizures)
		o.ASR, o.NER = &asr, &ner
	}
	for code, n := range codeCounts {
		o.Codes = append(o.Codes, CodeCount{Code: code, Reason: codes.Lookup(code).Reason, Count: n})
	}
	sort.Slice(o.Codes, func(i, j int) bool {
		if o.Codes[i].Count != o.Codes[j].Count {
			return o.Codes[i].Count > o.Codes[j].Count
		}
		return o.Codes[i].Code < o.Codes[j].Code
	})

	// The full records of the most recent calls: post-dial delay, and whether answered
	// calls are still up.
	var delays []time.Duration
	for i, s := range invites {
		if i == OverviewMaxRecords {
			break
		}
		c, err := sink.Call(ctx, s.CallID)
		if err != nil {
			continue // pruned meanwhile
		}
		f := callFacts(c)
		if f.pddOK {
			delays = append(delays, f.pdd)
		}
		if s.Outcome == trace.OutcomeAnswered && !f.bye {
			o.Active.Established++
		}
	}
	o.Active.Calls = o.Active.SettingUp + o.Active.Established
	o.PDD = pddStats(delays)
	return o, nil
}

// facts are what the overview reads from a full record.
type facts struct {
	pdd   time.Duration
	pddOK bool
	bye   bool
}

// callFacts finds the caller's first INVITE (a request siplens received without a To
// tag), the first 18x siplens sent back for that Call-ID, and whether a BYE was seen.
func callFacts(c *trace.Call) facts {
	var f facts
	var invite time.Time
	// Sinks return records sorted (trace.Sink.Call).
	for i := range c.Messages {
		m := &c.Messages[i]
		p, err := m.Parse()
		if err != nil {
			continue
		}
		_, cseqMethod := p.CSeq()
		switch {
		case p.Request && p.Method == "BYE":
			f.bye = true
		case p.Request && p.Method == "INVITE" && m.Direction == trace.In && invite.IsZero() && p.ToTag() == "":
			invite = m.Time
		case !p.Request && m.Direction == trace.Out && !invite.IsZero() && !f.pddOK &&
			p.Code >= 180 && p.Code < 190 && cseqMethod == "INVITE":
			f.pdd, f.pddOK = m.Time.Sub(invite), true
		}
	}
	return f
}

func pddStats(d []time.Duration) PDD {
	p := PDD{Samples: len(d)}
	if len(d) == 0 {
		return p
	}
	slices.Sort(d)
	ms := func(x time.Duration) *float64 {
		v := float64(x.Microseconds()) / 1000
		return &v
	}
	// Nearest rank: the smallest sample with at least q of the samples at or below it.
	rank := func(q float64) time.Duration {
		i := int(float64(len(d))*q+0.999999) - 1
		return d[min(max(i, 0), len(d)-1)]
	}
	p.Median, p.P90, p.Max = ms(rank(0.5)), ms(rank(0.9)), ms(d[len(d)-1])
	return p
}

// CodeInfo is one entry of GET /api/codes: what the knowledge base says about a code.
type CodeInfo struct {
	Code      int      `json:"code"`
	Reason    string   `json:"reason"`
	Class     int      `json:"class"`
	ClassName string   `json:"class_name"`
	RFC       string   `json:"rfc"`
	Meaning   string   `json:"meaning"`
	Causes    []string `json:"causes"`
	Checks    []string `json:"checks"`
	Retry     string   `json:"retry"`
	Known     bool     `json:"known"`
}

// codeList: GET /api/codes?q=... — every registered code, or those matching q: a
// number (480, or a class such as 4xx) or words the meaning and causes contain.
func (a *api) codeList(w http.ResponseWriter, r *http.Request) {
	params, err := checkParams(r.URL.Query(), "q")
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	q := params.Get("q")
	if len(q) > 200 {
		writeError(w, http.StatusBadRequest, "q: longer than 200 characters")
		return
	}
	var infos []codes.Info
	switch n, err := strconv.Atoi(q); {
	case q == "":
		infos = codes.All()
	case err == nil && n >= 100 && n <= 699:
		// An exact code always answers, registered or not (RFC 3261 8.1.3.2 says how to
		// treat an unknown one), followed by the other codes that mention it.
		infos = []codes.Info{codes.Lookup(n)}
		for _, i := range codes.Search(q) {
			if i.Code != n {
				infos = append(infos, i)
			}
		}
	case len(q) == 3 && q[0] >= '1' && q[0] <= '6' && (q[1:] == "xx" || q[1:] == "XX"):
		for _, i := range codes.All() {
			if i.Class == int(q[0]-'0') {
				infos = append(infos, i)
			}
		}
	default:
		infos = codes.Search(q)
	}
	out := make([]CodeInfo, 0, len(infos))
	for _, i := range infos {
		out = append(out, CodeInfo{Code: i.Code, Reason: i.Reason, Class: i.Class, ClassName: codes.ClassName(i.Class),
			RFC: i.RFC, Meaning: i.Meaning, Causes: nonNil(i.Causes), Checks: nonNil(i.Checks), Retry: i.Retry, Known: i.Known})
	}
	writeJSON(w, http.StatusOK, out)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
