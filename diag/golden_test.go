package diag_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/siplens/siplens/diag"
	"github.com/siplens/siplens/trace/tracetest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the current output")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./diag -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test ./diag -update if the change is intended)\ngot:\n%s", path, got)
	}
}

// scenarios are the flows whose diagnosis is kept as a golden file.
var scenarios = []struct {
	name string
	flow func() *tracetest.Flow
}{
	{"404_unknown_user", unknownUser},
	{"480_not_registered", notRegistered},
	{"480_do_not_disturb", doNotDisturb},
	{"486_busy", busy},
	{"603_declined", declined},
	{"600_busy_everywhere", busyEverywhere},
	{"401_wrong_password", func() *tracetest.Flow { return register("401-wrong-password", 401, 401, 401) }},
	{"401_stale_then_ok", staleThenOK},
	{"401_then_ok", func() *tracetest.Flow { return register("401-then-ok", 401, 200) }},
	{"403_locked_out", func() *tracetest.Flow { return register("403-locked", 401, 401, 401, 403) }},
	{"403_acl", aclDenied},
	{"403_relay", relayRefused},
	{"408_timer_c", timerC},
	{"408_never_answered", neverAnswered},
	{"503_rate_limit", rateLimited},
	{"500_from_503", converted503},
	{"487_caller_cancelled", callerCancelled},
	{"302_forwarded", forwarded},
	{"400_missing_cseq", missingCSeq},
	{"483_too_many_hops", tooManyHops},
	{"482_loop", loopDetected},
	{"200_clean", cleanCall},
	{"200_private_address", privateAddress},
	{"200_no_common_codec", noCommonCodec},
	{"200_sendonly_both", bothSendOnly},
	{"200_no_ack", noACK},
}

func TestGoldenDiagnoses(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := diag.Diagnose(sc.flow().Call()).WriteText(&b); err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(b.String(), "\n") {
				if len(line) > 80 && strings.Contains(strings.TrimSpace(line), " ") {
					t.Errorf("line longer than 80 columns: %q", line)
				}
			}
			golden(t, filepath.Join("diagnosis", sc.name+".txt"), b.Bytes())
		})
	}
}

// ladders are drawn in every format.
var ladders = []struct {
	name string
	flow func() *tracetest.Flow
	opts diag.LadderOptions
}{
	{"486_busy", busy, diag.LadderOptions{}},
	{"408_timer_c", timerC, diag.LadderOptions{Names: map[string]string{"127.0.0.1:5080": "alice", "127.0.0.1:5070": "bob"}}},
	{"200_no_ack", noACK, diag.LadderOptions{Self: []string{"127.0.0.1:5060"}, Names: map[string]string{"127.0.0.1:5080": "alice"}}},
	{"600_busy_everywhere", busyEverywhere, diag.LadderOptions{Verbose: true}},
}

func TestGoldenLadders(t *testing.T) {
	for _, lc := range ladders {
		l := diag.BuildLadder(lc.flow().Call(), lc.opts)
		for _, format := range []struct {
			ext   string
			write func(io.Writer) error
		}{
			{"txt", l.WriteText}, {"mmd", l.WriteMermaid}, {"json", l.WriteJSON}, {"svg", l.WriteSVG},
		} {
			t.Run(lc.name+"."+format.ext, func(t *testing.T) {
				var b bytes.Buffer
				if err := format.write(&b); err != nil {
					t.Fatal(err)
				}
				golden(t, filepath.Join("ladder", lc.name+"."+format.ext), b.Bytes())
			})
		}
	}
}

func TestLadderColumnsAndMarks(t *testing.T) {
	l := diag.BuildLadder(noACK().Call(), diag.LadderOptions{Names: map[string]string{"127.0.0.1:5070": "bob"}})
	var labels []string
	for _, p := range l.Participants {
		labels = append(labels, p.Label)
	}
	if !reflect.DeepEqual(labels, []string{"127.0.0.1:5080", "siplens", "bob"}) {
		t.Errorf("columns %q", labels)
	}
	if !l.Participants[1].Self || l.Participants[0].Self {
		t.Error("the siplens column is not marked as self")
	}
	rtx := 0
	for i, a := range l.Arrows {
		if a.Retransmission {
			rtx++
		}
		if a.Message != i {
			t.Errorf("arrow %d points at message %d", i, a.Message)
		}
	}
	if rtx != 18 { // nine copies of the callee's 200, each relayed
		t.Errorf("%d retransmissions marked, want 18", rtx)
	}
}

