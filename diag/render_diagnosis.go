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
	final := "none"
	if d.FinalCode != 0 {
		final = fmt.Sprintf("%d %s", d.FinalCode, firstNonEmpty(d.Phrase, codes.Lookup(d.FinalCode).Reason))
	}
	fmt.Fprintf(bw, "Outcome:  %s (%s)\n", d.Outcome.Text(), final)
	writeWrapped(bw, "Producer: ", "          ", d.Producer.String())
	writeWrapped(bw, "Cause:    ", "          ", d.Cause)
	if len(d.Evidence) > 0 {
		bw.WriteString("Evidence:\n")
		for _, e := range d.Evidence {
			text := e.Text
			if e.Message >= 0 {
				text += fmt.Sprintf(" [message %d]", e.Message+1)
			}
			writeWrapped(bw, "  - ", "    ", text)
		}
	}
	if len(d.Checks) > 0 {
		bw.WriteString("Check next:\n")
		for _, c := range d.Checks {
			writeWrapped(bw, "  - ", "    ", c)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write diagnosis of %s: %w", d.CallID, err)
	}
	return nil
}

// writeWrapped writes text after first, continuing lines after indent, at most 80
// columns unless a single word is longer.
func writeWrapped(w *bufio.Writer, first, indent, text string) {
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
