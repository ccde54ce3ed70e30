package codes

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the current output")

func TestGoldenOutput(t *testing.T) {
	tests := []struct {
		golden string
		render func(*bytes.Buffer) error
	}{
		{"text_480.golden", func(b *bytes.Buffer) error { return WriteText(b, Lookup(480)) }},
		{"text_499.golden", func(b *bytes.Buffer) error { return WriteText(b, Lookup(499)) }},
		{"comparison_480_486.golden", func(b *bytes.Buffer) error { return WriteComparison(b, Lookup(480), Lookup(486)) }},
		{"table.golden", func(b *bytes.Buffer) error { return WriteTable(b) }},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			var got bytes.Buffer
			if err := tt.render(&got); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./codes -update to create it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("output differs from %s (run go test ./codes -update if the change is intended)\ngot:\n%s", path, got.String())
			}
		})
	}
}

func TestWriteTextFitsTheTerminal(t *testing.T) {
	codes := append(ianaCodes, 499, 700)
	for _, code := range codes {
		var b bytes.Buffer
		if err := WriteText(&b, Lookup(code)); err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(b.String(), "\n") {
			if n := utf8.RuneCountInString(line); n > lineWidth && strings.Contains(strings.TrimSpace(line), " ") {
				t.Errorf("%d: line of %d characters: %q", code, n, line)
			}
		}
	}
}

func TestWriteTableHasALinePerCode(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != len(ianaCodes)+1 {
		t.Fatalf("table has %d lines, want a header and %d codes", len(lines), len(ianaCodes))
	}
	for i, code := range ianaCodes {
		info := Lookup(code)
		line := lines[i+1]
		if !strings.HasPrefix(line, strconv.Itoa(code)+" ") || !strings.Contains(line, info.Reason) || !strings.HasSuffix(line, info.RFC) {
			t.Errorf("line %d = %q, want code %d, %q and %q", i+1, line, code, info.Reason, info.RFC)
		}
	}
}

// failingWriter fails after a few writes, to check that the writers report
// errors instead of dropping them.
type failingWriter struct{ left int }

var errWrite = errors.New("write failed")

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.left == 0 {
		return 0, errWrite
	}
	w.left--
	return len(p), nil
}

func TestWritersReportErrors(t *testing.T) {
	if err := WriteText(&failingWriter{left: 3}, Lookup(480)); !errors.Is(err, errWrite) {
		t.Errorf("WriteText error = %v", err)
	}
	if err := WriteComparison(&failingWriter{left: 30}, Lookup(480), Lookup(486)); !errors.Is(err, errWrite) {
		t.Errorf("WriteComparison error = %v", err)
	}
	if err := WriteTable(&failingWriter{}); !errors.Is(err, errWrite) {
		t.Errorf("WriteTable error = %v", err)
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		text  string
		width int
		want  []string
	}{
		{"", 10, nil},
		{"one two three", 7, []string{"one two", "three"}},
		{"a verylongwordhere b", 5, []string{"a", "verylongwordhere", "b"}},
		{"  spaced   out  ", 20, []string{"spaced out"}},
	}
	for _, tt := range tests {
		got := wrap(tt.text, tt.width)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
			t.Errorf("wrap(%q, %d) = %q, want %q", tt.text, tt.width, got, tt.want)
		}
	}
}
