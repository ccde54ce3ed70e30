package diag

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// WriteText draws the ladder for a terminal, in the spirit of sngrep's flow view: a
// column per host, an arrow per message with its method or code, the time of each row
// (wall clock and seconds since the first), retransmissions marked "(rtx)", and
// siplens' decisions on lines of their own after the siplens column. Plain ASCII, so it
// survives any terminal, log or e-mail.
func (l *Ladder) WriteText(w io.Writer) error {
	if err := l.valid(); err != nil {
		return err
	}
	const timeWidth = 22 // "12:00:00.000 +12.345  "
	width := 24
	for _, a := range l.Arrows {
		width = max(width, textLabel(a)+10)
	}
	for _, p := range l.Participants {
		width = max(width, utf8.RuneCountInString(p.Label)+4)
	}
	centre := func(col int) int { return timeWidth + width/2 + col*width }
	total := centre(len(l.Participants)-1) + width/2
	if len(l.Participants) == 0 {
		total = timeWidth
	}

	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "Call-ID: %s\n", l.CallID)
	header := blank(total)
	for i, p := range l.Participants {
		put(header, centre(i)-utf8.RuneCountInString(p.Label)/2, p.Label)
	}
	writeLine(bw, header)
	lifelines := func() []rune {
		line := blank(total)
		for i := range l.Participants {
			line[centre(i)] = '|'
		}
		return line
	}
	writeLine(bw, lifelines())
	retransmissions := false
	for _, r := range l.rows() {
		line := lifelines()
		if a := r.arrow; a != nil {
			put(line, 0, a.Time.UTC().Format("15:04:05.000")+" "+offset(a.Offset))
			if a.From == a.To {
				// A message to itself: a short loop to the right of its lifeline.
				line = append(line[:centre(a.From)+1], []rune("--+ "+arrowText(*a))...)
			} else {
				drawArrow(line, centre(a.From), centre(a.To), arrowText(*a))
			}
			retransmissions = retransmissions || a.Retransmission
		} else {
			n := r.note
			put(line, 0, n.Time.UTC().Format("15:04:05.000")+" "+offset(n.Offset))
			line = line[:centre(n.Over)+1]
			line = append(line, []rune(" * "+n.Text)...)
		}
		writeLine(bw, line)
	}
	if retransmissions {
		fmt.Fprintln(bw, "(rtx) marks a retransmission: the same message sent again.")
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write ladder of %s: %w", l.CallID, err)
	}
	return nil
}

func arrowText(a Arrow) string {
	if a.Retransmission {
		return a.Label + " (rtx)"
	}
	return a.Label
}

func textLabel(a Arrow) int { return utf8.RuneCountInString(arrowText(a)) }

func blank(n int) []rune {
	line := make([]rune, n)
	for i := range line {
		line[i] = ' '
	}
	return line
}

// put writes s into line from column at, growing the line if needed.
func put(line []rune, at int, s string) {
	for i, r := range []rune(s) {
		if at+i >= 0 && at+i < len(line) {
			line[at+i] = r
		}
	}
}

// drawArrow draws "|----label---->|" between two lifelines (or the mirror image).
func drawArrow(line []rune, from, to int, label string) {
	left, right := min(from, to), max(from, to)
	for x := left + 1; x < right; x++ {
		line[x] = '-'
	}
	if to > from {
		line[right-1] = '>'
	} else {
		line[left+1] = '<'
	}
	n := utf8.RuneCountInString(label)
	start := left + (right-left-n)/2
	put(line, start-1, " "+label+" ")
}

func writeLine(w *bufio.Writer, line []rune) {
	w.WriteString(strings.TrimRight(string(line), " "))
	w.WriteByte('\n')
}