func TestParseNames(t *testing.T) {
	names, err := diag.ParseNames([]string{"10.0.0.5=pbx", " 10.0.0.6:5060 = gw "})
	if err != nil || names["10.0.0.5"] != "pbx" || names["10.0.0.6:5060"] != "gw" {
		t.Errorf("got %v, %v", names, err)
	}
	for _, bad := range []string{"10.0.0.5", "=pbx", "10.0.0.5="} {
		if _, err := diag.ParseNames([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// mermaidLine is the grammar the writer may use: the header, participants with an
// alias, arrows with text, and notes. Entity codes (#59;) are taken out before matching:
// what is left must hold no character Mermaid reads as syntax.
var (
	mermaidLine   = regexp.MustCompile(`^(sequenceDiagram|    participant p\d+ as [^;#<>]+|    p\d+(->>|-->>|-\)|--\))p\d+: [^;#<>]+|    Note over p\d+: [^;#<>]+)$`)
	mermaidEntity = regexp.MustCompile(`#(\d+|lt|gt|quot);`)
)

func TestMermaidSyntax(t *testing.T) {
	for _, sc := range scenarios {
		l := diag.BuildLadder(sc.flow().Call(), diag.LadderOptions{Verbose: true})
		// Text that Mermaid would read as syntax must come out escaped.
		l.Notes = append(l.Notes, diag.Note{Row: len(l.Arrows) + len(l.Notes), Over: 0, Text: "a; b # <c> \"d\"\nend"})
		var b bytes.Buffer
		if err := l.WriteMermaid(&b); err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
			if bare := mermaidEntity.ReplaceAllString(line, "x"); !mermaidLine.MatchString(bare) {
				t.Errorf("%s: not valid Mermaid: %q", sc.name, line)
			}
		}
	}
}

func TestSVGIsWellFormed(t *testing.T) {
	for _, sc := range scenarios {
		l := diag.BuildLadder(sc.flow().Call(), diag.LadderOptions{})
		l.Notes = append(l.Notes, diag.Note{Row: len(l.Arrows) + len(l.Notes), Over: 0, Text: "<script>&\x01"})
		var b bytes.Buffer
		if err := l.WriteSVG(&b); err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(&b)
		root := ""
		for {
			tok, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: SVG not well-formed: %v", sc.name, err)
			}
			if se, ok := tok.(xml.StartElement); ok {
				if root == "" {
					root = se.Name.Local
				}
				if se.Name.Local == "script" || se.Name.Local == "image" {
					t.Errorf("%s: SVG holds a %s element", sc.name, se.Name.Local)
				}
			}
		}
		if root != "svg" {
			t.Errorf("%s: root element %q", sc.name, root)
		}
	}
}

func TestLadderJSONRoundTrips(t *testing.T) {
	l := diag.BuildLadder(timerC().Call(), diag.LadderOptions{})
	var b bytes.Buffer
	if err := l.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var back diag.Ladder
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, l) {
		t.Errorf("JSON did not round-trip:\n%+v\n%+v", back, *l)
	}
}

func TestRenderersRefuseABrokenLadder(t *testing.T) {
	l := &diag.Ladder{CallID: "x", Participants: []diag.Participant{{ID: "p1", Label: "a"}},
		Arrows: []diag.Arrow{{From: 0, To: 3, Label: "INVITE"}}}
	for _, write := range []func(io.Writer) error{l.WriteText, l.WriteMermaid, l.WriteSVG} {
		if err := write(io.Discard); err == nil {
			t.Error("a ladder with an arrow to a missing column was drawn")
		}
	}
}
