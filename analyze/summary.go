package analyze

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/siplens/siplens/capture"
	"github.com/siplens/siplens/codes"
	"github.com/siplens/siplens/diag"
	"github.com/siplens/siplens/trace"
)

// Summary is the whole input at a glance.
type Summary struct {
	// First and Last are the times of the first and last SIP message.
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// Packets counts frames or log entries read; Messages the SIP messages among them.
	Packets  int `json:"packets"`
	Messages int `json:"messages"`
	// HEP counts the messages that came inside HEP3 packets.
	HEP int `json:"hep,omitempty"`
	// Requests counts requests by method, Responses responses by code, every copy
	// included: the same counting as `tshark -z sip,stat`. Messages carried inside
	// HEP3 are counted apart, in HEPRequests and HEPResponses: tshark (4.0) does not
	// decode HEP3, and a capture may hold both a message and its HEP copy.
	Requests     map[string]int `json:"requests"`
	Responses    map[int]int    `json:"responses"`
	HEPRequests  map[string]int `json:"hep_requests,omitempty"`
	HEPResponses map[int]int    `json:"hep_responses,omitempty"`
	// Calls counts the Call-IDs whose initial request is an INVITE, by outcome; Other
	// the rest (REGISTER, OPTIONS, ...) by method.
	Calls    int                   `json:"calls"`
	Outcomes map[trace.Outcome]int `json:"outcomes"`
	Other    map[string]int        `json:"other"`
	// Failures are the most frequent reasons calls failed.
	Failures []Failure `json:"failures"`
	// Retransmissions counts messages repeated byte for byte, by label ("INVITE",
	// "200 OK"), and in how many calls.
	Retransmissions      int            `json:"retransmissions"`
	RetransmittedLabels  map[string]int `json:"retransmitted"`
	CallsWithRetransmits int            `json:"calls_with_retransmissions"`
	// Correlated counts calls tied to another leg across a B2BUA.
	Correlated int `json:"correlated"`
	// Open counts calls still going when the input ended.
	Open int `json:"open"`
	// Problems counts input that could not be read, by kind.
	Problems capture.Problems `json:"problems"`

	failures map[failureKey]*Failure
}

// Failure is one reason calls failed: the final answer and who sent it.
type Failure struct {
	Code     int           `json:"code"`
	Phrase   string        `json:"phrase"`
	Producer string        `json:"producer"`
	Outcome  trace.Outcome `json:"outcome"`
	Count    int           `json:"count"`
	// Hosts are the addresses that sent it (the first few), when they were many phones.
	Hosts []string `json:"hosts,omitempty"`
	// Example is one Call-ID, to look at with --call.
	Example string `json:"example"`
	// Cause is the diagnosis of the example.
	Cause string `json:"cause"`
}

type failureKey struct {
	code     int
	producer string
}

func newSummary() *Summary {
	return &Summary{Requests: map[string]int{}, Responses: map[int]int{}, HEPRequests: map[string]int{}, HEPResponses: map[int]int{},
		Outcomes: map[trace.Outcome]int{},
		Other:    map[string]int{}, RetransmittedLabels: map[string]int{}, Problems: capture.Problems{},
		failures: map[failureKey]*Failure{}}
}

// count reads one message into the counts.
func (s *Summary) count(r capture.Record, f facts) {
	s.Messages++
	requests, responses := s.Requests, s.Responses
	if r.Origin == "HEP" {
		s.HEP++
		requests, responses = s.HEPRequests, s.HEPResponses
	}
	if s.First.IsZero() || r.Time.Before(s.First) {
		s.First = r.Time
	}
	if r.Time.After(s.Last) {
		s.Last = r.Time
	}
	switch {
	case f.request:
		requests[f.method]++
	case f.code > 0:
		responses[f.code]++
	default:
		s.Problems.Add("unreadable SIP start line")
	}
}

