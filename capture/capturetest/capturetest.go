// Package capturetest holds what tests of the capture readers share: Wireshark's counts
// of a capture file, to hold ours against.
package capturetest

import (
	"bufio"
	"bytes"
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/siplens/siplens/siptest"
)

// Stats are SIP counts as `tshark -z sip,stat` prints them: requests by method and
// responses by code.
type Stats struct {
	Requests  map[string]int
	Responses map[int]int
}

// Equal says whether both count the same.
func (s Stats) Equal(o Stats) bool {
	return mapsEqual(s.Requests, o.Requests) && mapsEqual(s.Responses, o.Responses)
}

func mapsEqual[K comparable](a, b map[K]int) bool {
	n := 0
	for k, v := range a {
		if v == 0 {
			continue
		}
		n++
		if b[k] != v {
			return false
		}
	}
	for _, v := range b {
		if v != 0 {
			n--
		}
	}
	return n == 0
}

var (
	// "  SIP 200 OK              :     2 Packets"
	responseLine = regexp.MustCompile(`^\s*SIP (\d{3})\b.*:\s*(\d+) Packets`)
	// "  INVITE          :     3 Packets"
	requestLine = regexp.MustCompile(`^\s*(\S+)\s*:\s*(\d+) Packets`)
)

// Tshark runs `tshark -r file -q -z sip,stat` and reads its table. The test fails if
// tshark is missing or fails.
func Tshark(t testing.TB, file string) Stats {
	t.Helper()
	tshark := siptest.RequireTool(t, "tshark")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tshark, "-n", "-r", file, "-q", "-z", "sip,stat")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark -r %s -z sip,stat: %v\n%s", file, err, stderr.String())
	}
	return ParseTshark(string(out))
}

// ParseTshark reads the table of `tshark -z sip,stat`.
func ParseTshark(out string) Stats {
	s := Stats{Requests: map[string]int{}, Responses: map[int]int{}}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.Contains(line, "SIP Statistics"):
			continue
		case strings.HasPrefix(line, "* SIP Status Codes"):
			section = "responses"
			continue
		case strings.HasPrefix(line, "* List of SIP Request methods"):
			section = "requests"
			continue
		}
		if m := responseLine.FindStringSubmatch(line); m != nil && section == "responses" {
			code, _ := strconv.Atoi(m[1])
			n, _ := strconv.Atoi(m[2])
			s.Responses[code] += n
		} else if m := requestLine.FindStringSubmatch(line); m != nil && section == "requests" {
			n, _ := strconv.Atoi(m[2])
			s.Requests[m[1]] += n
		}
	}
	return s
}
