package diag

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// WriteSVG draws the ladder as a self-contained SVG picture: no scripts, no external
// fonts or styles. One column per host with its label on top, an arrow per message with
// its label above and its time at the left, retransmissions dashed, decisions in yellow
// boxes next to the siplens column.
func (l *Ladder) WriteSVG(w io.Writer) error {
	if err := l.valid(); err != nil {
		return err
	}
	const (
		charWidth = 7   // monospace 12 px
		left      = 150 // the time column
		top       = 50  // below the column labels
		rowHeight = 26
		margin    = 20
	)
	colWidth := 170
	for _, a := range l.Arrows {
		colWidth = max(colWidth, textLabel(a)*charWidth+40)
	}
	for _, p := range l.Participants {
		colWidth = max(colWidth, utf8.RuneCountInString(p.Label)*charWidth+30)
	}
	x := func(col int) int { return left + colWidth/2 + col*colWidth }
	rows := l.rows()
	noteRight := 0
	for _, r := range rows {
		if n := r.note; n != nil {
			noteRight = max(noteRight, x(n.Over)+6+noteWidth(n.Text))
		}
	}
	width := max(left+len(l.Participants)*colWidth, noteRight) + margin
	height := top + len(rows)*rowHeight + margin + 10

	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="monospace" font-size="12">`+"\n",
		width, height, width, height)
	fmt.Fprintf(bw, "<title>SIP ladder of call %s</title>\n", xmlText(l.CallID))
	bw.WriteString(`<defs><marker id="head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>` + "\n")
	bw.WriteString(`<style>.life{stroke:#999;stroke-width:1}.req{stroke:#1f4e9c;stroke-width:1.5}.res{stroke:#2d7a2d;stroke-width:1.5}.rtx{stroke-dasharray:5,3}.host{fill:#eef2f8;stroke:#556}.self{fill:#dbe8d4;stroke:#556}.note{fill:#fff7c2;stroke:#c9b458}.time{fill:#666}</style>` + "\n")
	fmt.Fprintf(bw, `<rect x="0" y="0" width="%d" height="%d" fill="#fff"/>`+"\n", width, height)
	bottom := height - margin
	for i, p := range l.Participants {
		class := "host"
		if p.Self {
			class = "self"
		}
		boxWidth := colWidth - 20
		fmt.Fprintf(bw, `<line class="life" x1="%d" y1="%d" x2="%d" y2="%d"/>`+"\n", x(i), top-10, x(i), bottom)
		fmt.Fprintf(bw, `<rect class="%s" x="%d" y="8" width="%d" height="26" rx="4"/>`+"\n", class, x(i)-boxWidth/2, boxWidth)
		fmt.Fprintf(bw, `<text x="%d" y="25" text-anchor="middle">%s</text>`+"\n", x(i), xmlText(p.Label))
	}
	for k, r := range rows {
		y := top + k*rowHeight + rowHeight/2
		if a := r.arrow; a != nil {
			fmt.Fprintf(bw, `<text class="time" x="8" y="%d">%s %s</text>`+"\n", y+4, a.Time.UTC().Format("15:04:05.000"), offset(a.Offset))
			class := "res"
			if a.Request {
				class = "req"
			}
			if a.Retransmission {
				class += " rtx"
			}
			x1, x2 := x(a.From), x(a.To)
			if x1 == x2 {
				fmt.Fprintf(bw, `<path class="%s" d="M%d,%d h30 v8 h-30" fill="none" marker-end="url(#head)"/>`+"\n", class, x1, y-4)
				fmt.Fprintf(bw, `<text x="%d" y="%d">%s</text>`+"\n", x1+36, y+4, xmlText(arrowText(*a)))
				continue
			}
			fmt.Fprintf(bw, `<line class="%s" x1="%d" y1="%d" x2="%d" y2="%d" marker-end="url(#head)"/>`+"\n", class, x1, y+4, x2, y+4)
			fmt.Fprintf(bw, `<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", (x1+x2)/2, y, xmlText(arrowText(*a)))
			continue
		}
		n := r.note
		fmt.Fprintf(bw, `<text class="time" x="8" y="%d">%s %s</text>`+"\n", y+4, n.Time.UTC().Format("15:04:05.000"), offset(n.Offset))
		fmt.Fprintf(bw, `<rect class="note" x="%d" y="%d" width="%d" height="18" rx="3"/>`+"\n", x(n.Over)+6, y-9, noteWidth(n.Text))
		fmt.Fprintf(bw, `<text x="%d" y="%d">%s</text>`+"\n", x(n.Over)+12, y+4, xmlText(n.Text))
	}
	bw.WriteString("</svg>\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write SVG ladder of %s: %w", l.CallID, err)
	}
	return nil
}

// noteWidth is the width of a note's box: a monospace 12 px character is about 7.3 px
// wide, and the box leaves 6 px on each side.
func noteWidth(text string) int {
	return utf8.RuneCountInString(text)*15/2 + 12
}

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")

// xmlText escapes text for SVG and drops the control characters XML does not allow.
func xmlText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0xFFFE || r == 0xFFFF {
			return ' '
		}
		return r
	}, s)
	return xmlEscaper.Replace(s)
}
