package diag

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// WriteMermaid writes the ladder as a Mermaid sequenceDiagram, which GitHub and many
// Markdown viewers draw as a picture. Requests are solid arrows, responses dashed,
// retransmissions open-headed ("-)"), decisions notes over the siplens column. Columns
// use their IDs as names and their labels as aliases, since addresses hold colons.
func (l *Ladder) WriteMermaid(w io.Writer) error {
	if err := l.valid(); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	bw.WriteString("sequenceDiagram\n")
	for _, p := range l.Participants {
		fmt.Fprintf(bw, "    participant %s as %s\n", p.ID, mermaidText(p.Label))
	}
	for _, r := range l.rows() {
		if a := r.arrow; a != nil {
			arrow := "->>"
			switch {
			case a.Request && a.Retransmission:
				arrow = "-)"
			case !a.Request && a.Retransmission:
				arrow = "--)"
			case !a.Request:
				arrow = "-->>"
			}
			fmt.Fprintf(bw, "    %s%s%s: %s %s\n", l.Participants[a.From].ID, arrow, l.Participants[a.To].ID,
				offset(a.Offset), mermaidText(arrowText(*a)))
			continue
		}
		n := r.note
		fmt.Fprintf(bw, "    Note over %s: %s\n", l.Participants[n.Over].ID, mermaidText(n.Text))
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write Mermaid ladder of %s: %w", l.CallID, err)
	}
	return nil
}

// mermaidText escapes what Mermaid would read as syntax: ';' ends a statement, '#'
// starts an entity code, '<' and '>' are taken as HTML, and a line break ends the text.
// Mermaid's entity codes (#59; and the like) stand for the characters instead.
var mermaidEscaper = strings.NewReplacer(
	"#", "#35;", ";", "#59;", "<", "#lt;", ">", "#gt;", "\r", " ", "\n", " ", "%%", "#37;#37;",
)

func mermaidText(s string) string { return mermaidEscaper.Replace(s) }
