package diag

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/siplens/siplens/trace"
)

// LadderOptions say how hosts are named on a ladder.
type LadderOptions struct {
	// Self lists siplens' own addresses, "ip:port" or "ip" for any port. They, and the
	// local address of every recorded message, are drawn as one column named "siplens".
	Self []string
	// Names gives hosts names: "10.0.0.5" (any port) or "10.0.0.5:5060" to "pbx". Hosts
	// with the same name share a column.
	Names map[string]string
	// SelfLabel, when set, names the self column instead of "siplens", and only the
	// addresses in Self belong to it. A call read from a capture has no siplens: its
	// record is taken from one host's point of view, and messages between two other
	// hosts have a "local" side that is not that host.
	SelfLabel string
	// Verbose also shows the decisions that only repeat what an arrow shows (a branch's
	// provisional and final answers, the relaying of a branch's answer).
	Verbose bool
}

// ParseNames reads host names written as "10.0.0.5=pbx" (a command-line flag, say).
func ParseNames(pairs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range pairs {
		addr, name, ok := strings.Cut(p, "=")
		addr, name = strings.TrimSpace(addr), strings.TrimSpace(name)
		if !ok || addr == "" || name == "" {
			return nil, fmt.Errorf("host name %q: want ADDRESS=NAME, e.g. 10.0.0.5=pbx", p)
		}
		out[addr] = name
	}
	return out, nil
}

// Ladder is one call drawn as a sequence diagram: a column per host, an arrow per
// message, notes for siplens' decisions. It is the model every rendering draws, and the
// JSON the web page reads.
type Ladder struct {
	CallID string    `json:"call_id"`
	Start  time.Time `json:"start"`
	// Participants are the columns, left to right.
	Participants []Participant `json:"participants"`
	Arrows       []Arrow       `json:"arrows"`
	Notes        []Note        `json:"notes"`
}

// Participant is one column.
type Participant struct {
	// ID is a short stable name ("p1") for diagrams that need one.
	ID        string   `json:"id"`
	Label     string   `json:"label"`
	Addresses []string `json:"addresses"`
	Self      bool     `json:"self"`
}

// Arrow is one message.
type Arrow struct {
	// Row orders arrows and notes top to bottom.
	Row  int `json:"row"`
	From int `json:"from"` // index in Participants
	To   int `json:"to"`
	// Label is the method or the code and phrase, "(SDP)" when it carries a session
	// description.
	Label  string    `json:"label"`
	Time   time.Time `json:"time"`
	Offset Micros    `json:"offset_us"`
	// Retransmission marks a copy of an earlier message.
	Retransmission bool `json:"retransmission"`
	// Message is the index of the message in the call's sorted Messages.
	Message   int    `json:"message"`
	Request   bool   `json:"request"`
	Transport string `json:"transport"`
}

// Note is one decision of siplens, drawn over its column.
type Note struct {
	Row    int       `json:"row"`
	Over   int       `json:"over"` // index in Participants
	Text   string    `json:"text"`
	Time   time.Time `json:"time"`
	Offset Micros    `json:"offset_us"`
}

// Micros is a duration written in JSON as whole microseconds.
type Micros time.Duration

func (m Micros) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatInt(time.Duration(m).Microseconds(), 10)), nil
}

func (m *Micros) UnmarshalJSON(b []byte) error {
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("offset_us: %w", err)
	}
	*m = Micros(time.Duration(n) * time.Microsecond)
	return nil
}

