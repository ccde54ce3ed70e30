package e2e

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/siplens/siplens/diag"
	"github.com/siplens/siplens/trace"
)

var update = flag.Bool("update", false, "rewrite docs/diagnoses.md from the calls of TestDiagnosisExamples")

const examplesDoc = "../docs/diagnoses.md"

const examplesIntro = `# What siplens says about a call: one real example per cause

Each section below is one call made through a running siplens by real SIP software
(SIPp scenarios, the ` + "`siplens call`" + ` phone, or hand-made datagrams on the wire),
and what ` + "`siplens show CALL-ID`" + ` printed for it: the diagnosis, and for a few calls the
ladder too. The test ` + "`TestDiagnosisExamples`" + ` (e2e/diagnosis_examples_test.go) makes
every call again and compares; ` + "`go test ./e2e -run TestDiagnosisExamples -update`" + `
rewrites this file. What changes from run to run is rewritten: the Call-ID, the ports
(siplens listens on 45060, the other parties get 45061, 45062... in order of appearance),
and the clock (the first message of a ladder is at 12:00:00.000). Durations are real; the
comparison allows them to differ.
`

// TestDiagnosisExamples runs one real call per cause of diagnosisCases, renders what
// `siplens show` prints for it (the diagnosis, and the ladder for some), and compares
// the whole with docs/diagnoses.md.
func TestDiagnosisExamples(t *testing.T) {
	cases := diagnosisCases()
	sections := make([]string, len(cases))
	var docCases []diagCase
	var index []int
	for i, c := range cases {
		if !c.noDoc {
			docCases, index = append(docCases, c), append(index, i)
		}
	}
	forEachCase(t, docCases, func(t *testing.T, i int, c diagCase) {
		srv, call := c.run(t)
		d, text := render(t, call)
		c.checkDiagnosis(t, d, text)
		sections[index[i]] = section(t, c, srv, call, d)
	})
	if t.Failed() {
		return
	}
	var doc strings.Builder
	doc.WriteString(examplesIntro)
	all := true
	for i, s := range sections {
		if s != "" {
			doc.WriteString("\n" + s)
		} else if !cases[i].noDoc {
			all = false // left out by -run
		}
	}
	got := doc.String()
	if *update {
		if !all {
			t.Fatal("-update needs every case: run it without selecting subtests")
		}
		if err := os.WriteFile(examplesDoc, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(examplesDoc)
	if err != nil {
		t.Fatalf("%v (make it with: go test ./e2e -run TestDiagnosisExamples -update)", err)
	}
	want := string(b)
	if !all {
		// Some cases were left out: compare those that ran with their sections.
		var parts []string
		for _, s := range sections {
			if s != "" {
				parts = append(parts, s)
			}
		}
		got = strings.Join(parts, "\n")
		want = strings.Join(wantSections(want, parts), "\n")
	}
	if g, w := comparable(got), comparable(want); g != w {
		i := 0
		for i < min(len(g), len(w)) && g[i] == w[i] {
			i++
		}
		t.Errorf("%s differs from the calls made now (rewrite it with -update if the change is intended):\n got: ...%s...\nwant: ...%s...",
			filepath.Base(examplesDoc), excerpt(g, i), excerpt(w, i))
		// (Outside t.TempDir, which goes with the test: this file is for reading after it.)
		if f, err := os.CreateTemp("", "diagnoses-*.md"); err == nil {
			f.WriteString(doc.String())
			f.Close()
			t.Logf("the document as it would be now: %s", f.Name())
		}
	}
}

// wantSections returns the document's sections with the headings of got, in that order.
func wantSections(doc string, got []string) []string {
	byHeading := map[string]string{}
	for _, part := range strings.Split(doc, "\n## ")[1:] {
		heading, _, _ := strings.Cut(part, "\n")
		byHeading[heading] = "## " + part
	}
	var out []string
	for _, g := range got {
		heading, _, _ := strings.Cut(strings.TrimPrefix(g, "## "), "\n")
		out = append(out, byHeading[heading])
	}
	return out
}

// section is one cause of the document: its heading, what the flow was, and the output
// of `siplens show` for the call, made stable.
func section(t *testing.T, c diagCase, srv *testServer, call *trace.Call, d diag.Diagnosis) string {
	t.Helper()
	// What `siplens show CALL-ID` prints: the diagnosis, a blank line, the ladder. (The
	// admin API builds both with these functions, the CLI writes them with these.)
	var out bytes.Buffer
	if err := d.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	if c.ladder {
		out.WriteString("\n")
		if err := diag.BuildLadder(call, diag.LadderOptions{}).WriteText(&out); err != nil {
			t.Fatal(err)
		}
	}
	text := stable(out.String(), call.CallID, srv.Port)
	return fmt.Sprintf("## %s\n\n%s\n\n```\n$ siplens show CALL-ID\n%s```\n", c.name, c.flow, text)
}

var (
	addrPort  = regexp.MustCompile(`127\.0\.0\.1:(\d+)`)
	mediaPort = regexp.MustCompile(`\(port (\d+)\)`)
	clock     = regexp.MustCompile(`\b(\d\d):(\d\d):(\d\d)(\.\d\d\d)?\b`)
)

// stable rewrites what differs from run to run: the Call-ID, the ports (the server's
// becomes 45060, the others 45061, 45062... in order of appearance; always five digits,
// so the ladder's columns stay aligned) and the wall clock (shifted so that the first
// time shown is 12:00:00.000).
func stable(s, callID string, serverPort int) string {
	s = strings.ReplaceAll(s, callID, "CALL-ID")
	ports := map[string]string{strconv.Itoa(serverPort): "45060"}
	next := 45061
	rename := func(p string) string {
		if r, ok := ports[p]; ok {
			return r
		}
		r := strconv.Itoa(next)
		next++
		ports[p] = r
		return r
	}
	s = addrPort.ReplaceAllStringFunc(s, func(m string) string { return "127.0.0.1:" + rename(addrPort.FindStringSubmatch(m)[1]) })
	s = mediaPort.ReplaceAllStringFunc(s, func(m string) string { return "(port " + rename(mediaPort.FindStringSubmatch(m)[1]) + ")" })
	var base time.Duration = -1
	noon := 12 * time.Hour
	return clock.ReplaceAllStringFunc(s, func(m string) string {
		p := clock.FindStringSubmatch(m)
		h, _ := strconv.Atoi(p[1])
		mi, _ := strconv.Atoi(p[2])
		sec, _ := strconv.Atoi(p[3])
		at := time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(sec)*time.Second
		if p[4] != "" {
			ms, _ := strconv.Atoi(p[4][1:])
			at += time.Duration(ms) * time.Millisecond
		}
		if base < 0 {
			base = at
		}
		shifted := noon + at - base
		out := fmt.Sprintf("%02d:%02d:%02d", int(shifted.Hours())%24, int(shifted.Minutes())%60, int(shifted.Seconds())%60)
		if p[4] != "" {
			out += fmt.Sprintf(".%03d", shifted.Milliseconds()%1000)
		}
		return out
	})
}

var (
	duration = regexp.MustCompile(`\b\d+(\.\d+)? (ms|s)\b`)
	offsetAt = regexp.MustCompile(`\+\d+\.\d\d\d\b`)
	clockAt  = regexp.MustCompile(`\b\d\d:\d\d:\d\d(\.\d\d\d)?\b`)
	msgRef   = regexp.MustCompile(`\[message\s+\d+\]`)
)

// comparable masks what is real but may vary between two runs of the same calls: the
// durations and the times, and the numbers of the messages the evidence points to
// (messages of the same millisecond, a relayed 180 and the INVITE's 100 say, may be
// recorded in either order). The wrapping of the text may move with them, so words are
// compared, not lines; a ladder's rows are compared as a set, for the same reason.
func comparable(s string) string {
	s = msgRef.ReplaceAllString(s, "[message N]")
	s = duration.ReplaceAllString(s, "D $2")
	s = offsetAt.ReplaceAllString(s, "+T")
	s = clockAt.ReplaceAllString(s, "T")
	var out, rows []string
	inLadder := false
	for _, line := range strings.Split(s, "\n") {
		switch {
		case strings.HasPrefix(line, "Call-ID: "):
			inLadder = true
		case inLadder && line == "```":
			slices.Sort(rows)
			out = append(out, rows...)
			rows, inLadder = nil, false
		case inLadder:
			rows = append(rows, strings.Join(strings.Fields(line), " "))
			continue
		}
		out = append(out, line)
	}
	return strings.Join(strings.Fields(strings.Join(out, "\n")), " ")
}

// excerpt is s around byte i.
func excerpt(s string, i int) string {
	return s[max(0, i-80):min(len(s), i+80)]
}
