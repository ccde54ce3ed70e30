package codes

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// lineWidth is where WriteText and WriteComparison wrap prose, so the output
// reads well in an 80-column terminal.
const lineWidth = 78

// WriteText writes info as a readable block for the CLI: the status line,
// class, defining RFC, meaning, causes and checks as bullets, and the retry
// advice.
func WriteText(w io.Writer, info Info) error {
	p := &printer{w: w}
	p.info(info)
	return p.err
}

// WriteComparison writes a and b one after the other, then the paragraph
// that explains how they differ.
func WriteComparison(w io.Writer, a, b Info) error {
	p := &printer{w: w}
	p.info(a)
	p.line(strings.Repeat("-", lineWidth))
	p.line("")
	p.info(b)
	p.line(strings.Repeat("=", lineWidth))
	p.line("")
	p.section(fmt.Sprintf("Difference between %d and %d", a.Code, b.Code), Difference(a.Code, b.Code))
	return p.err
}

// WriteTable writes every registered code on one line, in aligned columns:
// code, reason phrase, class and defining RFC.
func WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := &printer{w: tw}
	p.line("CODE\tREASON\tCLASS\tRFC")
	for _, info := range registry {
		p.line(fmt.Sprintf("%d\t%s\t%s\t%s", info.Code, info.Reason, classLabel(info.Class), info.RFC))
	}
	if p.err != nil {
		return p.err
	}
	return tw.Flush()
}

// heading is the first line of a block: the status line for a registered
// code, and a plain note for anything else.
func heading(info Info) string {
	switch {
	case info.Known:
		return info.String()
	case info.Class == 0:
		return fmt.Sprintf("%d (not a valid SIP response code)", info.Code)
	default:
		return fmt.Sprintf("%d (not in the IANA registry)", info.Code)
	}
}

// classLabel is the class as shown to people, e.g. "4xx Client error".
func classLabel(class int) string {
	if class < 1 || class > 6 {
		return ClassName(class)
	}
	return fmt.Sprintf("%dxx %s", class, ClassName(class))
}

// printer writes lines and remembers the first error, so the render
// functions read as a list of what to print instead of a list of error
// checks.
type printer struct {
	w   io.Writer
	err error
}

// info writes the block WriteText describes.
func (p *printer) info(info Info) {
	p.line(heading(info))
	p.line("Class:   " + classLabel(info.Class))
	p.line("Defined: " + info.RFC)
	p.line("")
	p.section("Meaning", info.Meaning)
	p.bullets("Typical causes", info.Causes)
	p.bullets("What to check", info.Checks)
	p.section("Retry", info.Retry)
}

func (p *printer) line(s string) {
	if p.err != nil {
		return
	}
	_, p.err = io.WriteString(p.w, s+"\n")
}

// section writes a titled paragraph, wrapped and indented, then a blank line.
func (p *printer) section(title, text string) {
	p.line(title + ":")
	for _, l := range wrap(text, lineWidth-2) {
		p.line("  " + l)
	}
	p.line("")
}

// bullets writes a titled list, each item wrapped with its continuation
// lines aligned under the item's first word, then a blank line.
func (p *printer) bullets(title string, items []string) {
	p.line(title + ":")
	for _, item := range items {
		for i, l := range wrap(item, lineWidth-4) {
			if i == 0 {
				p.line("  - " + l)
			} else {
				p.line("    " + l)
			}
		}
	}
	p.line("")
}

// wrap breaks text into lines of at most width characters at spaces. A word
// longer than width gets a line of its own rather than being split.
func wrap(text string, width int) []string {
	words := strings.Fields(text)
	if len(words) == 0 {
		return nil
	}
	var lines []string
	current := words[0]
	for _, word := range words[1:] {
		if len([]rune(current))+1+len([]rune(word)) > width {
			lines = append(lines, current)
			current = word
			continue
		}
		current += " " + word
	}
	return append(lines, current)
}
