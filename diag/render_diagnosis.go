package diag

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/siplens/siplens/codes"
)

// WriteText writes the diagnosis for a terminal, wrapped at 80 columns.
func (d Diagnosis) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	what := d.Method
	if d.From != "" || d.To != "" {
		what += " " + d.From + " -> " + d.To
	}
	fmt.Fprintf(bw, "Call %s: %s\n", d.CallID, strings.TrimSpace(what))
	fmt.Fprintf(bw, "Outcome:  %s (%s)\n", d.Outcome.Text(), d.FinalText())
	WriteWrapped(bw, "Producer: ", "          ", d.Producer.String())
	d.WriteExplanation(bw)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write diagnosis of %s: %w", d.CallID, err)
	}
	return nil
}

// FinalText is the final answer as "486 Busy Here", or "none".
func (d Diagnosis) FinalText() string {
	if d.FinalCode == 0 {
		return "none"
	}
	return fmt.Sprintf("%d %s", d.FinalCode, firstNonEmpty(d.Phrase, codes.Lookup(d.FinalCode).Reason))
}

// WriteExplanation writes the cause, the evidence and the checks, wrapped at 80
// columns: the part of WriteText that siplens analyze shares for captured calls.
func (d Diagnosis) WriteExplanation(w io.StringWriter) {
	WriteWrapped(w, "Cause:    ", "          ", d.Cause)
	if len(d.Evidence) > 0 {
		w.WriteString("Evidence:\n")
		for _, e := range d.Evidence {
			text := e.Text
			if e.Message >= 0 {
				text += fmt.Sprintf(" [message %d]", e.Message+1)
			}
			WriteWrapped(w, "  - ", "    ", text)
		}
	}
	if len(d.Checks) > 0 {
		w.WriteString("Check next:\n")
		for _, c := range d.Checks {
			WriteWrapped(w, "  - ", "    ", c)
		}
	}
}

// WriteWrapped writes text after first, continuing lines after indent, at most 80
// columns unless a single word is longer.
func WriteWrapped(w io.StringWriter, first, indent, text string) {
	const width = 80
	line := first
	fresh := true
	for _, word := range strings.Fields(text) {
		if !fresh && len(line)+1+len(word) > width {
			w.WriteString(line + "\n")
			line, fresh = indent, true
		}
		if !fresh {
			line += " "
		}
		line += word
		fresh = false
	}
	w.WriteString(line + "\n")
}