// call adds a finished call.
func (s *Summary) call(c *Call) {
	d := &c.Diagnosis
	if c.Retransmissions > 0 {
		s.CallsWithRetransmits++
		s.Retransmissions += c.Retransmissions
		for _, label := range retransmittedLabels(c) {
			s.RetransmittedLabels[label]++
		}
	}
	if d.Method != "INVITE" {
		s.Other[cmp.Or(d.Method, "(no request)")]++
		return
	}
	// Printed under "Calls (INVITE)": an unanswered OPTIONS is not a call still going.
	if c.Open {
		s.Open++
	}
	if len(c.Related) > 0 {
		s.Correlated++
	}
	s.Calls++
	s.Outcomes[d.Outcome]++
	if !Failed(d) {
		return
	}
	// Answers from phones are grouped by code whatever the phone: the question is which
	// answer fails calls, then where.
	who := c.ProducerText()
	host := ""
	if d.Producer.Kind == diag.ByBranch {
		who, host = "the phones the calls were forwarded to", d.Producer.Address
	}
	k := failureKey{d.FinalCode, who}
	f := s.failures[k]
	if f == nil {
		f = &Failure{Code: d.FinalCode, Phrase: d.Phrase, Producer: who, Outcome: d.Outcome, Example: c.ID, Cause: d.Cause}
		s.failures[k] = f
	}
	f.Count++
	if host != "" && len(f.Hosts) < 3 && !slices.Contains(f.Hosts, host) {
		f.Hosts = append(f.Hosts, host)
	}
}

// retransmittedLabels names the copies in a call, one label per repeated message.
func retransmittedLabels(c *Call) []string {
	type key struct{ from, to, raw string }
	seen := map[key]bool{}
	var out []string
	for _, m := range c.Trace.Messages {
		k := key{m.From(), m.To(), string(m.Raw)}
		if seen[k] {
			f := readFacts(m.Raw)
			if f.request {
				out = append(out, f.method)
			} else {
				out = append(out, fmt.Sprintf("%d %s", f.code, f.phrase))
			}
			continue
		}
		seen[k] = true
	}
	return out
}

// Failed says whether a call failed: no answer, or a final answer of 300 or more,
// except the caller's own CANCEL.
func Failed(d *diag.Diagnosis) bool {
	return d.Outcome != trace.OutcomeAnswered && d.Outcome != trace.OutcomeCancelled
}

// finish sorts the failures; called before the summary is shown.
func (s *Summary) finish(top int) {
	s.Failures = s.Failures[:0]
	for _, f := range s.failures {
		s.Failures = append(s.Failures, *f)
	}
	slices.SortFunc(s.Failures, func(a, b Failure) int {
		return cmp.Or(b.Count-a.Count, a.Code-b.Code, strings.Compare(a.Producer, b.Producer))
	})
	if len(s.Failures) > top {
		s.Failures = s.Failures[:top]
	}
}

// Finish completes the summary with the reader's counts; call it once, at the end.
func (s *Summary) Finish(packets int, problems capture.Problems) {
	s.Packets = packets
	for k, v := range problems {
		s.Problems[k] += v
	}
	s.finish(10)
}

