package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/siplens/siplens/analyze"
	"github.com/siplens/siplens/capture"
	"github.com/siplens/siplens/diag"
)

const analyzeSynopsis = `analyze FILE... [--call CALL-ID [--format text|mermaid|svg|json]] [--failed] [--code N] [--from USER] [--to USER] [--json] [--stats] [--name IP[:PORT]=LABEL ...]

Reads SIP from captures and logs, offline, and explains every call as the live server
does: pcap and pcapng (Ethernet, Linux cooked SLL/SLL2, loopback, raw IP; IPv4 and IPv6;
IP fragments and TCP streams reassembled; SIP on any port, HEP3 inside UDP), files of
HEP3 packets, sngrep text exports, siplens' trace export (siplens show --format trace);
gzip-compressed or not. Damaged input is counted and reported, never fatal.

Without --call it prints a summary; --failed, --code, --from and --to also list the
matching calls with their diagnosis.`

func runAnalyze(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("analyze", analyzeSynopsis, stderr)
	callID := fs.String("call", "", "explain one call: its diagnosis and ladder")
	format := fs.String("format", "text", "with --call: text (diagnosis and ladder), or the ladder alone as mermaid, svg or json")
	failed := fs.Bool("failed", false, "list the calls that failed (no answer, or a final answer of 300 or more other than 487)")
	code := fs.Int("code", 0, "list the calls whose final answer has this code")
	from := fs.String("from", "", "list the calls whose caller (From) contains this text")
	to := fs.String("to", "", "list the calls whose callee (To) contains this text")
	asJSON := fs.Bool("json", false, "write everything as JSON: the summary and the calls (all of them, or those the filters select)")
	stats := fs.Bool("stats", false, "only count requests by method and responses by code, as tshark -z sip,stat does")
	var names stringList
	fs.Var(&names, "name", "label a host: 10.0.0.5=pbx or 10.0.0.5:5060=pbx (repeatable)")
	verbose := fs.Bool("verbose", false, "also draw the decisions that only repeat an arrow (traces with siplens' decisions)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	linger := fs.Duration("linger", analyze.DefaultQuiet, "capture time a call stays open after its last transaction, for late retransmissions")
	pos, status, ok := parseInterleaved(fs, args)
	if !ok {
		return status
	}
	if len(pos) == 0 {
		fs.Usage()
		return 2
	}
	ladderFormats := []string{"text", "mermaid", "svg", "json"}
	if !slices.Contains(ladderFormats, *format) {
		return usageError(fs, stderr, "--format %q: give one of %s", *format, strings.Join(ladderFormats, ", "))
	}
	if *format != "text" && *callID == "" {
		return usageError(fs, stderr, "--format draws one call's ladder: give --call CALL-ID")
	}
	hostNames, err := diag.ParseNames(names)
	if err != nil {
		return usageError(fs, stderr, "--name: %v", err)
	}
	filter := callFilter{failed: *failed, code: *code, from: strings.ToLower(*from), to: strings.ToLower(*to)}
	if *stats && (*callID != "" || !filter.none()) {
		return usageError(fs, stderr, "--stats only counts messages: it takes no --call, --failed, --code, --from or --to")
	}

	out := bufio.NewWriter(stdout)
	defer out.Flush()
	var (
		found    *analyze.Call
		listed   int
		jsonOpen bool
		writeErr error
	)
	writeJSON := func(v any) {
		b, err := json.Marshal(v)
		if err != nil {
			writeErr = err
			return
		}
		if !jsonOpen {
			out.WriteString(`{"calls":[`)
			jsonOpen = true
		} else {
			out.WriteString(",")
		}
		out.Write(b)
		out.WriteString("\n")
	}
	opts := analyze.Options{Quiet: *linger, CallID: *callID, Names: hostNames, StatsOnly: *stats}
	opts.OnCall = func(c *analyze.Call) {
		switch {
		case *callID != "":
			if c.ID == *callID && found == nil {
				found = c
			}
		case *asJSON:
			if filter.none() || filter.match(c) {
				writeJSON(c.JSON(false, hostNames, *verbose))
			}
		case !filter.none() && filter.match(c):
			if listed > 0 {
				out.WriteString("\n")
			}
			listed++
			if err := c.WriteText(out); err != nil {
				writeErr = err
			}
		}
	}
	an := analyze.New(opts)
	packets := 0
	problems := capture.Problems{}
	for _, file := range pos {
		n, err := readInto(an, file, problems, stderr, *quiet)
		packets += n
		if err != nil {
			return errorf(stderr, "%v", err)
		}
	}
	an.Close()
	sum := an.Summary()
	sum.Finish(packets, problems)
	if writeErr != nil {
		return errorf(stderr, "%v", writeErr)
	}

	switch {
	case *stats && *asJSON:
		b, _ := json.Marshal(struct {
			Messages     int              `json:"messages"`
			Requests     map[string]int   `json:"requests"`
			Responses    map[int]int      `json:"responses"`
			HEPRequests  map[string]int   `json:"hep_requests,omitempty"`
			HEPResponses map[int]int      `json:"hep_responses,omitempty"`
			Problems     capture.Problems `json:"problems"`
		}{sum.Messages, sum.Requests, sum.Responses, sum.HEPRequests, sum.HEPResponses, sum.Problems})
		out.Write(append(b, '\n'))
	case *stats:
		if err := sum.WriteStats(out); err != nil {
			return errorf(stderr, "%v", err)
		}
	case *callID != "":
		if found == nil {
			out.Flush()
			return errorf(stderr, "no call with Call-ID %q in %s (%d SIP messages read)", *callID, strings.Join(pos, ", "), sum.Messages)
		}
		if err := writeCall(out, found, *format, *asJSON, hostNames, *verbose); err != nil {
			return errorf(stderr, "%v", err)
		}
	case *asJSON:
		if !jsonOpen {
			out.WriteString(`{"calls":[`)
		}
		b, err := json.Marshal(sum)
		if err != nil {
			return errorf(stderr, "%v", err)
		}
		out.WriteString(`],"summary":`)
		out.Write(b)
		out.WriteString("}\n")
	default:
		if listed > 0 {
			out.WriteString("\n")
		} else if !filter.none() {
			out.WriteString("No call matches the filters.\n\n")
		}
		if err := sum.WriteText(out); err != nil {
			return errorf(stderr, "%v", err)
		}
		if filter.none() && sum.Calls > 0 {
			out.WriteString("\nList calls with --failed, --code N, --from USER, --to USER; explain one with --call CALL-ID.\n")
		}
	}
	if err := out.Flush(); err != nil {
		return errorf(stderr, "%v", err)
	}
	return 0
}

func writeCall(w io.Writer, c *analyze.Call, format string, asJSON bool, names map[string]string, verbose bool) error {
	if asJSON {
		b, err := json.MarshalIndent(c.JSON(true, names, verbose), "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	}
	l := c.Ladder(names, verbose)
	switch format {
	case "mermaid":
		return l.WriteMermaid(w)
	case "svg":
		return l.WriteSVG(w)
	case "json":
		return l.WriteJSON(w)
	}
	if err := c.WriteText(w); err != nil {
		return err
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return err
	}
	return l.WriteText(w)
}

// callFilter selects the calls to list.
type callFilter struct {
	failed   bool
	code     int
	from, to string
}

func (f callFilter) none() bool { return !f.failed && f.code == 0 && f.from == "" && f.to == "" }

func (f callFilter) match(c *analyze.Call) bool {
	d := &c.Diagnosis
	return (!f.failed || d.Method == "INVITE" && analyze.Failed(d)) &&
		(f.code == 0 || d.FinalCode == f.code) &&
		(f.from == "" || strings.Contains(strings.ToLower(d.From), f.from)) &&
		(f.to == "" || strings.Contains(strings.ToLower(d.To), f.to))
}

// readInto reads one file into the analyzer, with a progress bar on a terminal.
func readInto(an *analyze.Analyzer, path string, problems capture.Problems, stderr io.Writer, quiet bool) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	counted := &countingReader{r: f}
	var bar *progress
	if info, err := f.Stat(); err == nil && !quiet && info.Size() > 4<<20 && isTerminal(stderr) {
		bar = newProgress(stderr, path, info.Size(), counted)
		defer bar.stop()
	}
	rd, err := capture.NewReader(counted)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return rd.Packets, fmt.Errorf("%s: %w", path, err)
		}
		an.Add(rec)
	}
	for k, v := range rd.Problems() {
		problems[k] += v
	}
	return rd.Packets, nil
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// progress draws a bar on stderr from a goroutine that only reads the byte count.
type progress struct {
	done chan struct{}
	over chan struct{}
}

func newProgress(w io.Writer, name string, size int64, c *countingReader) *progress {
	p := &progress{done: make(chan struct{}), over: make(chan struct{})}
	start := time.Now()
	draw := func() {
		n := c.n.Load()
		frac := float64(n) / float64(size)
		frac = min(frac, 1)
		const width = 30
		filled := int(frac * width)
		rate := float64(n) / time.Since(start).Seconds() / (1 << 20)
		fmt.Fprintf(w, "\r%s [%s%s] %3.0f%% %.0f MB/s", name, strings.Repeat("=", filled), strings.Repeat(" ", width-filled), frac*100, rate)
	}
	go func() {
		defer close(p.over)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				draw()
				fmt.Fprintln(w)
				return
			case <-t.C:
				draw()
			}
		}
	}()
	return p
}

func (p *progress) stop() {
	close(p.done)
	<-p.over
}