// BuildLadder lays a call out. The call is not changed.
func BuildLadder(call *trace.Call, opts LadderOptions) *Ladder {
	c := call.Clone()
	c.Sort()
	an := analyze(c)
	l := &Ladder{CallID: call.CallID, Participants: []Participant{}, Arrows: []Arrow{}, Notes: []Note{}}
	tl := c.Timeline()
	if len(tl) > 0 {
		l.Start = tl[0].Time()
	}
	hosts := newHostNames(c, opts)
	index := map[string]int{}
	column := func(addr string) int {
		label, self := hosts.label(addr)
		i, ok := index[label]
		if !ok {
			i = len(l.Participants)
			index[label] = i
			l.Participants = append(l.Participants, Participant{ID: "p" + strconv.Itoa(i+1), Label: label, Self: self})
		}
		p := &l.Participants[i]
		if !contains(p.Addresses, addr) {
			p.Addresses = append(p.Addresses, addr)
		}
		return i
	}
	selfColumn := -1
	msgIndex := 0
	lastNote := ""
	for _, e := range tl {
		row := len(l.Arrows) + len(l.Notes)
		if e.Message != nil {
			m := an.msgs[msgIndex]
			msgIndex++
			from, to := column(e.Message.From()), column(e.Message.To())
			local := to
			if e.Message.Direction == trace.Out {
				local = from
			}
			if selfColumn < 0 {
				selfColumn = local
			}
			l.Arrows = append(l.Arrows, Arrow{Row: row, From: from, To: to, Label: arrowLabel(m), Time: e.Time(),
				Offset: Micros(e.Time().Sub(l.Start)), Retransmission: m.retrans, Message: m.index,
				Request: m.ok && m.p.Request, Transport: e.Message.Transport})
			continue
		}
		text := noteText(e.Event, opts.Verbose)
		if text == "" || text == lastNote {
			continue
		}
		lastNote = text
		if selfColumn < 0 {
			selfColumn = column(hosts.selfName())
		}
		l.Notes = append(l.Notes, Note{Row: row, Over: selfColumn, Text: text, Time: e.Time(), Offset: Micros(e.Time().Sub(l.Start))})
	}
	return l
}

const selfLabel = "siplens"

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func arrowLabel(m *msg) string {
	if !m.ok {
		return "(unreadable)"
	}
	label := m.p.Label()
	if m.p.HasSDP() {
		label += " (SDP)"
	}
	return label
}

// hostNames labels addresses.
type hostNames struct {
	self      map[string]bool // "ip:port" and "ip"
	names     map[string]string
	selfLabel string
}

func newHostNames(c *trace.Call, opts LadderOptions) *hostNames {
	h := &hostNames{self: map[string]bool{}, names: opts.Names, selfLabel: opts.SelfLabel}
	for _, s := range opts.Self {
		h.self[s] = true
	}
	if opts.SelfLabel == "" {
		for _, m := range c.Messages {
			h.self[m.Local] = true
		}
	}
	return h
}

// selfName is the self column's label.
func (h *hostNames) selfName() string {
	if h.selfLabel != "" {
		return h.selfLabel
	}
	return selfLabel
}

func (h *hostNames) label(addr string) (string, bool) {
	ip := addr
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		ip = ap.Addr().String()
	}
	if name, ok := h.names[addr]; ok {
		return name, false
	}
	if h.self[addr] || h.self[ip] {
		return h.selfName(), true
	}
	if name, ok := h.names[ip]; ok {
		return name, false
	}
	return addr, false
}