// WriteText writes the summary for a terminal.
func (s *Summary) WriteText(w io.Writer) error {
	b := &strings.Builder{}
	if s.Messages == 0 {
		fmt.Fprintf(b, "No SIP messages found (%d packets read).\n", s.Packets)
	} else {
		fmt.Fprintf(b, "Capture:  %s to %s (%s), %d packets, %d SIP messages\n",
			s.First.Format("2006-01-02 15:04:05.000"), s.Last.Format("15:04:05.000"), s.Last.Sub(s.First).Round(time.Millisecond),
			s.Packets, s.Messages)
		if s.HEP > 0 {
			fmt.Fprintf(b, "          %d of the messages came inside HEP3 packets\n", s.HEP)
		}
	}
	if s.Calls > 0 {
		fmt.Fprintf(b, "\nCalls (INVITE): %d\n", s.Calls)
		tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
		for _, o := range trace.Outcomes {
			if n := s.Outcomes[o]; n > 0 {
				fmt.Fprintf(tw, "  %d\t  %s\n", n, o.Text())
			}
		}
		tw.Flush()
		if s.Correlated > 0 {
			fmt.Fprintf(b, "  %s tied to another leg across a B2BUA (X-CID or Session-ID)\n", plural(s.Correlated, "call", "calls"))
		}
		if s.Open > 0 {
			fmt.Fprintf(b, "  %s still going when the capture ended\n", plural(s.Open, "call", "calls"))
		}
	}
	if len(s.Other) > 0 {
		fmt.Fprintf(b, "\nOther transactions and dialogs:")
		for _, m := range sortedKeys(s.Other, func(a, c string) int { return cmp.Or(s.Other[c]-s.Other[a], strings.Compare(a, c)) }) {
			fmt.Fprintf(b, " %s %d", m, s.Other[m])
		}
		b.WriteString("\n")
	}
	if len(s.Requests) > 0 || len(s.Responses) > 0 {
		b.WriteString("\nRequests by method:\n")
		writeCounts(b, s.Requests, func(a, c string) int { return cmp.Or(s.Requests[c]-s.Requests[a], strings.Compare(a, c)) },
			func(m string) string { return m })
		b.WriteString("Responses by code:\n")
		writeCounts(b, s.Responses, func(a, c int) int { return a - c },
			func(c int) string { return fmt.Sprintf("%d %s", c, codes.Lookup(c).Reason) })
	}
	if s.HEP > 0 {
		b.WriteString("\nInside HEP3 packets, requests by method:\n")
		writeCounts(b, s.HEPRequests, func(a, c string) int { return cmp.Or(s.HEPRequests[c]-s.HEPRequests[a], strings.Compare(a, c)) },
			func(m string) string { return m })
		b.WriteString("Inside HEP3 packets, responses by code:\n")
		writeCounts(b, s.HEPResponses, func(a, c int) int { return a - c },
			func(c int) string { return fmt.Sprintf("%d %s", c, codes.Lookup(c).Reason) })
	}
	if len(s.Failures) > 0 {
		b.WriteString("\nTop failure causes:\n")
		for _, f := range s.Failures {
			answer := "no final answer"
			if f.Code != 0 {
				answer = fmt.Sprintf("%d %s from %s", f.Code, cmp.Or(f.Phrase, codes.Lookup(f.Code).Reason), f.Producer)
			}
			if len(f.Hosts) > 0 {
				answer += " (" + strings.Join(f.Hosts, ", ")
				if len(f.Hosts) == 3 {
					answer += ", ..."
				}
				answer += ")"
			}
			fmt.Fprintf(b, "  %5d  %s\n", f.Count, answer)
			fmt.Fprintf(b, "         e.g. %s: %s\n", f.Example, clip(f.Cause, 160))
		}
	}
	if s.Retransmissions > 0 {
		fmt.Fprintf(b, "\nRetransmissions: %d in %s (", s.Retransmissions, plural(s.CallsWithRetransmits, "call", "calls"))
		for i, l := range sortedKeys(s.RetransmittedLabels, func(a, c string) int {
			return cmp.Or(s.RetransmittedLabels[c]-s.RetransmittedLabels[a], strings.Compare(a, c))
		}) {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(b, "%s: %d", l, s.RetransmittedLabels[l])
		}
		b.WriteString(")\n")
	}
	if s.Problems.Total() > 0 {
		b.WriteString("\nNot read:\n")
		for _, k := range s.Problems.Kinds() {
			fmt.Fprintf(b, "  %7d  %s\n", s.Problems[k], k)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteStats writes the counts alone, as `tshark -z sip,stat` would count them.
func (s *Summary) WriteStats(w io.Writer) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "SIP messages: %d\n\nResponses by code:\n", s.Messages)
	writeCounts(b, s.Responses, func(a, c int) int { return a - c },
		func(c int) string { return fmt.Sprintf("SIP %d %s", c, codes.Lookup(c).Reason) })
	b.WriteString("\nRequests by method:\n")
	writeCounts(b, s.Requests, func(a, c string) int { return strings.Compare(a, c) }, func(m string) string { return m })
	if s.HEP > 0 {
		fmt.Fprintf(b, "\nInside HEP3 packets (%d messages; tshark does not decode HEP3):\nResponses by code:\n", s.HEP)
		writeCounts(b, s.HEPResponses, func(a, c int) int { return a - c },
			func(c int) string { return fmt.Sprintf("SIP %d %s", c, codes.Lookup(c).Reason) })
		b.WriteString("Requests by method:\n")
		writeCounts(b, s.HEPRequests, func(a, c string) int { return strings.Compare(a, c) }, func(m string) string { return m })
	}
	if n := damaged(s.Problems); n > 0 {
		fmt.Fprintf(b, "\n%s could not be read (see analyze without --stats)\n", plural(n, "packet", "packets"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func damaged(p capture.Problems) int {
	n := 0
	for k, v := range p {
		if capture.Damaged(k) {
			n += v
		}
	}
	return n
}

func writeCounts[K comparable](b *strings.Builder, m map[K]int, order func(a, c K) int, label func(K) string) {
	for _, k := range sortedKeys(m, order) {
		fmt.Fprintf(b, "  %-36s %7d\n", label(k), m[k])
	}
}

func sortedKeys[K comparable](m map[K]int, order func(a, b K) int) []K {
	ks := slices.Collect(maps.Keys(m))
	slices.SortFunc(ks, order)
	return ks
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
