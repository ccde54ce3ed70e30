package analyze

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/siplens/siplens/diag"
)

// CallJSON is a call as `siplens analyze --json` writes it.
type CallJSON struct {
	CallID          string         `json:"call_id"`
	Start           time.Time      `json:"start"`
	End             time.Time      `json:"end"`
	Vantage         string         `json:"vantage"`
	VantageLabel    string         `json:"vantage_label"`
	Messages        int            `json:"messages"`
	Retransmissions int            `json:"retransmissions"`
	Related         []string       `json:"related,omitempty"`
	Open            bool           `json:"open,omitempty"`
	ProducerText    string         `json:"producer_text"`
	Diagnosis       diag.Diagnosis `json:"diagnosis"`
	Ladder          *diag.Ladder   `json:"ladder,omitempty"`
}

// JSON is the call for --json; the ladder is drawn when ladder is true.
func (c *Call) JSON(ladder bool, names map[string]string, verbose bool) CallJSON {
	out := CallJSON{CallID: c.ID, Start: c.Start, End: c.End, Vantage: c.Vantage, VantageLabel: c.VantageLabel,
		Messages: len(c.Trace.Messages), Retransmissions: c.Retransmissions, Related: c.Related, Open: c.Open,
		ProducerText: c.ProducerText(), Diagnosis: c.Diagnosis}
	if ladder {
		out.Ladder = c.Ladder(names, verbose)
	}
	return out
}

// WriteText writes the call's diagnosis for a terminal, as `siplens show` does for a
// live call, with where the capture saw it from.
func (c *Call) WriteText(w io.Writer) error {
	d := &c.Diagnosis
	b := &strings.Builder{}
	what := strings.TrimSpace(d.Method + " " + strings.TrimSpace(d.From+" -> "+d.To))
	if d.From == "" && d.To == "" {
		what = d.Method
	}
	fmt.Fprintf(b, "Call %s: %s\n", c.ID, what)
	fmt.Fprintf(b, "Seen:     %s, %s, %d messages", c.Start.Format("2006-01-02 15:04:05.000"),
		c.End.Sub(c.Start).Round(time.Millisecond), len(c.Trace.Messages))
	if c.Retransmissions > 0 {
		fmt.Fprintf(b, " (%d retransmitted)", c.Retransmissions)
	}
	fmt.Fprintf(b, ", from the point of view of %s\n", c.VantageLabel)
	fmt.Fprintf(b, "Outcome:  %s (%s)\n", d.Outcome.Text(), d.FinalText())
	if c.Open {
		b.WriteString("          (the call was still going when the input ended)\n")
	}
	diag.WriteWrapped(b, "Producer: ", "          ", c.ProducerText())
	d.WriteExplanation(b)
	if len(c.Related) > 0 {
		diag.WriteWrapped(b, "Other leg: ", "           ", strings.Join(c.Related, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