// noteText is how a decision reads on the ladder; "" leaves it out.
func noteText(ev *trace.Event, verbose bool) string {
	reason := func(s string) string {
		if ev.Reason == "" {
			return s
		}
		if s == "" {
			return ev.Reason
		}
		return s + ": " + ev.Reason
	}
	switch ev.Kind {
	case trace.KindAnswer:
		if !verbose && (ev.Code < 200 || strings.HasPrefix(ev.Producer, "branch ")) {
			return "" // the relayed answer is an arrow already
		}
		if ev.Code == 0 {
			return reason(ev.Producer + " dropped the request")
		}
		return reason(fmt.Sprintf("%s answers %d", ev.Producer, ev.Code))
	case trace.KindACL:
		return reason(fmt.Sprintf("acl: %s by rule %s", ev.Verdict, ev.Rule))
	case trace.KindRateLimit:
		s := fmt.Sprintf("ratelimit: %s", ev.Verdict)
		if ev.Rule != "" {
			s += " (" + ev.Rule + ")"
		}
		if ev.RetryAfter > 0 {
			s += fmt.Sprintf(", retry after %d s", ev.RetryAfter)
		}
		return s
	case trace.KindAuth:
		s := "auth: " + string(ev.Verdict)
		if ev.User != "" {
			s += " (" + ev.User + ")"
		}
		return s
	case trace.KindLocate:
		switch ev.Verdict {
		case trace.Found:
			return fmt.Sprintf("locate: %d contact(s) for %s", ev.Count, ev.User)
		case trace.Forwarded:
			return fmt.Sprintf("locate: %s forwards to %s", ev.User, ev.Target)
		}
		s := "locate: " + string(ev.Verdict)
		if ev.User != "" {
			s += " (" + ev.User + ")"
		}
		return s
	case trace.KindBranch:
		switch ev.Verdict {
		case trace.Opened:
			return fmt.Sprintf("branch %d opened: %s at %s", ev.Branch, ev.Target, ev.Destination)
		case trace.Failed:
			return reason(fmt.Sprintf("branch %d failed", ev.Branch))
		}
		if !verbose {
			return ""
		}
		return reason(fmt.Sprintf("branch %d: %s %d", ev.Branch, ev.Verdict, ev.Code))
	case trace.KindTimer:
		s := fmt.Sprintf("%s fired", strings.Replace(string(ev.Verdict), "timer", "Timer", 1))
		if ev.Branch > 0 {
			s += fmt.Sprintf(" on branch %d", ev.Branch)
		}
		if ev.Duration > 0 {
			s += " after " + seconds(ev.Duration)
		}
		return s
	case trace.KindCancel:
		return fmt.Sprintf("cancel branch %d (%s)", ev.Branch, ev.Verdict)
	case trace.KindBest:
		return reason(fmt.Sprintf("best answer: branch %d, %d", ev.Branch, ev.Code))
	}
	s := string(ev.Kind)
	if ev.Producer != "" {
		s = ev.Producer
	}
	if ev.Verdict != "" {
		s += ": " + string(ev.Verdict)
	}
	return reason(s)
}

// WriteJSON writes the ladder as indented JSON.
func (l *Ladder) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return fmt.Errorf("encode ladder of %s: %w", l.CallID, err)
	}
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write ladder of %s: %w", l.CallID, err)
	}
	return nil
}

// row is an arrow or a note, in order.
type row struct {
	arrow *Arrow
	note  *Note
}

func (l *Ladder) rows() []row {
	out := make([]row, 0, len(l.Arrows)+len(l.Notes))
	for i := range l.Arrows {
		out = append(out, row{arrow: &l.Arrows[i]})
	}
	for i := range l.Notes {
		out = append(out, row{note: &l.Notes[i]})
	}
	slices.SortStableFunc(out, func(a, b row) int { return cmp.Compare(a.index(), b.index()) })
	return out
}

func (r row) index() int {
	if r.arrow != nil {
		return r.arrow.Row
	}
	return r.note.Row
}

// valid reports whether every arrow and note names an existing column, so that a
// ladder read back from JSON cannot make a renderer index out of range.
func (l *Ladder) valid() error {
	n := len(l.Participants)
	for _, a := range l.Arrows {
		if a.From < 0 || a.From >= n || a.To < 0 || a.To >= n {
			return fmt.Errorf("ladder of %s: arrow %q between columns %d and %d of %d", l.CallID, a.Label, a.From, a.To, n)
		}
	}
	for _, note := range l.Notes {
		if note.Over < 0 || note.Over >= n {
			return fmt.Errorf("ladder of %s: note %q over column %d of %d", l.CallID, note.Text, note.Over, n)
		}
	}
	return nil
}

// offset writes a time relative to the start: "+1.250".
func offset(d Micros) string {
	return fmt.Sprintf("+%.3f", time.Duration(d).Seconds())
}
